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

    /// <summary>
    /// Everything a plan built from types depends on besides f (which memoises it, <see cref="TracedApply.Memo{T}"/>):
    /// parameter names and types, input types, x2 = x1 or not, the output and its kernel axes, the batching, the budget and
    /// the rules. Values and the backend are not in it: plans never read them.
    /// </summary>
    public string Key => string.Join("|", Output, SameInputs, Budget, Rules,
        $"{Axes.Rank}:{string.Join(",", Axes.Trace)}:{string.Join(",", Axes.Diagonal)}",
        Batching1 is null ? "-" : $"{Batching1.Count}:{string.Join(",", Batching1.In.Select(a => a?.ToString() ?? "-"))}:{string.Join(",", Batching1.Out)}",
        Batching2 is null ? "-" : $"{Batching2.Count}:{string.Join(",", Batching2.In.Select(a => a?.ToString() ?? "-"))}:{string.Join(",", Batching2.Out)}",
        string.Join(",", Parameters.Keys), string.Join(",", Parameters.Values.Select(TensorType.Of)),
        string.Join(",", X1.Select(TensorType.Of)), string.Join(",", X2.Select(TensorType.Of)));

    /// <summary>The output's batch axis on each side (null without vmap axes).</summary>
    public int? OutAxis1 => Batching1?.Out[Output];

    /// <inheritdoc cref="OutAxis1"/>
    public int? OutAxis2 => Batching2?.Out[Output];
}
