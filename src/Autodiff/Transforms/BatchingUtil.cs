using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>Helpers shared by batching (vmap) rules.</summary>
internal static class BatchingUtil
{
    /// <summary>Moves axis <paramref name="from"/> of <paramref name="x"/> to position <paramref name="to"/>.</summary>
    public static Tracer Move(GraphBuilder b, Tracer x, int from, int to)
    {
        if (from == to) return x;
        var perm = Enumerable.Range(0, x.Rank).Where(a => a != from).ToList();
        perm.Insert(to, from);
        return b.Transpose(x, perm.ToArray());
    }

    /// <summary>Batched operand with its batch axis at 0; unbatched operands broadcast with a new leading axis of <paramref name="size"/>.</summary>
    public static Tracer ToFront(GraphBuilder b, Tracer x, int? dim, int size)
    {
        if (dim is { } d) return Move(b, x, d, 0);
        var shape = new Shape(new[] { size }.Concat(x.Shape));
        return b.BroadcastInDim(x, shape, Enumerable.Range(1, x.Rank).ToArray());
    }

    /// <summary>The batch size from the first batched operand.</summary>
    public static int Size(Tracer[] args, int?[] dims)
    {
        for (int i = 0; i < args.Length; i++) if (dims[i] is { } d) return args[i].Shape[d];
        throw new InvalidOperationException("no batched operand");
    }

    /// <summary>
    /// The generic fallback: applies the primitive to each slice along the batch and stacks the results at 0.
    /// Correct for any primitive, but it emits one equation per example, so primitives Stax uses have real rules.
    /// </summary>
    public static (Tracer, int?) LoopFallback(GraphBuilder b, Primitives.Primitive p, Tracer[] args, int?[] dims)
    {
        int n = Size(args, dims);
        var slices = new List<Tracer>(n);
        for (int i = 0; i < n; i++)
        {
            var ins = args.Select((a, k) =>
            {
                if (dims[k] is not { } d) return a;
                var start = new int[a.Rank]; var limit = a.Shape.ToArray();
                start[d] = i; limit[d] = i + 1;
                return b.Squeeze(b.Slice(a, start, limit), d);
            }).ToArray();
            slices.Add(b.ExpandDims(b.Emit(p, ins), 0));
        }
        return (b.Concatenate(slices, 0), 0);
    }
}
