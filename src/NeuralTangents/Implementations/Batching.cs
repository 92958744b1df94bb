namespace NeuralTangents.Implementations;

/// <summary>
/// Resolved <see cref="VmapAxes"/> for one call: which inputs are batched at which axis, the number of
/// examples, and helpers to cut inputs into per-example stacks and to fold example axes back into outputs.
/// </summary>
internal sealed class Batching
{
    public int?[] In { get; }
    public int[] Out { get; }
    public int Count { get; }

    private Batching(int?[] inAxes, int[] outAxes, int count) { In = inAxes; Out = outAxes; Count = count; }

    public static Batching? Resolve(VmapAxes? axes, IReadOnlyList<Tensor> xs, IReadOnlyList<TensorType> outputs)
    {
        if (axes is null) return null;
        var (ins, outs) = axes.Resolve(xs.Select(x => x.Rank).ToArray(), outputs.Select(o => o.Rank).ToArray());
        int n = -1;
        for (int i = 0; i < xs.Count; i++)
        {
            if (ins[i] is not { } a) continue;
            int s = xs[i].Shape[a];
            if (n >= 0 && s != n) throw new ArgumentException($"vmap_axes: batched inputs disagree on the number of examples ({n} vs {s} for input {i} of shape {xs[i].Shape})", "vmapAxes");
            n = s;
        }
        if (n < 0) throw new ArgumentException("vmap_axes: no input is batched", "vmapAxes");
        return new Batching(ins, outs, n);
    }

    /// <summary>Types of one example: batched inputs get size 1 on their axis.</summary>
    public TensorType[] ExampleTypes(IReadOnlyList<Tensor> xs) => xs.Select((x, i) =>
    {
        if (In[i] is not { } a) return TensorType.Of(x);
        var s = x.Shape.ToArray(); s[a] = 1;
        return new TensorType(new Shape(s), x.DType);
    }).ToArray();

    /// <summary>Examples [start, start+count) of every input: batched ones as (count, …1 at axis…), others unchanged.</summary>
    public Tensor[] Stack(IReadOnlyList<Tensor> xs, int start, int count) => xs.Select((x, i) =>
    {
        if (In[i] is not { } a) return x;
        var lo = new int[x.Rank]; var hi = x.Shape.ToArray();
        lo[a] = start; hi[a] = start + count;
        var part = x.Slice(lo, hi);
        var perm = Enumerable.Range(0, x.Rank).Where(k => k != a).Prepend(a).ToArray();
        var shape = new[] { count }.Concat(Enumerable.Range(0, x.Rank).Select(k => k == a ? 1 : x.Shape[k]));
        return part.Transpose(perm).Reshape(new Shape(shape));
    }).ToArray();

    /// <summary>The vmap in_axes over a stack from <see cref="Stack"/>: 0 for batched inputs, null otherwise.</summary>
    public int?[] StackAxes => In.Select(a => a is null ? (int?)null : 0).ToArray();

    /// <summary>
    /// Moves axis <paramref name="exampleAxis"/> (of size N) into the size-1 axis <paramref name="target"/>
    /// (a zero-copy view: the size-1 axis takes the example axis's size and stride).
    /// </summary>
    public static Tensor Fold(Tensor t, int exampleAxis, int target)
    {
        Debug.Assert(t.Shape[target] == 1);
        var dims = t.Shape.ToArray(); var strides = (int[])t.Strides.Clone();
        dims[target] = dims[exampleAxis]; strides[target] = strides[exampleAxis];
        var keep = Enumerable.Range(0, t.Rank).Where(k => k != exampleAxis).ToArray();
        return new Tensor(t.Storage, new Shape(keep.Select(k => dims[k])), keep.Select(k => strides[k]).ToArray(), t.Offset);
    }
}
