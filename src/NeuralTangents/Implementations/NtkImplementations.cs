namespace NeuralTangents.Implementations;

/// <summary>
/// The implementations by <see cref="NtkImplementation"/> value, as Neural Tangents' <c>_implementation_to_ntk_fn</c>:
/// dispatch on the enum is written here once (the kernel job and AUTO's cost model both look methods up here).
/// </summary>
internal static class NtkImplementations
{
    /// <summary>The concrete implementations in enum order (AUTO's candidates).</summary>
    public static IReadOnlyList<INtkImplementation> All { get; } = new INtkImplementation[]
    {
        new Method(NtkImplementation.JacobianContraction, JacobianContraction.Ntk, JacobianContraction.Estimate),
        new Method(NtkImplementation.NtkVectorProducts, NtkVectorProducts.Ntk, NtkVectorProducts.Estimate),
        new Method(NtkImplementation.StructuredDerivatives, StructuredDerivatives.Ntk, StructuredDerivatives.Estimate),
    };

    /// <summary>The implementation of a concrete value (not <see cref="NtkImplementation.Auto"/>).</summary>
    public static INtkImplementation For(NtkImplementation kind) =>
        All.FirstOrDefault(m => m.Kind == kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), $"no NTK implementation {kind}");

    /// <summary>FLOPs (outputs add up) and peak bytes (the largest output's) of one implementation over all outputs.</summary>
    public static (double Flops, double Bytes) Estimate(NtkImplementation kind, IEnumerable<KernelRequest> requests)
    {
        var impl = For(kind);
        double flops = 0, bytes = 0;
        foreach (var r in requests)
        {
            var e = impl.Estimate(r);
            flops += e.Flops; bytes = Math.Max(bytes, e.PeakBytes);
        }
        return (flops, bytes);
    }

    private sealed record Method(NtkImplementation Kind, Func<KernelRequest, Tensor> Compute,
        Func<KernelRequest, (double Flops, double Bytes)> Cost) : INtkImplementation
    {
        public Tensor Ntk(KernelRequest request) => Compute(request);

        public NtkCostEstimate Estimate(KernelRequest request)
        {
            var (flops, bytes) = Cost(request);
            return new NtkCostEstimate(Kind, flops, bytes, bytes <= request.Budget);
        }
    }
}
