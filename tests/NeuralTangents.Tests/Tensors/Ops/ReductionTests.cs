using Xunit;
using FsCheck.Xunit;
using NeuralTangents.Tensors;
using static NeuralTangents.Tests.Tensors.Ops.OpsTestUtil;

namespace NeuralTangents.Tests.Tensors.Ops;

public class ReductionTests
{
    private static int[] RandomAxes(Random rng, int rank)
    {
        var axes = Enumerable.Range(0, rank).Where(_ => rng.Next(2) == 0).OrderBy(_ => rng.Next()).ToArray();
        // Sometimes spell them negatively.
        return axes.Select(a => rng.Next(3) == 0 ? a - rank : a).ToArray();
    }

    private static (double[] Sum, double[] Abs, double[] Max, Shape Out) Naive(Tensor x, int[] axes)
    {
        var red = axes.Select(a => a < 0 ? a + x.Rank : a).ToHashSet();
        var keep = Enumerable.Range(0, x.Rank).Where(i => !red.Contains(i)).ToArray();
        var outShape = new Shape(keep.Select(i => x.Shape[i]));
        var outStrides = outShape.ContiguousStrides();
        int n = outShape.Size;
        var sum = new double[n];
        var abs = new double[n];
        var max = Enumerable.Repeat(double.NegativeInfinity, n).ToArray();
        foreach (var idx in Indices(x.Shape))
        {
            int o = 0;
            for (int k = 0; k < keep.Length; k++) o += idx[keep[k]] * outStrides[k];
            double v = x[idx];
            sum[o] += v;
            abs[o] += Math.Abs(v);
            max[o] = Math.Max(max[o], v);
        }
        return (sum, abs, max, outShape);
    }

    private static void Check(Tensor x, int[] axes)
    {
        var (sum, abs, max, outShape) = Naive(x, axes);
        var s = Reductions.Sum(x, axes);
        var m = Reductions.Max(x, axes);
        Assert.Equal(outShape, s.Shape);
        Assert.Equal(outShape, m.Shape);
        Assert.Equal(x.DType, s.DType);
        Assert.True(s.Size == 0 || (s.IsContiguous && m.IsContiguous));
        bool f32 = x.DType == DType.Float32;
        double[] sv = Values(s), mv = Values(m);
        for (int i = 0; i < sum.Length; i++)
        {
            AssertClose(sum[i], sv[i], 0, (f32 ? 1e-6 : 1e-14) * (abs[i] + 1e-300), $"sum[{i}] over [{string.Join(",", axes)}] of {x.Shape}");
            AssertSame(f32 ? (float)max[i] : max[i], mv[i], $"max[{i}]");
        }
    }

    [Property(MaxTest = 150)]
    public void Sum_and_Max_match_naive_loops_on_random_views_and_axes(int seed)
    {
        var rng = new Random(seed);
        var shape = RandomShape(rng);
        var x = RandomView(rng, shape, AllDTypes[rng.Next(2)]);
        Check(x, RandomAxes(rng, shape.Rank));
    }

    [Theory]
    [InlineData(new[] { 3000, 40 }, new[] { 0 })]        // reduced axes lead: row accumulation
    [InlineData(new[] { 40, 3000 }, new[] { 1 })]        // reduced axes trail: contiguous rows
    [InlineData(new[] { 30, 7, 50 }, new[] { 2, 0 })]    // mixed: permuted copy
    [InlineData(new[] { 3000, 1, 5 }, new[] { 0 })]      // leading but short rows
    [InlineData(new[] { 1, 70, 1, 40 }, new[] { 2, 0, 3 })]
    [InlineData(new[] { 5, 0, 3 }, new[] { 1 })]         // empty reduction: 0 and -inf
    [InlineData(new[] { 5, 0, 3 }, new[] { 0 })]         // empty output
    [InlineData(new[] { 4, 5 }, new int[0])]             // no axes: copy
    [InlineData(new int[0], new int[0])]
    public void Sum_and_Max_on_layout_cases(int[] dims, int[] axes)
    {
        var rng = new Random(dims.Sum() + axes.Length);
        foreach (var dtype in AllDTypes)
        {
            Check(RandomView(rng, new Shape(dims), dtype), axes);
            if (new Shape(dims).Size > 0) Check(Tensor.RandomNormal(rng, new Shape(dims), dtype), axes);
        }
    }

