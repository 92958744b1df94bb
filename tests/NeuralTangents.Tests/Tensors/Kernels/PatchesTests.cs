using FsCheck.Xunit;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Tensors.Kernels;

/// <summary>
/// <see cref="Patches"/> (im2col of a convolution's lhs, structured derivatives' compressed ∂y/∂W) against its
/// definition evaluated element by element: <c>[n, s, k, c] = x[n, s·stride + k·dilation − padLo, c]</c>, zero outside.
/// A pure copy, so values agree exactly, for 1–3 spatial axes, strides, dilation and padding (negative padding
/// included), with sizes large enough to run the parallel blocks.
/// </summary>
public class PatchesTests
{
    [Property(MaxTest = 40)]
    public void PatchesMatchTheirDefinition(int seed, bool f32)
    {
        var rng = new Random(seed);
        int d = 1 + rng.Next(3);
        int n = 1 + rng.Next(4), ch = 1 + rng.Next(d == 3 ? 5 : 40);
        var inSp = Enumerable.Range(0, d).Select(_ => 3 + rng.Next(d == 1 ? 60 : d == 2 ? 20 : 7)).ToArray();
        var kernel = inSp.Select(s => 1 + rng.Next(Math.Min(4, s))).ToArray();
        var strides = inSp.Select(_ => 1 + rng.Next(3)).ToArray();
        var dil = inSp.Select(_ => rng.Next(4) == 0 ? 2 : 1).ToArray();
        var pad = inSp.Select(_ => (rng.Next(-1, 3), rng.Next(-1, 3))).ToArray();
        var p = new ConvParams(strides, pad, dil);
        var xShape = new Shape(new[] { n }.Concat(inSp).Append(ch).ToArray());
        Shape shape;
        try { shape = Patches.InferShape(xShape, kernel, p); }
        catch (ArgumentException) { return; }   // window larger than the padded input: no patches to compare
        if (shape.Size == 0) return;
        var x = Tensor.RandomNormal(rng, xShape, f32 ? DType.Float32 : DType.Float64);
        var got = Patches.Compute(x, kernel, p).ToDoubleArray();
        var xv = x.ToDoubleArray();
        var outSp = shape.Dims[1..(1 + d)];
        var want = new double[shape.Size];
        int w = 0;
        foreach (var (b, s, k) in Indices(n, outSp, kernel))
            for (int c = 0; c < ch; c++, w++)
            {
                int off = b, inside = 1;
                for (int a = 0; a < d; a++)
                {
                    int pos = s[a] * strides[a] + k[a] * dil[a] - pad[a].Item1;
                    if (pos < 0 || pos >= inSp[a]) inside = 0;
                    off = off * inSp[a] + Math.Clamp(pos, 0, inSp[a] - 1);
                }
                want[w] = inside == 1 ? xv[off * ch + c] : 0;
            }
        Assert.Equal(want.Length, w);
        Assert.True(want.AsSpan().SequenceEqual(got), $"d={d} x={xShape} kernel=[{string.Join(",", kernel)}] {p}");
    }

    private static IEnumerable<(int, int[], int[])> Indices(int n, int[] outSp, int[] kernel)
    {
        int d = outSp.Length;
        int outCount = outSp.Aggregate(1, (a, b) => a * b), kCount = kernel.Aggregate(1, (a, b) => a * b);
        for (int b = 0; b < n; b++)
            for (int o = 0; o < outCount; o++)
                for (int q = 0; q < kCount; q++)
                {
                    var s = new int[d]; var k = new int[d];
                    for (int a = d - 1, r = o, r2 = q; a >= 0; a--) { s[a] = r % outSp[a]; r /= outSp[a]; k[a] = r2 % kernel[a]; r2 /= kernel[a]; }
                    yield return (b, s, k);
                }
    }
}
