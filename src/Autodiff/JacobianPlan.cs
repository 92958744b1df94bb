using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff;

/// <summary>
/// Reverse-mode Jacobian of a single-output graph with respect to some inputs, as JAX builds <c>jacrev</c>:
/// the VJP graph with its gradients flattened and concatenated into one parameter axis of size P, vmapped over
/// a chunk of standard-basis cotangents. Optionally vmapped once more over examples (<c>vmap_axes</c>), so
/// per-example Jacobians of a whole chunk of examples come from one graph evaluation with batched GEMMs and
/// grouped convolutions. Immutable and thread-safe; graphs are cached per chunk size.
/// </summary>
internal sealed class JacobianPlan
{
    private readonly Graph _rows;        // (inputs…, ct) ↦ (P,)
    private readonly TensorType _out;
    private readonly int _p;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<BatchedKey, Graph> _cache = new();

    /// <summary>A cached batched graph: basis rows, examples and which inputs carry the example axis.</summary>
    private readonly record struct BatchedKey(int Rows, int Examples, Primitives.ValueArray<int> ExampleAxes);

    public int ParameterCount => _p;
    public TensorType OutputType => _out;

    internal JacobianPlan(Graph g, bool[] wrt)
    {
        if (g.Outputs.Count != 1) throw new ArgumentException($"jacobian: expected one output, got {g.Outputs.Count}", nameof(g));
        _out = g.Outputs[0].Type;
        _p = TensorSizeException.Check("the Jacobian's parameter axis (all parameters flattened)",
            new[] { g.Inputs.Where((_, i) => wrt[i]).Sum(v => v.Type.Shape.LongSize) });
        var vjp = Ad.VjpGraph(g, wrt);
        int p = _p;
        _rows = Ad.Trace(ins =>
        {
            var outs = Interpreter.Inline(ins[0].Builder, vjp, ins);
            var grads = outs.Skip(1).Where(t => t.Shape.Size > 0).Select(t => Lax.Reshape(t, new Shape(t.Shape.Size))).ToArray();
            var flat = grads.Length == 0 ? ins[0].Builder.Zeros(new TensorType(new Shape(p), _out.DType))
                : grads.Length == 1 ? grads[0] : Lax.Concatenate(grads, 0);
            return new[] { flat };
        }, g.InputTypes.Append(_out).ToArray());
    }

    /// <summary>
    /// Graph (inputs…, basis (rows, out…)) ↦ (rows, P); with <paramref name="examples"/> &gt; 0 the inputs flagged in
    /// <paramref name="exampleAxes"/> carry a leading batch of that many examples and the result is (examples, rows, P).
    /// </summary>
    private Graph Batched(int rows, int examples, int?[]? exampleAxes) =>
        _cache.GetOrAdd(new BatchedKey(rows, examples, Primitives.ValueArray.Of(examples == 0 ? Array.Empty<int>() : exampleAxes!.Select(a => a ?? -1).ToArray())), _ =>
    {
        int n = _rows.Inputs.Count;
        var g = Ad.Vmap(_rows, InAxes.Only(n, n - 1), new[] { 0 }, rows);
        if (examples == 0) return g;
        return Ad.Vmap(g, exampleAxes!.Append(null).ToArray(), new[] { 0 }, examples);
    });

    /// <summary>Jacobian rows <c>(out.Size, P)</c> at <paramref name="inputs"/>, in chunks of at most <paramref name="chunk"/> basis vectors.</summary>
    public Tensor Rows(Tensor[] inputs, int chunk = 256)
    {
        int m = _out.Shape.Size;
        var parts = new List<Tensor>();
        for (int start = 0; start < m; start += chunk)
        {
            int c = Math.Min(chunk, m - start);
            parts.Add(Interpreter.Evaluate(Batched(c, 0, null), inputs.Append(StandardBasis.Of(_out.Shape, _out.DType, start, c)).ToArray())[0]);
        }
        return parts.Count == 1 ? parts[0] : Structural.Concatenate(parts, 0);
    }

    /// <summary>
    /// Per-example Jacobians <c>(E, out.Size, P)</c>: the inputs with a non-null entry in <paramref name="exampleAxes"/>
    /// are stacks of E examples (each of the traced shape) along a new leading axis.
    /// </summary>
    public Tensor PerExample(Tensor[] inputs, int?[] exampleAxes, int examples) =>
        Interpreter.Evaluate(Batched(_out.Shape.Size, examples, exampleAxes), inputs.Append(StandardBasis.Of(_out.Shape, _out.DType, 0, _out.Shape.Size)).ToArray())[0];

    /// <summary>Peak bytes of one <see cref="PerExample"/> evaluation over <paramref name="examples"/> examples (inputs included).</summary>
    public double PeakBytes(int examples, int?[] exampleAxes) => GraphCost.PeakBytes(Batched(_out.Shape.Size, examples, exampleAxes));

    /// <summary>Estimated FLOPs of <see cref="Rows"/> (no <paramref name="examples"/>) or <see cref="PerExample"/> over all examples.</summary>
    public double Flops(int examples, int?[]? exampleAxes, int rowChunk = 256, int exampleChunk = 32)
    {
        int m = _out.Shape.Size;
        if (examples == 0)
        {
            int c = Math.Max(1, Math.Min(rowChunk, m));
            return GraphCost.Flops(Batched(c, 0, null)) * Math.Ceiling((double)m / c);
        }
        int e = Math.Min(exampleChunk, examples);
        return GraphCost.Flops(Batched(m, e, exampleAxes)) * Math.Ceiling((double)examples / e);
    }
}
