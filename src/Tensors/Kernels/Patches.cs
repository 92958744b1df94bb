using NeuralTangents.Tensors.Ops;

namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// im2col patches of a convolution's lhs: <c>(N, S1..Sd, C)</c> ↦ <c>(N, S1'..Sd', K1..Kd, C)</c>, where entry
/// <c>[n, s, k, c] = x[n, s·stride + k·dilation − padLo, c]</c> (zero outside). It is <c>∂y/∂W</c> of a convolution
/// with the output-channel axis trimmed, which structured derivatives contract instead of the full Jacobian.
/// </summary>
internal static class Patches
{
    public static Shape InferShape(Shape lhs, int[] kernel, ConvParams p)
    {
        var outShape = Conv.InferShape(lhs, new Shape(kernel.Append(lhs[-1]).Append(1).ToArray()), p);
        return new Shape(outShape.Take(outShape.Rank - 1).Concat(kernel).Append(lhs[-1]));
    }

    public static Tensor Compute(Tensor x, int[] kernel, ConvParams p)
    {
        var shape = InferShape(x.Shape, kernel, p);
        var c = x.Contiguous();
        return x.DType == DType.Float32 ? Run<float>(c, kernel, p, shape) : Run<double>(c, kernel, p, shape);
    }

    /// <summary>Rows (one output position of one example, <c>K·C</c> elements) per parallel block.</summary>
    private const int RowsPerBlock = 64;

    /// <summary>
    /// One row per (example, output position), written as K contiguous channel runs copied from x (zero where the
    /// window leaves the padded input). The kernel offsets' element offsets are precomputed, so a row costs K range
    /// checks and copies; rows are split over threads (a pure copy: results do not depend on the thread count).
    /// </summary>
    private static Tensor Run<T>(Tensor x, int[] kernel, ConvParams p, Shape shape) where T : unmanaged
    {
        int d = kernel.Length, n = x.Shape[0], ch = x.Shape[-1];
        var inSp = x.Shape.Dims[1..^1];
        var outSp = shape.Dims[1..(1 + d)];
        int outCount = outSp.Aggregate(1, (a, b) => a * b), kCount = kernel.Aggregate(1, (a, b) => a * b);
        var inStride = new int[d];   // elements per step along each spatial axis of x
        for (int a = d - 1, st = ch; a >= 0; a--) { inStride[a] = st; st *= inSp[a]; }
        int inStride0 = inSp.Aggregate(1, (a, b) => a * b) * ch;
        // Per kernel offset q: its position along each axis (k·dilation) and its element offset.
        var kPos = new int[kCount * d];
        var kOff = new int[kCount];
        for (int q = 0; q < kCount; q++)
            for (int a = d - 1, r = q; a >= 0; a--)
            {
                int pos = r % kernel[a] * p.RhsDilation[a];
                r /= kernel[a];
                kPos[q * d + a] = pos;
                kOff[q] += pos * inStride[a];
            }
        var src = (T[])x.Storage;
        int srcOff = x.Offset;
        var dst = BufferPool.Rent<T>(shape.Size);   // every element is written below (padding positions cleared)
        int rowLen = kCount * ch, rows = n * outCount;
        void Rows(int from, int to)
        {
            Span<int> lo = stackalloc int[d];   // the window's first position along each axis (may be negative)
            for (int row = from; row < to; row++)
            {
                int b = row / outCount, rem = row - b * outCount, baseOff = srcOff + b * inStride0;
                bool interior = true;
                for (int a = d - 1; a >= 0; a--)
                {
                    int s = rem % outSp[a];
                    rem /= outSp[a];
                    lo[a] = s * p.Strides[a] - p.Padding[a].Lo;
                    baseOff += lo[a] * inStride[a];
                    if (lo[a] < 0 || lo[a] + kPos[(kCount - 1) * d + a] >= inSp[a]) interior = false;
                }
                var outRow = dst.AsSpan(row * rowLen, rowLen);
                for (int q = 0; q < kCount; q++)
                {
                    if (!interior)
                    {
                        bool inside = true;
                        for (int a = 0; a < d && inside; a++)
                        {
                            int pos = lo[a] + kPos[q * d + a];
                            inside = pos >= 0 && pos < inSp[a];
                        }
                        if (!inside) { outRow.Slice(q * ch, ch).Clear(); continue; }   // padding
                    }
                    src.AsSpan(baseOff + kOff[q], ch).CopyTo(outRow.Slice(q * ch, ch));
                }
            }
        }
        int blocks = (rows + RowsPerBlock - 1) / RowsPerBlock;
        if ((long)rows * rowLen >= Chunks.ParallelThreshold && blocks > 1 && Environment.ProcessorCount > 1)
            Parallel.For(0, blocks, i => Rows(i * RowsPerBlock, Math.Min(rows, (i + 1) * RowsPerBlock)));
        else
            Rows(0, rows);
        return Tensor.Wrap(dst, shape);
    }
}
