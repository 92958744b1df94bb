using FsCheck.Xunit;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Tensors.Kernels;

public class ReduceWindowTests
{
    private static double[] NaiveSum(Tensor x, int[] window, int[] strides, (int Lo, int Hi)[] pad, Shape outShape)
    {
        int r = x.Rank;
        var y = new double[outShape.Size];
        var oi = new int[r];
        var wi = new int[r];
        var xi = new int[r];
        int wn = window.Aggregate(1, (a, b) => a * b);
        for (int flat = 0; flat < y.Length; flat++)
        {
            ConvTests.Unravel(flat, outShape.ToArray(), oi);
            double s = 0;
            for (int k = 0; k < wn; k++)
            {
                ConvTests.Unravel(k, window, wi);
                bool inside = true;
                for (int a = 0; a < r; a++)
                {
                    xi[a] = oi[a] * strides[a] + wi[a] - pad[a].Lo;
                    if (xi[a] < 0 || xi[a] >= x.Shape[a]) inside = false;
                }
                if (inside) s += x[xi];
            }
            y[flat] = s;
        }
        return y;
    }

    private static (Shape, int[], int[], (int, int)[]) RandomCase(Random rng)
    {
        int r = rng.Next(1, 5);
        var dims = Enumerable.Range(0, r).Select(_ => rng.Next(1, 7)).ToArray();
        var window = dims.Select(d => rng.Next(1, Math.Min(d, 3) + 1)).ToArray();
        var strides = dims.Select(_ => rng.Next(1, 3)).ToArray();
        var pad = rng.Next(2) == 0 ? ConvPadding.Valid(r) : ConvPadding.Same(dims, window, strides);
        return (new Shape(dims), window, strides, pad);
    }

    [Property(MaxTest = 150)]
    public void SumMatchesNaiveAndTransposeIsAdjoint(int seed, bool f32)
    {
        var rng = new Random(seed);
        var (shape, window, strides, pad) = RandomCase(rng);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        var x = Tensor.RandomNormal(rng, shape, dtype);
        var outShape = ReduceWindow.SumInferShape(shape, window, strides, pad);
        var y = ReduceWindow.Sum(x, window, strides, pad);
        Assert.Equal(outShape, y.Shape);
        Assert.Equal(dtype, y.DType);
        var want = NaiveSum(x, window, strides, pad, outShape);
        var got = y.ToDoubleArray();
        double tol = f32 ? 1e-6 : 1e-12;
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(got[i] - want[i]) <= tol * (1 + Math.Abs(want[i])));

        var ct = Tensor.RandomNormal(rng, outShape);
        var x64 = x.AsType(DType.Float64);
        var dx = ReduceWindow.SumTranspose(ct, shape, window, strides, pad);
        Assert.Equal(shape, dx.Shape);
        double lhs = ConvTests.Inner(ct, ReduceWindow.Sum(x64, window, strides, pad)), rhs = ConvTests.Inner(dx, x64);
        Assert.True(Math.Abs(lhs - rhs) <= 1e-12 * (1 + Math.Abs(lhs)), $"{lhs} vs {rhs}");
    }

    [Fact]
    public void AvgPool2x2()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 16).Select(i => (double)i).ToArray(), new Shape(1, 4, 4, 1));
        var y = ReduceWindow.Sum(x, [1, 2, 2, 1], [1, 2, 2, 1], ConvPadding.Valid(4));
        Assert.Equal(new Shape(1, 2, 2, 1), y.Shape);
        Assert.Equal(new double[] { 10, 18, 42, 50 }, y.ToDoubleArray());
    }

    [Fact]
    public void Errors()
    {
        Assert.Contains("window 5 on axis 1 is bigger than the padded input 4",
            Assert.Throws<ArgumentException>(() => ReduceWindow.SumInferShape(new Shape(2, 4), [1, 5], [1, 1], ConvPadding.Valid(2))).Message);
        Assert.Contains("one entry per axis",
            Assert.Throws<ArgumentException>(() => ReduceWindow.SumInferShape(new Shape(2, 4), [1], [1, 1], ConvPadding.Valid(2))).Message);
        Assert.Contains("cotangent shape",
            Assert.Throws<ArgumentException>(() => ReduceWindow.SumTranspose(Tensor.Zeros(new Shape(2, 2)), new Shape(2, 4), [1, 2], [1, 1], ConvPadding.Valid(2))).Message);
    }
}
