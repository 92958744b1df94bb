using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>
/// Vectorising map as a graph transform (<c>jax.vmap</c>): input i gains a batch axis of <c>size</c> at
/// <c>inAxes[i]</c> (null = shared by all examples); every equation with a batched operand is rewritten by its
/// primitive's batching rule; output j carries its batch at <c>outAxes[j]</c> (an unbatched output is
/// broadcast; a null out axis, JAX's <c>out_axes=None</c>, keeps an output that depends on no batched input as it
/// is). Composes with JVP and transpose: <c>Vmap(Vjp(g))</c> gives per-example Jacobians.
/// </summary>
internal static class VmapTransform
{
    public static Graph Apply(Graph g, int?[] inAxes, int[] outAxes, int size) => Apply(g, inAxes, outAxes.Select(a => (int?)a).ToArray(), size);

    /// <summary>Which outputs of <paramref name="g"/> depend on an input batched by <paramref name="inAxes"/>: the
    /// others are the same for every example and can keep a null out axis.</summary>
    public static bool[] BatchedOutputs(Graph g, int?[] inAxes)
    {
        var batched = new bool[g.VarCount];
        for (int i = 0; i < g.Inputs.Count; i++) batched[g.Inputs[i].Id] = inAxes[i] is not null;
        foreach (var e in g.Equations) batched[e.Output.Id] = e.Inputs.Any(a => a is Var v && batched[v.Id]);
        return g.Outputs.Select(o => o is Var v && batched[v.Id]).ToArray();
    }

    public static Graph Apply(Graph g, int?[] inAxes, int?[] outAxes, int size)
    {
        if (inAxes.Length != g.Inputs.Count) throw new ArgumentException($"vmap: {inAxes.Length} in_axes for {g.Inputs.Count} inputs", nameof(inAxes));
        if (outAxes.Length != g.Outputs.Count) throw new ArgumentException($"vmap: {outAxes.Length} out_axes for {g.Outputs.Count} outputs", nameof(outAxes));
        var b = new GraphBuilder();
        var val = new Tracer?[g.VarCount];
        var dim = new int?[g.VarCount];
        for (int i = 0; i < g.Inputs.Count; i++)
        {
            var v = g.Inputs[i];
            if (inAxes[i] is { } a0)
            {
                int a = a0 < 0 ? a0 + v.Type.Rank + 1 : a0;
                if (a < 0 || a > v.Type.Rank) throw new ArgumentOutOfRangeException(nameof(inAxes), $"vmap: in_axes[{i}] = {a0} out of range for an input of rank {v.Type.Rank}");
                var dims = v.Type.Shape.ToList(); dims.Insert(a, size);
                val[v.Id] = b.NewInput(new TensorType(new Shape(dims), v.Type.DType));
                dim[v.Id] = a;
            }
            else val[v.Id] = b.NewInput(v.Type);
        }
        Tracer V(Atom a) => a is Literal l ? b.Constant(l.Value) : val[((Var)a).Id]!;
        int? D(Atom a) => a is Var v ? dim[v.Id] : null;
        foreach (var e in g.Equations)
        {
            var args = e.Inputs.Select(V).ToArray();
            var ds = e.Inputs.Select(D).ToArray();
            if (ds.All(d => d is null)) { val[e.Output.Id] = b.Emit(e.Primitive, args); continue; }
            var (y, yd) = e.Primitive.Batch(b, args, ds);
            Debug.Assert(yd is null || y.Shape[yd.Value] == size, $"{e.Primitive.Name}: batching rule returned batch axis {yd} of {y.Shape}");
            val[e.Output.Id] = y;
            dim[e.Output.Id] = yd;
        }
        var outs = new List<Tracer>();
        for (int j = 0; j < g.Outputs.Count; j++)
        {
            var o = g.Outputs[j];
            var y = V(o);
            if (outAxes[j] is null)
            {
                if (D(o) is not null) throw new ArgumentException($"vmap: out_axes[{j}] is null but output {j} depends on a batched input", nameof(outAxes));
                outs.Add(y);
                continue;
            }
            int rank = o.Type.Rank + 1;
            int target = outAxes[j]!.Value < 0 ? outAxes[j]!.Value + rank : outAxes[j]!.Value;
            if (target < 0 || target >= rank) throw new ArgumentOutOfRangeException(nameof(outAxes), $"vmap: out_axes[{j}] = {outAxes[j]} out of range for an output of rank {o.Type.Rank}");
            outs.Add(D(o) is { } d ? BatchingUtil.Move(b, y, d, target)
                : BatchingUtil.Move(b, BatchingUtil.ToFront(b, y, null, size), 0, target));
        }
        return DceTransform.Apply(b.Build(outs));
    }
}
