using System.Runtime.CompilerServices;
namespace NeuralTangents.Tensors.Ops;

/// <summary>Shape-changing primitives that copy: <c>lax.pad</c> and <c>lax.concatenate</c>.</summary>
internal static class Structural
{
    /// <summary>
    /// Output shape of <c>lax.pad</c>: per axis <c>lo + hi + d + max(d − 1, 0)·interior</c>. Negative lo/hi crop.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong config length, negative interior, or a negative output size.</exception>
    public static Shape PadShape(Shape x, (int Lo, int Hi, int Interior)[] config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Length != x.Rank)
            throw new ArgumentException($"pad: config has {config.Length} entries but the operand shape {x} has rank {x.Rank}", nameof(config));
        var dims = new int[x.Rank];
        for (int i = 0; i < x.Rank; i++)
        {
            var (lo, hi, interior) = config[i];
            if (interior < 0)
                throw new ArgumentException($"pad: interior padding must be non-negative, got {interior} on axis {i} of shape {x}", nameof(config));
            long d = x[i];
            long size = lo + (long)hi + d + Math.Max(d - 1, 0) * interior;
            if (size < 0)
                throw new ArgumentException($"pad: config (lo={lo}, hi={hi}, interior={interior}) on axis {i} of shape {x} gives negative size {size}", nameof(config));
            if (size > int.MaxValue)
                throw new ArgumentException($"pad: config (lo={lo}, hi={hi}, interior={interior}) on axis {i} of shape {x} gives size {size}, too large", nameof(config));
            dims[i] = (int)size;
        }
        return new Shape(dims);
    }

    /// <summary>
    /// <c>lax.pad</c>: element i of each axis lands at <c>lo + i·(interior + 1)</c>; everything else is
    /// <paramref name="value"/>; positions outside the output (negative lo/hi) are dropped.
    /// </summary>
    public static Tensor Pad(Tensor x, double value, (int Lo, int Hi, int Interior)[] config)
    {
        ArgumentNullException.ThrowIfNull(x);
        var outShape = PadShape(x.Shape, config);
        return x.DType == DType.Float32 ? Pad(x, (float)value, config, outShape) : Pad(x, value, config, outShape);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 (see Blas.Tile)
    private static Tensor Pad<T>(Tensor x, T value, (int Lo, int Hi, int Interior)[] config, Shape outShape)
    {
        var dst = BufferPool.Rent<T>(outShape.Size);   // filled with the padding value first
        if (dst.Length == 0) return Tensor.Wrap(dst, outShape);
        Array.Fill(dst, value);
        int rank = x.Rank;
        var outStrides = outShape.ContiguousStrides();
        var dims = new int[rank];
        var srcStrides = new int[rank];
        var dstStrides = new int[rank];
        int so = x.Offset, dOff = 0;
        for (int i = 0; i < rank; i++)
        {
            var (lo, _, interior) = config[i];
            int step = interior + 1, size = outShape[i];
            // First and last input index whose position lo + j·step lies in [0, size).
            long first = lo >= 0 ? 0 : (-(long)lo + step - 1) / step;
            long last = Math.Min(x.Shape[i] - 1L, size - 1L - lo < 0 ? -1 : (size - 1L - lo) / step);
            if (last < first) return Tensor.Wrap(dst, outShape);
            dims[i] = (int)(last - first + 1);
            srcStrides[i] = x.Strides[i];
            dstStrides[i] = step * outStrides[i];
            so += (int)first * x.Strides[i];
            dOff += (int)(lo + first * step) * outStrides[i];
        }
        StridedMove.Copy((T[])x.Storage, so, srcStrides, dst, dOff, dstStrides, dims);
        return Tensor.Wrap(dst, outShape);
    }

    /// <summary>Output shape of <c>lax.concatenate</c> along <paramref name="axis"/> (negative allowed).</summary>
    /// <exception cref="ArgumentException">No operands, unequal ranks, or sizes differing off the axis.</exception>
    public static Shape ConcatenateShape(IReadOnlyList<Shape> xs, int axis)
    {
        ArgumentNullException.ThrowIfNull(xs);
        if (xs.Count == 0) throw new ArgumentException("concatenate: needs at least one operand", nameof(xs));
        var s0 = xs[0];
        if (s0.Rank == 0) throw new ArgumentException("concatenate: operands must have rank >= 1, got shape ()", nameof(xs));
        if (axis < -s0.Rank || axis >= s0.Rank)
            throw new ArgumentOutOfRangeException(nameof(axis), $"concatenate: axis {axis} is out of range for operands of rank {s0.Rank}, shape {s0}");
        if (axis < 0) axis += s0.Rank;
        long total = 0;
        for (int j = 0; j < xs.Count; j++)
        {
            var s = xs[j];
            if (s.Rank != s0.Rank)
                throw new ArgumentException($"concatenate: operand {j} has shape {s} of rank {s.Rank}, but operand 0 has shape {s0} of rank {s0.Rank}", nameof(xs));
            for (int i = 0; i < s.Rank; i++)
                if (i != axis && s[i] != s0[i])
                    throw new ArgumentException($"concatenate: operand {j} has shape {s} but operand 0 has shape {s0}; sizes must be equal except on axis {axis}", nameof(xs));
            total += s[axis];
        }
        if (total > int.MaxValue) throw new ArgumentException($"concatenate: axis {axis} would have size {total}, too large", nameof(xs));
        var dims = s0.ToArray();
        dims[axis] = (int)total;
        return new Shape(dims);
    }

    /// <summary><c>lax.concatenate</c>: equal ranks and dtypes, sizes equal except on <paramref name="axis"/>.</summary>
    public static Tensor Concatenate(IReadOnlyList<Tensor> xs, int axis)
    {
        ArgumentNullException.ThrowIfNull(xs);
        for (int j = 0; j < xs.Count; j++)
        {
            if (xs[j] is null) throw new ArgumentNullException(nameof(xs), $"concatenate: operand {j} is null");
            if (xs[j].DType != xs[0].DType)
                throw new ArgumentException($"concatenate: operand {j} has dtype {xs[j].DType.Name()} but operand 0 has {xs[0].DType.Name()}", nameof(xs));
        }
        var outShape = ConcatenateShape(xs.Select(t => t.Shape).ToArray(), axis);
        if (axis < 0) axis += outShape.Rank;
        return xs[0].DType == DType.Float32 ? Concatenate<float>(xs, axis, outShape) : Concatenate<double>(xs, axis, outShape);
    }

    private static Tensor Concatenate<T>(IReadOnlyList<Tensor> xs, int axis, Shape outShape)
    {
        var dst = BufferPool.Rent<T>(outShape.Size);   // the operands tile the output along the axis
        var outStrides = outShape.ContiguousStrides();
        int at = 0;
        foreach (var x in xs)
        {
            StridedMove.Copy((T[])x.Storage, x.Offset, x.Strides, dst, at * outStrides[axis], outStrides, x.Shape.Dims);
            at += x.Shape[axis];
        }
        return Tensor.Wrap(dst, outShape);
    }
}
