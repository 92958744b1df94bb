using FsCheck.Xunit;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Tensors.Kernels;

public class ConvTests
{
    /// <summary>Direct cross-correlation by definition, in double.</summary>
    internal static double[] NaiveConv(Tensor x, Tensor w, ConvParams p, Shape outShape)
    {
        int d = p.Strides.Length, g = p.FeatureGroupCount;
        int cg = x.Shape[d + 1] / g, o = w.Shape[d + 1], og = o / g;
        var kSp = Enumerable.Range(0, d).Select(i => w.Shape[i]).ToArray();
        int kp = kSp.Aggregate(1, (a, b) => a * b);
        var y = new double[outShape.Size];
        var oi = new int[d + 2];
        var k = new int[d];
        var xi = new int[d + 2];
        var wi = new int[d + 2];
        for (int flat = 0; flat < y.Length; flat++)
        {
            Unravel(flat, outShape.ToArray(), oi);
            int oc = oi[d + 1], grp = oc / og;
            double s = 0;
            for (int kk = 0; kk < kp; kk++)
            {
                Unravel(kk, kSp, k);
                bool inside = true;
                xi[0] = oi[0];
                for (int i = 0; i < d; i++)
                {
                    xi[i + 1] = oi[i + 1] * p.Strides[i] + k[i] * p.RhsDilation[i] - p.Padding[i].Lo;
                    if (xi[i + 1] < 0 || xi[i + 1] >= x.Shape[i + 1]) inside = false;
                    wi[i] = k[i];
                }
                if (!inside) continue;
                for (int c = 0; c < cg; c++)
                {
                    xi[d + 1] = grp * cg + c;
                    wi[d] = c; wi[d + 1] = oc;
                    s += x[xi] * w[wi];
                }
            }
            y[flat] = s;
        }
        return y;
    }

    internal static void Unravel(int flat, int[] dims, int[] idx)
    {
        for (int i = dims.Length - 1; i >= 0; i--) { idx[i] = flat % dims[i]; flat /= dims[i]; }
    }

    internal static double Inner(Tensor a, Tensor b) => a.ToDoubleArray().Zip(b.ToDoubleArray(), (x, y) => x * y).Sum();

    /// <summary>A random valid configuration: 1–3 spatial dims, VALID or SAME, strides 1–2, dilation 1–2, groups 1/2/depthwise.</summary>
    private static (Shape X, Shape W, ConvParams P) RandomCase(Random rng, int maxD = 2)
    {
        int d = rng.Next(1, maxD + 1);
        int groupsKind = rng.Next(3);
        int g = groupsKind == 0 ? 1 : groupsKind == 1 ? 2 : rng.Next(1, 5);
        int cg = groupsKind == 2 ? 1 : rng.Next(1, 4); // depthwise: one input channel per group
        int og = rng.Next(1, 4);
        int n = rng.Next(1, 3);
        var inSp = Enumerable.Range(0, d).Select(_ => rng.Next(1, d == 1 ? 12 : 7)).ToArray();
        var kSp = Enumerable.Range(0, d).Select(_ => rng.Next(1, 4)).ToArray();
        var strides = Enumerable.Range(0, d).Select(_ => rng.Next(1, 3)).ToArray();
        var dil = Enumerable.Range(0, d).Select(_ => rng.Next(1, 3)).ToArray();
        bool same = rng.Next(2) == 0;
        (int, int)[] pad;
        if (same) pad = ConvPadding.Same(inSp, kSp, strides, dil);
        else
        {
            pad = ConvPadding.Valid(d);
            for (int i = 0; i < d; i++) // VALID needs the window to fit
                while ((kSp[i] - 1) * dil[i] + 1 > inSp[i]) { if (dil[i] > 1) dil[i] = 1; else kSp[i]--; }
        }
        var x = new Shape(new[] { n }.Concat(inSp).Append(g * cg).ToArray());
        var w = new Shape(kSp.Append(cg).Append(g * og).ToArray());
        return (x, w, new ConvParams(strides, pad, dil, g));
    }

