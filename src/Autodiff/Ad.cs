using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Autodiff.Transforms;

namespace NeuralTangents.Autodiff;

/// <summary>
/// Entry points of the autodiff system: tracing, and the JVP / transpose / VJP / Jacobian transforms
/// (the counterparts of <c>jax.make_jaxpr</c>, <c>jax.jvp</c>, <c>jax.vjp</c>, <c>jax.linear_transpose</c>,
/// <c>jax.jacrev</c>, <c>jax.jacfwd</c>). All graph transforms return new graphs and compose.
/// </summary>
public static class Ad
{
    /// <summary>Traces <paramref name="f"/> once for the given input types into a <see cref="Graph"/>.</summary>
    public static Graph Trace(Func<Tracer[], Tracer[]> f, IReadOnlyList<TensorType> inputTypes)
    {
        var b = new GraphBuilder();
        var ins = inputTypes.Select(b.NewInput).ToArray();
        return DceTransform.Apply(b.Build(f(ins)));
    }

    /// <summary>Traces a single-input, single-output function.</summary>
    public static Graph Trace(Func<Tracer, Tracer> f, TensorType inputType) => Trace(x => new[] { f(x[0]) }, new[] { inputType });

    /// <summary>Evaluates <paramref name="graph"/>.</summary>
    /// <exception cref="ArgumentException">Input count, shapes or dtypes differ from the graph's inputs.</exception>
    public static Tensor[] Evaluate(Graph graph, params Tensor[] inputs) => Interpreter.Evaluate(graph, inputs);

    /// <summary>
    /// JVP graph: inputs <c>(primals…, tangents of the inputs flagged in <paramref name="withTangent"/>…)</c>,
    /// outputs <c>(outputs…, output tangents…)</c>.
    /// </summary>
    public static Graph JvpGraph(Graph graph, bool[]? withTangent = null) =>
        JvpTransform.Apply(graph, withTangent ?? Enumerable.Repeat(true, graph.Inputs.Count).ToArray());

    /// <summary>
    /// Transpose of a graph linear in the flagged inputs (<c>jax.linear_transpose</c> generalised):
    /// inputs <c>(non-linear inputs…, cotangents of the linear outputs…)</c>, outputs
    /// <c>(non-linear outputs…, cotangents of the linear inputs…)</c>.
    /// </summary>
    public static Graph TransposeGraph(Graph graph, bool[] linearInputs, bool[] linearOutputs) =>
        TransposeTransform.Apply(graph, linearInputs, linearOutputs);

    /// <summary>
    /// VJP graph (linearize, then transpose): inputs <c>(primals…, output cotangents…)</c>, outputs
    /// <c>(outputs…, cotangents of the inputs flagged in <paramref name="wrt"/>…)</c>.
    /// </summary>
    public static Graph VjpGraph(Graph graph, bool[]? wrt = null)
    {
        wrt ??= Enumerable.Repeat(true, graph.Inputs.Count).ToArray();
        var jvp = JvpTransform.Apply(graph, wrt);
        int nIn = graph.Inputs.Count, nT = wrt.Count(w => w), nOut = graph.Outputs.Count;
        return TransposeTransform.Apply(jvp, Masks.From(nIn + nT, nIn), Masks.From(2 * nOut, nOut));
    }

    /// <summary>
    /// <c>jax.vmap</c> as a graph transform: input i gains a batch axis of <paramref name="size"/> at
    /// <paramref name="inAxes"/>[i] (null = not batched); output j has it at <paramref name="outAxes"/>[j].
    /// </summary>
    /// <exception cref="ArgumentException">Axis lists of the wrong length or out of range.</exception>
    public static Graph Vmap(Graph graph, int?[] inAxes, int[] outAxes, int size) => VmapTransform.Apply(graph, inAxes, outAxes, size);

    /// <summary><c>jax.vmap</c> with <c>out_axes=None</c> allowed: a null out axis returns an output that depends on
    /// no batched input unchanged (no broadcast); <see cref="Vmap(Graph, int?[], int[], int)"/> otherwise.</summary>
    /// <exception cref="ArgumentException">An output with a null out axis depends on a batched input.</exception>
    public static Graph Vmap(Graph graph, int?[] inAxes, int?[] outAxes, int size) => VmapTransform.Apply(graph, inAxes, outAxes, size);

