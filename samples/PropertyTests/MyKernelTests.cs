using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralTangents;
using NeuralTangents.Testing;
using Xunit;

namespace PropertyTests;

/// <summary>A user's property tests with NeuralTangents.Testing: random Stax networks, and a fixed architecture.</summary>
public class MyKernelTests
{
    // The README's five lines: any small Stax network's NTK and NNGP are PSD.
    [Property(Arbitrary = [typeof(StaxArbitraries)], MaxTest = 30)]
    public Property Ntk_is_psd(NetworkCase net) => KernelProperties.Psd(net, tolerance: 1e-10);

    [Property(Arbitrary = [typeof(StaxArbitraries)], MaxTest = 20)]
    public Property Implementations_agree(NetworkCase net) => KernelProperties.ImplementationsAgree(net);

    // "My" architecture, wide fully connected nets only, against finite differences.
    [Fact]
    public void My_fcn_matches_finite_differences()
    {
        var options = new NetworkGenOptions(MaxHidden: 2, MaxWidth: 8, Convolutional: false);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(8),
            Prop.ForAll(NetworkGen.Arbitrary(options), net => KernelProperties.MatchesFiniteDifferences(net)));
    }

    // A hand-written case: Dense(3),Erf,Dense(2) on x1 (2, 4), x2 = x1, NTK and NNGP over both logits.
    [Fact]
    public void A_fixed_network_is_symmetric_and_psd()
    {
        var net = new NetworkCase([new LayerSpec(LayerKind.Dense, 3, BStd: 0.1), new LayerSpec(LayerKind.Erf), new LayerSpec(LayerKind.Dense, 2)],
            new NeuralTangents.Tensors.Shape(2, 4), Batch2: null, ParamSeed: 0, InputSeed: 0, TraceAxes: [], DiagonalAxes: [], VmapAxes: 0);
        Assert.Equal("Dense(3,b_std=0.1),Erf,Dense(2)", net.Spec);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1), KernelProperties.Symmetric(net).And(KernelProperties.Psd(net)));
    }
}
