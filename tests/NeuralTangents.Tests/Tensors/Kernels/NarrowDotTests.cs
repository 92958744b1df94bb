using FsCheck.Xunit;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Tensors.Kernels;

/// <summary>
/// <see cref="NarrowDot"/> (per-example weight gradients: ∂f/∂y (E, B, H, W, O) against patches (E, H, W, F),
/// contracted over H, W; B ≥ 2 so that DotGeneral would copy, H·W ≥ 16) computes exactly what the copying <see cref="DotGeneral"/> computes: the same reduction
/// order and float32 block numerics, so float32 values agree bitwise (float64 to rounding), with either operand first.
/// </summary>
public class NarrowDotTests
{
    [Property(MaxTest = 30)]
    public void PerExampleWeightGradientsEqualDotGeneralBitwise(int seed, bool f32, bool narrowFirst)
    {
        var rng = new Random(seed);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        int e = 1 + rng.Next(4), b = 2 + rng.Next(5), h = 4 + rng.Next(20), w = 4 + rng.Next(20), o = 8 + rng.Next(57), f = 6 + rng.Next(60);
        var dy = Tensor.RandomNormal(rng, new Shape(e, b, h, w, o), dtype);
        var p = Tensor.RandomNormal(rng, new Shape(e, h, w, f), dtype);
        var dims = narrowFirst
            ? new DotDimensionNumbers([2, 3], [1, 2], [0], [0])
            : new DotDimensionNumbers([1, 2], [2, 3], [0], [0]);
        var (x, y) = narrowFirst ? (dy, p) : (p, dy);
        var got = NarrowDot.TryCompute(x, y, dims);
        Assert.NotNull(got);
        var want = DotGeneral.Compute(x, y, dims);
        Assert.Equal(want.Shape, got!.Shape);
        var (wv, gv) = (want.ToDoubleArray(), got.ToDoubleArray());
        if (f32) Assert.True(wv.AsSpan().SequenceEqual(gv), $"e={e} b={b} h={h} w={w} o={o} f={f}");
        else
        {
            // float64: the packed GEMM adds its KC blocks into C, the unpacked one chains all of k: rounding-level differences.
            double norm = wv.Max(Math.Abs);
            for (int i = 0; i < wv.Length; i++) Assert.True(Math.Abs(wv[i] - gv[i]) <= 1e-12 * norm, $"[{i}] {wv[i]} vs {gv[i]}");
        }
    }

    [Fact]
    public void DeclinesWhatDotGeneralReadsInPlaceAndWideBlocks()
    {
        var rng = new Random(3);
        // A plain batched matrix product: both operands are views already.
        var a = Tensor.RandomNormal(rng, new Shape(4, 30, 20));
        var c = Tensor.RandomNormal(rng, new Shape(4, 20, 16));
        Assert.Null(NarrowDot.TryCompute(a, c, new DotDimensionNumbers([2], [1], [0], [0])));
        // The inner block (O = 100) is wider than the unpacked GEMM takes.
        var dy = Tensor.RandomNormal(rng, new Shape(2, 3, 5, 5, 100));
        var p = Tensor.RandomNormal(rng, new Shape(2, 5, 5, 12));
        Assert.Null(NarrowDot.TryCompute(p, dy, new DotDimensionNumbers([1, 2], [2, 3], [0], [0])));
    }
}