    /// <summary><c>jax.jvp</c>: outputs and output tangents of <paramref name="f"/> at <paramref name="primals"/>.</summary>
    /// <exception cref="ArgumentException">Tangents differ in count, shape or dtype from the primals.</exception>
    public static (Tensor[] Outputs, Tensor[] Tangents) Jvp(Func<Tracer[], Tracer[]> f, Tensor[] primals, Tensor[] tangents)
    {
        if (tangents.Length != primals.Length) throw new ArgumentException($"jvp: {tangents.Length} tangents for {primals.Length} primals", nameof(tangents));
        for (int i = 0; i < primals.Length; i++)
            if (TensorType.Of(primals[i]) != TensorType.Of(tangents[i]))
                throw new ArgumentException($"jvp: tangent {i} has type {TensorType.Of(tangents[i])}, expected {TensorType.Of(primals[i])}", nameof(tangents));
        var g = Trace(f, primals.Select(TensorType.Of).ToArray());
        var r = Interpreter.Evaluate(JvpGraph(g), primals.Concat(tangents).ToArray());
        int n = g.Outputs.Count;
        return (r[..n], r[n..]);
    }

    /// <summary><c>jax.vjp</c>: outputs, and a function mapping output cotangents to input cotangents.</summary>
    public static (Tensor[] Outputs, Func<Tensor[], Tensor[]> Vjp) Vjp(Func<Tracer[], Tracer[]> f, Tensor[] primals)
    {
        var g = Trace(f, primals.Select(TensorType.Of).ToArray());
        var vjp = VjpGraph(g);
        var staged = Linearize(vjp, Masks.From(vjp.Inputs.Count, primals.Length));
        var residuals = staged.Bind(primals);
        int nOut = g.Outputs.Count;
        var outs = staged.Apply(residuals, g.OutputTypes.Select(t => Tensor.Zeros(t.Shape, t.DType)).ToArray())[..nOut];
        return (outs, cts =>
        {
            if (cts.Length != nOut) throw new ArgumentException($"vjp: expected {nOut} cotangents, got {cts.Length}", nameof(cts));
            return staged.Apply(residuals, cts)[nOut..];
        });
    }

    /// <summary>
    /// <c>jax.jacrev</c>: the Jacobian of every output with respect to every input, shape
    /// <c>output.Shape + input.Shape</c>, by one backward pass per output element (the forward part runs once).
    /// Result[j][i] is ∂output_j/∂input_i.
    /// </summary>
    public static Tensor[][] JacRev(Graph graph, IReadOnlyList<Tensor> inputs)
    {
        Interpreter.CheckInputs(graph, inputs);
        var result = new Tensor[graph.Outputs.Count][];
        for (int j = 0; j < graph.Outputs.Count; j++)
        {
            var single = DceTransform.Apply(new Graph(graph.Inputs, graph.Equations, new[] { graph.Outputs[j] }, graph.VarCount));
            result[j] = JacRevSingle(single, inputs);
        }
        return result;
    }

    /// <summary>Jacobian of a single-input, single-output function at <paramref name="x"/>: shape <c>f(x).Shape + x.Shape</c>.</summary>
    public static Tensor JacRev(Func<Tracer, Tracer> f, Tensor x) => JacRev(Trace(f, TensorType.Of(x)), new[] { x })[0][0];