    [Property(MaxTest = 120)]
    public void ForwardMatchesNaive(int seed, bool f32)
    {
        var rng = new Random(seed);
        var (xs, ws, p) = RandomCase(rng);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        var x = Tensor.RandomNormal(rng, xs, dtype);
        var w = Tensor.RandomNormal(rng, ws, dtype);
        var y = Conv.Forward(x, w, p);
        var outShape = Conv.InferShape(xs, ws, p);
        Assert.Equal(outShape, y.Shape);
        var want = NaiveConv(x, w, p, outShape);
        var got = y.ToDoubleArray();
        double tol = f32 ? 1e-5 : 1e-12;
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= tol * (1 + Math.Abs(want[i])), $"{p} x {xs} w {ws}: [{i}] {got[i]} vs {want[i]}");
    }

    [Property(MaxTest = 120)]
    public void AdjointIdentities(int seed, bool chunked)
    {
        var rng = new Random(seed);
        var (xs, ws, p) = RandomCase(rng, maxD: 3);
        var x = Tensor.RandomNormal(rng, xs);
        var w = Tensor.RandomNormal(rng, ws);
        var outShape = Conv.InferShape(xs, ws, p);
        var ct = Tensor.RandomNormal(rng, outShape);
        if (chunked) Conv.ChunkElements = 7; // a few rows per chunk: exercises the chunk loops and their sums
        try
        {
            double lhs = Inner(ct, Conv.Forward(x, w, p));
            var dx = Conv.LhsTranspose(ct, w, xs, p);
            var dw = Conv.RhsTranspose(x, ct, ws, p);
            Assert.Equal(xs, dx.Shape);
            Assert.Equal(ws, dw.Shape);
            double scale = 1 + Math.Abs(lhs) + ct.ToDoubleArray().Sum(Math.Abs);
            Assert.True(Math.Abs(lhs - Inner(dx, x)) <= 1e-12 * scale, $"<ct, conv(x,w)> = {lhs} but <LhsT(ct), x> = {Inner(dx, x)}; {p}");
            Assert.True(Math.Abs(lhs - Inner(dw, w)) <= 1e-12 * scale, $"<ct, conv(x,w)> = {lhs} but <RhsT(x, ct), w> = {Inner(dw, w)}; {p}");
        }
        finally { Conv.ChunkElements = 0; }
    }

    [Fact]
    public void Float32AdjointsMatchFloat64()
    {
        var rng = new Random(7);
        var p = new ConvParams([2, 1], ConvPadding.Same([9, 8], [3, 3], [2, 1], [1, 2]), [1, 2], 2);
        var x = Tensor.RandomNormal(rng, new Shape(3, 9, 8, 4));
        var w = Tensor.RandomNormal(rng, new Shape(3, 3, 2, 6));
        var ct = Tensor.RandomNormal(rng, Conv.InferShape(x.Shape, w.Shape, p));
        Conv.ChunkElements = 50; // float32 rhs transpose sums chunk results in float64
        try
        {
            var pairs = new[]
            {
                (Conv.LhsTranspose(ct.AsType(DType.Float32), w.AsType(DType.Float32), x.Shape, p), Conv.LhsTranspose(ct, w, x.Shape, p)),
                (Conv.RhsTranspose(x.AsType(DType.Float32), ct.AsType(DType.Float32), w.Shape, p), Conv.RhsTranspose(x.AsType(DType.Float32).AsType(DType.Float64), ct.AsType(DType.Float32).AsType(DType.Float64), w.Shape, p)),
            };
            foreach (var (f, dbl) in pairs)
            {
                Assert.Equal(DType.Float32, f.DType);
                var a = f.ToDoubleArray(); var b = dbl.ToDoubleArray();
                double norm = b.Max(Math.Abs);
                for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5 * norm, $"[{i}] {a[i]} vs {b[i]}");
            }
        }
        finally { Conv.ChunkElements = 0; }
    }

    [Fact]
    public void DeterministicForAnyThreadCount()
    {
        var rng = new Random(11);
        var p = new ConvParams([1, 1], ConvPadding.Same([20, 20], [3, 3]), [1, 1]);
        var x = Tensor.RandomNormal(rng, new Shape(4, 20, 20, 16), DType.Float32);
        var w = Tensor.RandomNormal(rng, new Shape(3, 3, 16, 32), DType.Float32);
        var ct = Tensor.RandomNormal(rng, new Shape(4, 20, 20, 32), DType.Float32);
        float[][] Run() =>
        [
            Conv.Forward(x, w, p).ToArray<float>(),
            Conv.LhsTranspose(ct, w, x.Shape, p).ToArray<float>(),
            Conv.RhsTranspose(x, ct, w.Shape, p).ToArray<float>(),
        ];
        Blas.MaxDegreeOfParallelism = 1;
        var one = Run();
        Blas.MaxDegreeOfParallelism = 3;
        var three = Run();
        Blas.MaxDegreeOfParallelism = 0;
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], three[i]);
    }

    [Fact]
    public void PointwiseConvIsAMatmul()
    {
        var rng = new Random(2);
        var x = Tensor.RandomNormal(rng, new Shape(2, 3, 4, 5));
        var w = Tensor.RandomNormal(rng, new Shape(1, 1, 5, 7));
        var y = Conv.Forward(x, w, new ConvParams([1, 1], ConvPadding.Valid(2), [1, 1]));
        var mm = DotGeneral.Compute(x, w.Reshape(5, 7), new DotDimensionNumbers([3], [0]));
        Assert.Equal(mm.ToDoubleArray(), y.ToDoubleArray(), (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Theory]
    [InlineData(4, 2, 2, 1, 0, 0)]
    [InlineData(5, 2, 1, 1, 0, 1)]
    [InlineData(5, 3, 2, 1, 1, 1)]
    [InlineData(6, 3, 2, 1, 0, 1)]
    [InlineData(5, 3, 1, 2, 2, 2)]
    [InlineData(7, 4, 3, 1, 1, 2)]
    public void SamePaddingPutsTheExtraOnTheHighSide(int l, int f, int s, int dil, int lo, int hi)
    {
        Assert.Equal(new[] { (lo, hi) }, ConvPadding.Same([l], [f], [s], [dil]));
        // And SAME keeps ceil(L/s) outputs.
        var shape = Conv.InferShape(new Shape(1, l, 1), new Shape(f, 1, 1), new ConvParams([s], [(lo, hi)], [dil]));
        Assert.Equal((l + s - 1) / s, shape[1]);
    }

    private static string Message(Action act) => Assert.ThrowsAny<ArgumentException>(act).Message;

    [Fact]
    public void InferShapeErrors()
    {
        var p2 = new ConvParams([1, 1], ConvPadding.Valid(2), [1, 1]);
        Assert.Contains("lhs must have rank 4", Message(() => Conv.InferShape(new Shape(1, 5, 3), new Shape(3, 3, 3, 4), p2)));
        Assert.Contains("rhs input features 2 must equal lhs channels / feature_group_count = 3 / 1 = 3",
            Message(() => Conv.InferShape(new Shape(1, 5, 5, 3), new Shape(3, 3, 2, 4), p2)));
        Assert.Contains("lhs channels 3 (lhs (1, 5, 5, 3)) are not divisible by feature_group_count 2",
            Message(() => Conv.InferShape(new Shape(1, 5, 5, 3), new Shape(3, 3, 1, 4), p2 with { FeatureGroupCount = 2 })));
        Assert.Contains("rhs output features 5",
            Message(() => Conv.InferShape(new Shape(1, 5, 5, 4), new Shape(3, 3, 2, 5), p2 with { FeatureGroupCount = 2 })));
        Assert.Contains("is bigger than the padded input 4",
            Message(() => Conv.InferShape(new Shape(1, 4, 5, 3), new Shape(5, 3, 3, 4), p2)));
        Assert.Contains("one entry per spatial dimension",
            Message(() => Conv.InferShape(new Shape(1, 5, 5, 3), new Shape(3, 3, 3, 4), p2 with { RhsDilation = [1] })));
        var x = Tensor.Zeros(new Shape(1, 5, 5, 3));
        var w = Tensor.Zeros(new Shape(3, 3, 3, 4));
        Assert.Contains("cotangent shape (1, 2, 2, 4) differs from the output shape (1, 3, 3, 4)",
            Message(() => Conv.LhsTranspose(Tensor.Zeros(new Shape(1, 2, 2, 4)), w, x.Shape, p2)));
        Assert.Contains("same dtype", Message(() => Conv.Forward(x, w.AsType(DType.Float32), p2)));
    }
}
