namespace NeuralTangents.Implementations;

/// <summary>
/// One NTK to compute, resolved once before any implementation runs (the arguments Neural Tangents passes to each
/// function of <c>_implementation_to_ntk_fn</c>): f and its parameters, the inputs with x2 resolved
/// (<see cref="X2"/> is x1 when the caller passed null; <see cref="SameInputs"/> then lets an implementation reuse
/// x1's work), the output and its kernel layout, f's output types on each side, the batching of each side (both
/// resolved; the same object when x2 is x1), the memory budget, the structured-derivative rule switches and the compute
/// backend every graph evaluation and contraction of the request runs on (<see cref="ComputeBackend.Current"/> when
/// the requests were made, read once there: implementations never read the ambient backend themselves).
/// </summary>
internal sealed record KernelRequest(
    TracedApply F, Params Parameters, Tensor[] X1, Tensor[] X2, bool SameInputs, int Output, KernelAxes Axes,
    TensorType Out1, TensorType Out2, Batching? Batching1, Batching? Batching2, long Budget, SdRules Rules,
    ComputeBackend Backend)
{
    /// <summary>One request per output of f (x2 = null: x2 = x1), sharing the resolved batching.</summary>
    public static KernelRequest[] ForOutputs(TracedApply f, Params p, Tensor[] x1, Tensor[]? x2, KernelAxes[] axes,
        VmapAxes? vmap, long budget, SdRules rules, ComputeBackend? backend = null)
    {
        var be = backend ?? ComputeBackend.Current;
        var o1 = f.OutputTypes(p, x1.Select(TensorType.Of).ToArray());
        var o2 = x2 is null ? o1 : f.OutputTypes(p, x2.Select(TensorType.Of).ToArray());
        var b1 = Batching.Resolve(vmap, x1, o1);
        var b2 = x2 is null ? b1 : Batching.Resolve(vmap, x2, o2);
        return axes.Select((ax, j) =>
                new KernelRequest(f, p, x1, x2 ?? x1, x2 is null, j, ax, o1[j], o2[j], b1, b2, budget, rules, be))
            .ToArray();
    }

    /// <summary>The output's batch axis on each side (null without vmap axes).</summary>
    public int? OutAxis1 => Batching1?.Out[Output];

    /// <inheritdoc cref="OutAxis1"/>
    public int? OutAxis2 => Batching2?.Out[Output];
}
