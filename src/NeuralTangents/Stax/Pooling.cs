namespace NeuralTangents.Stax;

public static partial class Stax
{
    /// <summary>
    /// <c>stax.AvgPool(window_shape, strides, padding, normalize_edges)</c> over the spatial axes of NHWC inputs: window
    /// sums divided by <c>Π window</c>, or, with <paramref name="normalizeEdges"/>, by the number of non-padding elements
    /// in each window (only differs at SAME edges; <c>jax.example_libraries.stax.AvgPool</c>). Strides default to 1, as in Stax.
    /// </summary>
    /// <exception cref="ArgumentException">Bad window or strides.</exception>
    public static Layer AvgPool(int[] windowShape, int[]? strides = null, Padding padding = Padding.Valid, bool normalizeEdges = false) =>
        Pool(normalizeEdges ? PoolKind.AvgNormalized : PoolKind.Avg, windowShape, strides, padding);

    /// <summary><c>stax.SumPool(window_shape, strides, padding)</c>: window sums over the spatial axes of NHWC inputs.</summary>
    /// <exception cref="ArgumentException">Bad window or strides.</exception>
    public static Layer SumPool(int[] windowShape, int[]? strides = null, Padding padding = Padding.Valid) =>
        Pool(PoolKind.Sum, windowShape, strides, padding);

    private enum PoolKind { Sum, Avg, AvgNormalized }

    private static Layer Pool(PoolKind kind, int[] windowShape, int[]? strides, Padding padding)
    {
        ArgumentNullException.ThrowIfNull(windowShape);
        string name = kind == PoolKind.Sum ? "SumPool" : "AvgPool";
        int d = windowShape.Length;
        var st = strides ?? Enumerable.Repeat(1, d).ToArray();
        if (d == 0 || windowShape.Any(w => w < 1) || st.Length != d || st.Any(s => s < 1))
            throw new ArgumentException($"{name}: window ({string.Join(", ", windowShape)}) and strides ({string.Join(", ", st)}) must be {d} positive values", nameof(windowShape));
        (int[] w, int[] s, (int, int)[] pad) Cfg(Shape x, bool applying = false)
        {
            var sp = padding == Padding.Same || (padding == Padding.Circular && !applying)
                ? ConvPadding.Same(x.Dims[1..^1], windowShape, st, Enumerable.Repeat(1, d).ToArray())
                : ConvPadding.Valid(d);
            return (windowShape.Prepend(1).Append(1).ToArray(), st.Prepend(1).Append(1).ToArray(), sp.Prepend((0, 0)).Append((0, 0)).ToArray());
        }
        double norm = windowShape.Aggregate(1.0, (a, b) => a * b);
        void Check(Shape s, string what)
        {
            if (s.Rank != d + 2) throw new ArgumentException($"{name}: a {d}-D window needs inputs of rank {d + 2}, got shape {s}", what);
        }
        var desc = $"{name}({Tup(windowShape)}{(strides is null ? "" : ",strides=" + Tup(st))}{PaddingText(padding)}" +
                   $"{(kind == PoolKind.AvgNormalized ? ",normalize_edges=True" : "")})";
        return Layer.Single(desc,
            (rng, s, dtype, prefix, into) =>
            {
                Check(s, "inputShape");
                var (w, ss, pad) = Cfg(s);
                return ReduceWindow.SumInferShape(s, w, ss, pad);
            },
            (p, x) =>
            {
                Check(x.Shape, "inputs");
                // CIRCULAR: wrap by SAME's pads, then pool with VALID (every window is full).
                if (padding == Padding.Circular)
                    x = WrapPad(x, ConvPadding.Same(x.Shape.Dims[1..^1], windowShape, st, Enumerable.Repeat(1, d).ToArray()), name);
                var (w, ss, pad) = Cfg(x.Shape, applying: true);
                var sum = Lax.ReduceWindowSum(x, w, ss, pad);
                switch (kind)
                {
                    case PoolKind.Sum: return sum;
                    case PoolKind.Avg: return sum / norm;
                    default:
                        // Window element counts of a (1, spatial…, 1) image of ones: a constant, broadcast over N and C.
                        var ones = Tensor.Full(new Shape(x.Shape.Select((v, k) => k == 0 || k == x.Rank - 1 ? 1 : v)), 1.0, x.DType);
                        var counts = ReduceWindow.Sum(ones, w, ss, pad);
                        return sum / x.Builder.Constant(counts);
                }
            });
    }

    /// <summary><c>stax.GlobalAvgPool()</c>: mean over every axis but the batch (first) and channel (last).</summary>
    public static Layer GlobalAvgPool() => Layer.Single("GlobalAvgPool",
        (rng, s, dtype, prefix, into) => new Shape(s[0], s[-1]),
        (p, x) => x.Rank <= 2 ? x : Np.Mean(x, Enumerable.Range(1, x.Rank - 2).ToArray()));

    /// <summary><c>stax.GlobalSumPool()</c>: sum over every axis but the batch (first) and channel (last).</summary>
    public static Layer GlobalSumPool() => Layer.Single("GlobalSumPool",
        (rng, s, dtype, prefix, into) => new Shape(s[0], s[-1]),
        (p, x) => x.Rank <= 2 ? x : Np.Sum(x, Enumerable.Range(1, x.Rank - 2).ToArray()));
}