    /// <summary>Forward-mode Jacobian (<c>jax.jacfwd</c>): one JVP per input element. Same layout as <see cref="JacRev(Graph, IReadOnlyList{Tensor})"/>.</summary>
    public static Tensor[][] JacFwd(Graph graph, IReadOnlyList<Tensor> inputs)
    {
        Interpreter.CheckInputs(graph, inputs);
        int nIn = inputs.Count, nOut = graph.Outputs.Count;
        var jvp = JvpGraph(graph);
        var staged = Linearize(jvp, Masks.From(2 * nIn, nIn));
        var residuals = staged.Bind(inputs);
        var result = new Tensor[nOut][];
        for (int j = 0; j < nOut; j++) result[j] = new Tensor[nIn];
        for (int i = 0; i < nIn; i++)
        {
            int p = inputs[i].Size;
            var cols = new double[nOut][];
            for (int j = 0; j < nOut; j++) cols[j] = new double[graph.Outputs[j].Type.Shape.Size * p];
            var tangents = inputs.Select(t => Tensor.Zeros(t.Shape, t.DType)).ToArray();
            for (int q = 0; q < p; q++)
            {
                tangents[i] = OneHot(inputs[i].Shape, inputs[i].DType, q);
                var r = staged.Apply(residuals, tangents);
                for (int j = 0; j < nOut; j++)
                {
                    var col = r[nOut + j].ToDoubleArray();
                    for (int m = 0; m < col.Length; m++) cols[j][m * p + q] = col[m];
                }
            }
            for (int j = 0; j < nOut; j++)
                result[j][i] = Tensor.Wrap(cols[j], graph.Outputs[j].Type.Shape.Concat(inputs[i].Shape)).AsType(graph.Outputs[j].Type.DType);
        }
        return result;
    }

    private static Tensor[] JacRevSingle(Graph g, IReadOnlyList<Tensor> inputs)
    {
        int nIn = inputs.Count;
        var outType = g.Outputs[0].Type;
        var vjp = VjpGraph(g);
        var staged = Linearize(vjp, Masks.From(nIn + 1, nIn));
        var residuals = staged.Bind(inputs);
        int m = outType.Shape.Size;
        var rows = inputs.Select(t => new double[m * t.Size]).ToArray();
        for (int r = 0; r < m; r++)
        {
            var res = staged.Apply(residuals, OneHot(outType.Shape, outType.DType, r));
            for (int i = 0; i < nIn; i++)
                res[1 + i].ToDoubleArray().CopyTo(rows[i], r * inputs[i].Size);
        }
        return Enumerable.Range(0, nIn)
            .Select(i => Tensor.Wrap(rows[i], outType.Shape.Concat(inputs[i].Shape)).AsType(outType.DType)).ToArray();
    }

    /// <summary>
    /// Algebraic simplification (as XLA's algebraic simplifier): returns a graph with the same inputs and outputs
    /// computing the same values (up to floating-point reassociation) with fewer FLOPs and smaller intermediates —
    /// see <see cref="SimplifyTransform"/> for the rewrites.
    /// </summary>
    public static Graph Simplify(Graph graph) => SimplifyTransform.Apply(graph);

    /// <summary>
    /// Loop fusion (as XLA's element-wise fusion): returns a graph with the same inputs and outputs in which every chain
    /// of element-wise operations over one shape (with the broadcasts, transposes and size-1 contractions feeding it)
    /// is one <c>fused_elementwise</c> equation evaluated in a single pass, computing the same values — see
    /// <see cref="FuseElementwiseTransform"/>. Meant as the last step before <see cref="Evaluate"/>: the fused
    /// equations support JVP and vmap but not transposition.
    /// </summary>
    public static Graph Fuse(Graph graph) => FuseElementwiseTransform.Apply(graph);

    /// <summary>
    /// Stages <paramref name="graph"/> for repeated evaluation with the same known inputs (JAX's <c>linearize</c>,
    /// generalised to any split): <see cref="StagedGraph.Bind(IReadOnlyList{Tensor})"/> the inputs not flagged in
    /// <paramref name="unknownInputs"/> once, then <see cref="StagedGraph.Apply(IReadOnlyList{Tensor}, Tensor[])"/> the flagged ones many times.
    /// </summary>
    internal static StagedGraph Linearize(Graph graph, bool[] unknownInputs) => new(graph, unknownInputs);

    /// <summary>Prepares a reverse-mode Jacobian of a single-output graph with respect to the flagged inputs.</summary>
    internal static JacobianPlan JacobianPlan(Graph graph, bool[] wrt) => new(graph, wrt);

    internal static Tensor OneHot(Shape shape, DType dtype, int index) => StandardBasis.Of(shape, dtype, index, 1).Reshape(shape);
}
