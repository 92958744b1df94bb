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

    private static Tensor Run<T>(Tensor x, int[] kernel, ConvParams p, Shape shape) where T : unmanaged
    {
        int d = kernel.Length, n = x.Shape[0], ch = x.Shape[-1];
        var inSp = x.Shape.Dims[1..^1];
        var outSp = shape.Dims[1..(1 + d)];
        int outCount = outSp.Aggregate(1, (a, b) => a * b), kCount = kernel.Aggregate(1, (a, b) => a * b);
        var src = x.Span<T>();
        var dst = BufferPool.Rent<T>(shape.Size, zeroed: true);   // padding positions are skipped, so stay 0
        var s = new int[d]; var k = new int[d];
        int inStride0 = inSp.Aggregate(1, (a, b) => a * b) * ch;
        int w = 0;
        for (int b = 0; b < n; b++)
            for (int o = 0; o < outCount; o++)
            {
                int rem = o;
                for (int a = d - 1; a >= 0; a--) { s[a] = rem % outSp[a]; rem /= outSp[a]; }
                for (int q = 0; q < kCount; q++, w += ch)
                {
                    int r2 = q;
                    for (int a = d - 1; a >= 0; a--) { k[a] = r2 % kernel[a]; r2 /= kernel[a]; }
                    int off = b * inStride0; bool inside = true;
                    for (int a = 0; a < d && inside; a++)
                    {
                        int pos = s[a] * p.Strides[a] + k[a] * p.RhsDilation[a] - p.Padding[a].Lo;
                        if (pos < 0 || pos >= inSp[a]) inside = false;
                        int stride = ch;
                        for (int a2 = a + 1; a2 < d; a2++) stride *= inSp[a2];
                        off += pos * stride;
                    }
                    if (inside) src.Slice(off, ch).CopyTo(dst.AsSpan(w, ch));
                }
            }
        return Tensor.Wrap(dst, shape);
    }
}
