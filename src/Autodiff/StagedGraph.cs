using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Transforms;

namespace NeuralTangents.Autodiff;

/// <summary>
/// A graph staged for "evaluate the known part once, the rest many times" (JAX's <c>linearize</c> /
/// <c>partial_eval</c>; see <see cref="Ad.Linearize"/>): <see cref="Bind(IReadOnlyList{Tensor})"/> runs the part that depends only on the
/// known inputs and returns its residuals, <see cref="Apply(IReadOnlyList{Tensor}, Tensor[])"/> runs the rest for given unknown inputs (e.g. one
/// basis chunk of tangents or cotangents). Immutable; the residuals are the caller's.
/// </summary>
internal sealed class StagedGraph
{
    /// <summary>known inputs… ↦ residuals…</summary>
    public Graph Known { get; }

    /// <summary>(residuals…, unknown inputs…) ↦ outputs…</summary>
    public Graph Unknown { get; }

    /// <summary>How many residuals <see cref="Bind(IReadOnlyList{Tensor})"/> returns (the leading inputs of <see cref="Unknown"/>).</summary>
    public int ResidualCount => Known.Outputs.Count;

    /// <summary>How many unknown inputs <see cref="Apply(IReadOnlyList{Tensor}, Tensor[])"/> takes.</summary>
    public int UnknownCount => Unknown.Inputs.Count - ResidualCount;

    internal StagedGraph(Graph graph, bool[] unknownInputs) => (Known, Unknown) = PartialEval.Split(graph, unknownInputs);

    /// <summary>Evaluates the known part: the residuals.</summary>
    public Tensor[] Bind(IReadOnlyList<Tensor> known) => Bind(known, ComputeBackend.Current);

    /// <summary>Evaluates the known part on <paramref name="backend"/>: the residuals.</summary>
    public Tensor[] Bind(IReadOnlyList<Tensor> known, ComputeBackend backend) =>
        Interpreter.Evaluate(Known, known, backend);

    /// <summary>Evaluates the unknown part at the residuals from <see cref="Bind(IReadOnlyList{Tensor})"/>.</summary>
    public Tensor[] Apply(IReadOnlyList<Tensor> residuals, params Tensor[] unknown) =>
        Apply(ComputeBackend.Current, residuals, unknown);

    /// <summary>Evaluates the unknown part on <paramref name="backend"/> at the residuals.</summary>
    public Tensor[] Apply(ComputeBackend backend, IReadOnlyList<Tensor> residuals, params Tensor[] unknown) =>
        Interpreter.Evaluate(Unknown, residuals.Concat(unknown).ToArray(), backend);

    /// <summary>The unknown part vmapped over <paramref name="size"/> values of its unknown inputs (batched at
    /// <paramref name="unknownAxes"/>; residuals unbatched), every output batched at axis 0.</summary>
    public Graph Vmapped(int?[] unknownAxes, int size) =>
        Ad.Vmap(Unknown, InAxes.Concat(InAxes.None(ResidualCount), unknownAxes), InAxes.Out(Unknown.Outputs.Count), size);
}