    [Fact]
    public void Empty_reductions_give_identities()
    {
        var x = Tensor.Zeros(new Shape(2, 0, 3), DType.Float32);
        Assert.Equal(new float[6], Reductions.Sum(x, [1]).ToArray<float>());
        Assert.All(Reductions.Max(x, [1]).ToDoubleArray(), v => Assert.Equal(double.NegativeInfinity, v));
        Assert.Equal(0.0, Reductions.SumAll(x));
        Assert.Equal(double.NegativeInfinity, Reductions.Max(Tensor.Zeros(new Shape(0)), [0]).ToScalar());
    }

    [Fact]
    public void Max_propagates_nan()
    {
        var x = Tensor.FromRows([[1, double.NaN, 3], [4, 5, 6]]);
        Assert.True(double.IsNaN(Reductions.Max(x, [1])[0]));
        Assert.Equal(6, Reductions.Max(x, [1])[1]);
        var big = Tensor.Full(new Shape(100, 64), 1.0).Reshape(100, 64);
        var d = big.ToDoubleArray(); d[3 * 64 + 5] = double.NaN;
        var m = Reductions.Max(Tensor.FromArray(d, new Shape(100, 64)), [0]).ToDoubleArray();
        Assert.True(double.IsNaN(m[5]));
        Assert.Equal(1, m[6]);
    }

    [Fact]
    public void Float32_sums_are_accumulated_in_double()
    {
        var ones = Tensor.Full(new Shape(10_000_000), 1.0, DType.Float32);
        Assert.Equal(1e7f, Reductions.Sum(ones, [0]).ToArray<float>()[0]);
        Assert.Equal(1e7, Reductions.SumAll(ones));
        Assert.Equal(1e7, Reductions.Dot(ones, ones));

        // 0.1f is inexact: the double sum of its value is the reference; a float32 running sum would be off by ~1e-3.
        double tenth = 0.1f;
        var cols = Tensor.Full(new Shape(250_000, 40), 0.1, DType.Float32);
        var s0 = Reductions.Sum(cols, [0]).ToArray<float>();
        Assert.All(s0, v => Assert.Equal((float)(tenth * 250_000), v));
        var s1 = Reductions.Sum(cols.Transpose(1, 0), [1]).ToArray<float>();
        Assert.All(s1, v => Assert.Equal((float)(tenth * 250_000), v));
    }

    [Fact]
    public void Sum_depends_only_on_values_not_on_layout()
    {
        var rng = new Random(3);
        var x = Tensor.RandomNormal(rng, new Shape(33, 17, 29), DType.Float32);
        var view = x.Rev(1).Transpose(2, 0, 1);
        var copy = view.Contiguous();
        foreach (var axes in new[] { new[] { 0 }, new[] { 1 }, new[] { 2 }, new[] { 0, 2 }, new[] { 1, 2 }, new[] { 0, 1, 2 } })
            Assert.Equal(Reductions.Sum(copy, axes).ToArray<float>(), Reductions.Sum(view, axes).ToArray<float>());
    }

    [Property(MaxTest = 60)]
    public void SumAll_and_Dot_match_naive(int seed)
    {
        var rng = new Random(seed);
        var dtype = AllDTypes[rng.Next(2)];
        var shape = rng.Next(4) == 0 ? new Shape(1500) : RandomShape(rng);
        var a = RandomView(rng, shape, dtype);
        var b = RandomView(rng, shape, dtype);
        double[] av = Values(a), bv = Values(b);
        double s = 0, sa = 0, d = 0, da = 0;
        for (int i = 0; i < av.Length; i++) { s += av[i]; sa += Math.Abs(av[i]); d += av[i] * bv[i]; da += Math.Abs(av[i] * bv[i]); }
        AssertClose(s, Reductions.SumAll(a), 0, 1e-14 * sa, "sum_all");
        AssertClose(d, Reductions.Dot(a, b), 0, 1e-14 * da, "dot");
    }

    [Fact]
    public void Reduction_errors_are_clear()
    {
        var x = Tensor.Zeros(new Shape(2, 3));
        var e = Assert.Throws<ArgumentException>(() => Reductions.Sum(x, [1, -1]));
        Assert.StartsWith("reduce_sum: axes [1, -1] must be distinct for shape (2, 3)", e.Message);
        var o = Assert.Throws<ArgumentOutOfRangeException>(() => Reductions.Max(x, [2]));
        Assert.StartsWith("reduce_max: axis 2 is out of range for shape (2, 3) of rank 2", o.Message);
        e = Assert.Throws<ArgumentException>(() => Reductions.Dot(x, Tensor.Zeros(new Shape(3, 2))));
        Assert.StartsWith("dot: operands must have equal shapes, got (2, 3) and (3, 2)", e.Message);
    }
}
