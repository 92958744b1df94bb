
namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// <c>lax.reduce_window_sum</c> with zero padding (the core of average pooling) and its adjoint. A box window is
/// separable, so both run as one 1-D pass per axis with a non-trivial window; sums are taken in float64 whatever the
/// dtype, then rounded once.
/// </summary>
internal static class ReduceWindow
{
    /// <summary>Output sizes <c>floor((L + lo + hi − w) / s) + 1</c> per axis.</summary>
    /// <exception cref="ArgumentException">Lengths differ from the rank, a window/stride is &lt; 1, or a window exceeds the padded input.</exception>
    internal static Shape SumInferShape(Shape x, int[] window, int[] strides, (int Lo, int Hi)[] padding)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(strides);
        ArgumentNullException.ThrowIfNull(padding);
        if (window.Length != x.Rank || strides.Length != x.Rank || padding.Length != x.Rank)
            throw new ArgumentException($"reduce_window_sum: window, strides and padding need one entry per axis of {x} (rank {x.Rank}), got {window.Length}, {strides.Length} and {padding.Length}", nameof(window));
        var dims = new int[x.Rank];
        for (int a = 0; a < x.Rank; a++)
        {
            if (window[a] < 1 || strides[a] < 1)
                throw new ArgumentException($"reduce_window_sum: window and strides must be >= 1, got window [{string.Join(", ", window)}] and strides [{string.Join(", ", strides)}]", nameof(window));
            int padded = x[a] + padding[a].Lo + padding[a].Hi;
            if (padded < window[a])
                throw new ArgumentException($"reduce_window_sum: window {window[a]} on axis {a} is bigger than the padded input {padded} (size {x[a]}, padding ({padding[a].Lo}, {padding[a].Hi})) of {x}", nameof(window));
            dims[a] = (padded - window[a]) / strides[a] + 1;
        }
        return new Shape(dims);
    }

    /// <summary>Sum over each window position (zero outside the input).</summary>
    /// <exception cref="ArgumentException">See <see cref="SumInferShape"/>.</exception>
    internal static Tensor Sum(Tensor x, int[] window, int[] strides, (int Lo, int Hi)[] padding)
    {
        ArgumentNullException.ThrowIfNull(x);
        var outShape = SumInferShape(x.Shape, window, strides, padding);
        var cur = x.ToDoubleArray();
        var dims = x.Shape.ToArray();
        for (int a = 0; a < dims.Length; a++)
        {
            if (Trivial(window[a], strides[a], padding[a])) continue;
            int outer = Prod(dims, 0, a), inner = Prod(dims, a + 1, dims.Length), len = dims[a], lenOut = outShape[a];
            var next = new double[outer * lenOut * inner];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < lenOut; i++)
                {
                    var dst = next.AsSpan((o * lenOut + i) * inner, inner);
                    for (int j = 0; j < window[a]; j++)
                    {
                        int src = i * strides[a] + j - padding[a].Lo;
                        if ((uint)src < (uint)len) SimdSpan.Add(dst, cur.AsSpan((o * len + src) * inner, inner), dst);
                    }
                }
            cur = next;
            dims[a] = lenOut;
        }
        return Result(cur, outShape, x.DType);
    }

    /// <summary>Adjoint of <see cref="Sum"/>: every input element receives the cotangents of the windows covering it.</summary>
    /// <exception cref="ArgumentException">The cotangent shape is not the window-sum shape of <paramref name="xShape"/>.</exception>
    internal static Tensor SumTranspose(Tensor ct, Shape xShape, int[] window, int[] strides, (int Lo, int Hi)[] padding)
    {
        ArgumentNullException.ThrowIfNull(ct);
        var outShape = SumInferShape(xShape, window, strides, padding);
        if (ct.Shape != outShape)
            throw new ArgumentException($"reduce_window_sum transpose: cotangent shape {ct.Shape} differs from the output shape {outShape} for input {xShape}", nameof(ct));
        var cur = ct.ToDoubleArray();
        var dims = outShape.ToArray();
        for (int a = dims.Length - 1; a >= 0; a--)
        {
            if (Trivial(window[a], strides[a], padding[a])) continue;
            int outer = Prod(dims, 0, a), inner = Prod(dims, a + 1, dims.Length), len = xShape[a], lenOut = dims[a];
            var next = new double[outer * len * inner];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < lenOut; i++)
                {
                    var src = cur.AsSpan((o * lenOut + i) * inner, inner);
                    for (int j = 0; j < window[a]; j++)
                    {
                        int dst = i * strides[a] + j - padding[a].Lo;
                        if ((uint)dst < (uint)len)
                        {
                            var d = next.AsSpan((o * len + dst) * inner, inner);
                            SimdSpan.Add(d, src, d);
                        }
                    }
                }
            cur = next;
            dims[a] = len;
        }
        return Result(cur, xShape, ct.DType);
    }

    private static bool Trivial(int w, int s, (int Lo, int Hi) p) => w == 1 && s == 1 && p == (0, 0);

    private static int Prod(int[] dims, int from, int to)
    {
        int p = 1;
        for (int i = from; i < to; i++) p *= dims[i];
        return p;
    }

    private static Tensor Result(double[] data, Shape shape, DType dtype)
    {
        if (dtype == DType.Float64) return Tensor.Wrap(data, shape);
        var f = new float[data.Length];
        TensorPrimitivesCompat.ConvertToSingle(data, f);
        return Tensor.Wrap(f, shape);
    }
}
