namespace NeuralTangents.Autodiff.Tracing;

/// <summary>NumPy-style conveniences on tracers (broadcasting arithmetic, means, matmul), built from <see cref="Lax"/>.</summary>
public static class Np
{
    /// <summary>Broadcasts two tracers against each other with NumPy rules (align trailing axes).</summary>
    /// <exception cref="ArgumentException">The shapes are not broadcast-compatible.</exception>
    public static (Tracer, Tracer) Broadcast(Tracer a, Tracer b)
    {
        if (a.Shape == b.Shape) return (a, b);
        int r = Math.Max(a.Rank, b.Rank);
        var dims = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Rank) >= 0 ? a.Shape[i - (r - a.Rank)] : 1;
            int db = i - (r - b.Rank) >= 0 ? b.Shape[i - (r - b.Rank)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"operands could not be broadcast together with shapes {a.Shape} and {b.Shape}");
            dims[i] = da == 1 ? db : da; // NumPy: a size-1 axis takes the other size, even 0
        }
        var s = new Shape(dims);
        return (To(a, s), To(b, s));
    }

    /// <summary>Broadcasts <paramref name="x"/> to <paramref name="shape"/> (trailing alignment).</summary>
    public static Tracer To(Tracer x, Shape shape)
    {
        if (x.Shape == shape) return x;
        // Drop size-1 axes that broadcast so broadcast_in_dim's operand is as small as possible.
        int off = shape.Rank - x.Rank;
        var keep = Enumerable.Range(0, x.Rank).Where(i => !(x.Shape[i] == 1 && shape[i + off] != 1)).ToArray();
        var squeezed = keep.Length == x.Rank ? x : Lax.Reshape(x, new Shape(keep.Select(i => x.Shape[i])));
        return Lax.BroadcastInDim(squeezed, shape, keep.Select(i => i + off).ToArray());
    }

    private static Tracer Promote(Tracer a, Tracer b, Func<Tracer, Tracer, Tracer> op)
    {
        if (a.DType != b.DType)
        {
            // Python scalars are weakly typed in JAX; our scalar literals follow the other operand.
            if (a.ConstantValue is { Rank: 0 }) a = Lax.Convert(a, b.DType);
            else if (b.ConstantValue is { Rank: 0 }) b = Lax.Convert(b, a.DType);
        }
        var (x, y) = Broadcast(a, b);
        return op(x, y);
    }

    /// <summary>Broadcasting <c>a + b</c>.</summary>
    public static Tracer Add(Tracer a, Tracer b) => Promote(a, b, Lax.Add);
    /// <summary>Broadcasting <c>a − b</c>.</summary>
    public static Tracer Subtract(Tracer a, Tracer b) => Promote(a, b, Lax.Sub);
    /// <summary>Broadcasting <c>a · b</c>.</summary>
    public static Tracer Multiply(Tracer a, Tracer b) => Promote(a, b, Lax.Mul);
    /// <summary>Broadcasting <c>a / b</c>.</summary>
    public static Tracer Divide(Tracer a, Tracer b) => Promote(a, b, Lax.Div);
    /// <summary>Broadcasting element-wise maximum.</summary>
    public static Tracer Maximum(Tracer a, Tracer b) => Promote(a, b, Lax.Max);
    /// <summary>Broadcasting element-wise minimum.</summary>
    public static Tracer Minimum(Tracer a, Tracer b) => Promote(a, b, Lax.Min);
    /// <summary>Broadcasting <c>where</c>.</summary>
    public static Tracer Where(Tracer pred, Tracer onTrue, Tracer onFalse)
    {
        var (t, f) = Broadcast(onTrue, onFalse);
        var (p, t2) = Broadcast(pred, t);
        var (_, f2) = Broadcast(p, f);
        return Lax.Select(p, t2, f2);
    }

    /// <summary><c>max(x, 0)</c>; its derivative at exactly 0 is 0.5, as in JAX.</summary>
    public static Tracer Relu(Tracer x) => Lax.Max(x, Lax.FullLike(x, 0));

    /// <summary>
    /// <c>jax.nn.softmax(x, axis)</c>: <c>exp(x − max) / Σ exp(x − max)</c> along <paramref name="axis"/>, with the max
    /// under <see cref="Lax.StopGradient"/> (the result does not depend on it).
    /// </summary>
    public static Tracer Softmax(Tracer x, int axis = -1)
    {
        int a = x.Shape.NormalizeAxis(axis, nameof(axis));
        var kept = Enumerable.Range(0, x.Rank).Where(k => k != a).ToArray();
        var max = Lax.StopGradient(Lax.BroadcastInDim(Lax.ReduceMax(x, a), x.Shape, kept));
        var e = Lax.Exp(Lax.Sub(x, max));
        return Lax.Div(e, Lax.BroadcastInDim(Lax.ReduceSum(e, a), x.Shape, kept));
    }

    /// <summary>Sum over <paramref name="axes"/> (all axes when none are given).</summary>
    public static Tracer Sum(Tracer x, params int[] axes) =>
        Lax.ReduceSum(x, axes.Length == 0 ? Enumerable.Range(0, x.Rank).ToArray() : axes);

    /// <summary>Mean over <paramref name="axes"/> (all axes when none are given).</summary>
    public static Tracer Mean(Tracer x, params int[] axes)
    {
        var ax = axes.Length == 0 ? Enumerable.Range(0, x.Rank).ToArray() : Lax.Norm(x, axes);
        double n = ax.Aggregate(1.0, (acc, a) => acc * x.Shape[a]);
        return Lax.ReduceSum(x, ax) / n;
    }

    /// <summary>
    /// <c>np.tensordot(a, b, axes=(aAxes, bAxes))</c>: output = a's free axes then b's free axes.
    /// </summary>
    public static Tracer TensorDot(Tracer a, Tracer b, int[] aAxes, int[] bAxes) =>
        Lax.DotGeneral(a, b, new DotDimensionNumbers(
            aAxes.Select(x => a.Shape.NormalizeAxis(x, nameof(aAxes))).ToArray(),
            bAxes.Select(x => b.Shape.NormalizeAxis(x, nameof(bAxes))).ToArray(), Array.Empty<int>(), Array.Empty<int>()));

    /// <summary>Matrix product of the last axis of <paramref name="a"/> with the first axis of <paramref name="b"/>
    /// (rank ≤ 2 operands; <c>np.dot</c>).</summary>
    public static Tracer Dot(Tracer a, Tracer b) => TensorDot(a, b, new[] { a.Rank - 1 }, new[] { 0 });

    /// <summary>Moves axis <paramref name="source"/> to position <paramref name="destination"/>.</summary>
    public static Tracer MoveAxis(Tracer x, int source, int destination)
    {
        int s = x.Shape.NormalizeAxis(source, nameof(source)), d = x.Shape.NormalizeAxis(destination, nameof(destination));
        var perm = Enumerable.Range(0, x.Rank).Where(i => i != s).ToList();
        perm.Insert(d, s);
        return Lax.Transpose(x, perm.ToArray());
    }
}
