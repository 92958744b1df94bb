using FsCheck;

namespace NeuralTangents.Testing;

/// <summary>
/// Registers <see cref="NetworkGen.Arbitrary"/> (default bounds) for FsCheck.Xunit:
/// <c>[Property(Arbitrary = [typeof(StaxArbitraries)])] public Property P(NetworkCase net) => KernelProperties.Psd(net);</c>
/// </summary>
public static class StaxArbitraries
{
    /// <summary>Random small Stax networks with inputs and axes, shrinking to the smallest failing one.</summary>
    public static Arbitrary<NetworkCase> NetworkCase() => NetworkGen.Arbitrary();
}
