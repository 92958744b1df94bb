using FsCheck.Xunit;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Tensors.Kernels;

/// <summary>
/// The convolution fast paths at NTK-like shapes: many feature groups, f = K·C/G above one KC block (float64-combined
/// float32 sums), narrow (unpacked GEMM) and wide groups, unit-stride lhs adjoint as a flipped forward convolution,
/// padding beyond the window, and bitwise determinism over thread counts on the parallel paths.
/// </summary>
public class ConvFastPathTests
{
    private static ConvParams Valid(int groups) => new([1, 1], ConvPadding.Valid(2), [1, 1], groups);

    [Theory]
    [InlineData(6, 48, 8, false)]  // f = 432 > KC, narrow groups: unpacked GEMM
    [InlineData(6, 48, 8, true)]
    [InlineData(2, 16, 70, true)]  // wide groups: packed GEMM
    [InlineData(1, 3, 32, true)]   // first layer: 3 channels
    public void ForwardMatchesNaiveAtNtkShapes(int g, int cg, int og, bool f32)
    {
        var rng = new Random(g * 100 + cg);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        var x = Tensor.RandomNormal(rng, new Shape(3, 9, 8, g * cg), dtype);
        var w = Tensor.RandomNormal(rng, new Shape(3, 3, cg, g * og), dtype);
        var p = Valid(g);
        var got = Conv.Forward(x, w, p).ToDoubleArray();
        var want = ConvTests.NaiveConv(x, w, p, Conv.InferShape(x.Shape, w.Shape, p));
        AssertClose(want, got, f32 ? 1e-5 : 1e-12);
    }

    [Theory]
    [InlineData(6, 48, 8)]
    [InlineData(2, 16, 70)]
    [InlineData(3, 3, 40)]
    public void AdjointsMatchFloat64AndTheAdjointIdentity(int g, int cg, int og)
    {
        var rng = new Random(g + cg + og);
        var p = Valid(g);
        var x = Tensor.RandomNormal(rng, new Shape(2, 10, 9, g * cg));
        var w = Tensor.RandomNormal(rng, new Shape(3, 3, cg, g * og));
        var ct = Tensor.RandomNormal(rng, Conv.InferShape(x.Shape, w.Shape, p));
        var dx = Conv.LhsTranspose(ct, w, x.Shape, p);
        var dw = Conv.RhsTranspose(x, ct, w.Shape, p);
        double inner = ConvTests.Inner(ct, Conv.Forward(x, w, p));
        double scale = 1 + Math.Abs(inner) + ct.ToDoubleArray().Sum(Math.Abs);
        Assert.True(Math.Abs(inner - ConvTests.Inner(dx, x)) <= 1e-12 * scale);
        Assert.True(Math.Abs(inner - ConvTests.Inner(dw, w)) <= 1e-12 * scale);
        var f32 = DType.Float32;
        AssertClose(dx.ToDoubleArray(), Conv.LhsTranspose(ct.AsType(f32), w.AsType(f32), x.Shape, p).ToDoubleArray(), 1e-5);
        AssertClose(dw.ToDoubleArray(), Conv.RhsTranspose(x.AsType(f32), ct.AsType(f32), w.Shape, p).ToDoubleArray(), 1e-5);
    }

    /// <summary>The lhs adjoint's output is rented uncleared except where it scatter-adds (strides &gt; 1): under a pool
    /// that fills every uncleared rental with NaN, each path (unit-stride flipped forward, pointwise, strided col2im,
    /// padding beyond the window) still equals its result without a pool bit for bit, i.e. writes every element.</summary>
    [Theory]
    [InlineData(1, 3, 0, 0, true)]
    [InlineData(1, 3, 2, 1, false)]
    [InlineData(1, 1, 0, 0, true)]   // pointwise
    [InlineData(2, 3, 1, 0, true)]   // strided: col2im into a cleared buffer
    [InlineData(1, 3, 3, 0, false)]  // padding beyond the window
    public void LhsTransposeWritesEveryElementOfAnUnclearedRental(int stride, int k, int lo, int hi, bool f32)
    {
        var rng = new Random(stride * 10 + k + lo);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        var p = new ConvParams([stride, stride], [(lo, hi), (lo, hi)], [1, 1], 1);
        var x = Tensor.RandomNormal(rng, new Shape(3, 11, 10, 16), dtype);
        var w = Tensor.RandomNormal(rng, new Shape(k, k, 16, 24), dtype);
        var ct = Tensor.RandomNormal(rng, Conv.InferShape(x.Shape, w.Shape, p), dtype);
        var want = Conv.LhsTranspose(ct, w, x.Shape, p).ToDoubleArray();
        var pool = new BufferPool(1L << 30) { PoisonRentals = true };
        using (BufferPool.Use(pool))
        {
            for (int round = 0; round < 2; round++)   // the second round reuses the first round's (poisoned) storage
            {
                var dx = Conv.LhsTranspose(ct, w, x.Shape, p);
                Assert.True(want.AsSpan().SequenceEqual(dx.ToDoubleArray()), $"round {round}");
                pool.Return(dx.Storage);
            }
        }
    }

    [Theory]
    [InlineData(3, 0, 1)]  // padding beyond the window: the flipped forward convolution gets negative padding
    [InlineData(0, 4, 2)]
    [InlineData(2, 2, 1)]
    public void LhsTransposeWithLargePaddingSatisfiesTheAdjointIdentity(int lo, int hi, int dil)
    {
        var rng = new Random(lo * 10 + hi);
        var p = new ConvParams([1, 1], [(lo, hi), (hi, lo)], [dil, 1], 2);
        var x = Tensor.RandomNormal(rng, new Shape(2, 6, 5, 4));
        var w = Tensor.RandomNormal(rng, new Shape(2, 3, 2, 6));
        var ct = Tensor.RandomNormal(rng, Conv.InferShape(x.Shape, w.Shape, p));
        var dx = Conv.LhsTranspose(ct, w, x.Shape, p);
        double inner = ConvTests.Inner(ct, Conv.Forward(x, w, p));
        Assert.True(Math.Abs(inner - ConvTests.Inner(dx, x)) <= 1e-12 * (1 + Math.Abs(inner)), $"{inner} vs {ConvTests.Inner(dx, x)}");
    }

    /// <summary>2-D unit-stride convolutions without im2col (<c>Conv.ShiftedRows</c>: kernel rows read in place from a
    /// zero-padded image copy, junk columns dropped): the forward against the naive float64 sum, and forward and lhs
    /// adjoint against the im2col path, in float64 (1e-12) and float32 (1e-5), over valid, same, asymmetric and
    /// beyond-the-window padding, rectangular kernels, one image (GEMM rows in parallel) and several (images in
    /// parallel); the float64 lhs adjoint also satisfies the adjoint identity.</summary>
    [Theory]
    [InlineData(1, 9, 8, 32, 16, 3, 3, 0, 0, 0, 0, true)]
    [InlineData(5, 12, 11, 32, 32, 3, 3, 0, 0, 0, 0, true)]
    [InlineData(5, 12, 11, 32, 32, 3, 3, 1, 1, 1, 1, false)]
    [InlineData(3, 10, 13, 24, 40, 2, 3, 1, 0, 2, 1, true)]
    [InlineData(2, 7, 9, 64, 8, 3, 2, 3, 2, 0, 4, false)]
    [InlineData(4, 6, 6, 16, 64, 5, 5, 2, 2, 2, 2, true)]
    public void ShiftedRowsMatchNaiveAndIm2Col(int n, int h, int w, int c, int o, int kh, int kw, int lo0, int hi0, int lo1, int hi1, bool f32)
    {
        var rng = new Random(n * 1000 + h * 10 + c + o);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        var p = new ConvParams([1, 1], [(lo0, hi0), (lo1, hi1)], [1, 1], 1);
        var x = Tensor.RandomNormal(rng, new Shape(n, h, w, c), dtype);
        var wt = Tensor.RandomNormal(rng, new Shape(kh, kw, c, o), dtype);
        var outShape = Conv.InferShape(x.Shape, wt.Shape, p);
        var ct = Tensor.RandomNormal(rng, outShape, dtype);
        double tol = f32 ? 1e-5 : 1e-12;
        var y = Conv.Forward(x, wt, p);
        var dx = Conv.LhsTranspose(ct, wt, x.Shape, p);
        Conv.ShiftedRows = false;
        Tensor yRef, dxRef;
        try { yRef = Conv.Forward(x, wt, p); dxRef = Conv.LhsTranspose(ct, wt, x.Shape, p); }
        finally { Conv.ShiftedRows = true; }
        AssertClose(ConvTests.NaiveConv(x, wt, p, outShape), y.ToDoubleArray(), tol);
        AssertClose(yRef.ToDoubleArray(), y.ToDoubleArray(), tol);
        AssertClose(dxRef.ToDoubleArray(), dx.ToDoubleArray(), tol);
        if (!f32)
        {
            double inner = ConvTests.Inner(ct, y);
            Assert.True(Math.Abs(inner - ConvTests.Inner(dx, x)) <= 1e-12 * (1 + Math.Abs(inner) + ct.ToDoubleArray().Sum(Math.Abs)));
        }
    }

    [Fact]
    public void ParallelPathsAreBitwiseDeterministic()
    {
        var rng = new Random(5);
        var cases = new[]
        {
            // Many groups (parallel tasks), narrow.
            (X: new Shape(2, 14, 14, 8 * 32), W: new Shape(3, 3, 32, 8 * 16), P: Valid(8)),
            // One group, many rows: forward tasks over row blocks; rhs adjoint as one parallel unpacked GEMM.
            (X: new Shape(6, 16, 16, 32), W: new Shape(3, 3, 32, 32), P: Valid(1)),
            // Strided: GEMM + col2im for the lhs adjoint.
            (X: new Shape(3, 15, 15, 16), W: new Shape(3, 3, 16, 24), P: new ConvParams([2, 2], ConvPadding.Same([15, 15], [3, 3], [2, 2]), [1, 1])),
        };
        foreach (var (xs, ws, p) in cases)
        {
            var x = Tensor.RandomNormal(rng, xs, DType.Float32);
            var w = Tensor.RandomNormal(rng, ws, DType.Float32);
            var ct = Tensor.RandomNormal(rng, Conv.InferShape(xs, ws, p), DType.Float32);
            float[][] Run(int threads)
            {
                Blas.MaxDegreeOfParallelism = threads;
                try
                {
                    return
                    [
                        Conv.Forward(x, w, p).ToArray<float>(),
                        Conv.LhsTranspose(ct, w, xs, p).ToArray<float>(),
                        Conv.RhsTranspose(x, ct, ws, p).ToArray<float>(),
                    ];
                }
                finally { Blas.MaxDegreeOfParallelism = 0; }
            }
            var one = Run(1);
            foreach (int t in new[] { 2, 3, 4 })
            {
                var other = Run(t);
                for (int i = 0; i < one.Length; i++) Assert.True(one[i].AsSpan().SequenceEqual(other[i]), $"{p} x {xs}: output {i} differs with {t} threads");
            }
        }
    }

    [Property(MaxTest = 60)]
    public void GemmDirectMatchesNaive(int seed, bool f32, bool transposedA, bool accumulate)
    {
        var rng = new Random(seed);
        int m = rng.Next(1, 20), n = rng.Next(1, 40), k = rng.Next(0, 600);
        int ars = transposedA ? 1 : k + rng.Next(0, 3), aks = transposedA ? m + rng.Next(0, 3) : 1, ldb = n + rng.Next(0, 5), ldc = n + rng.Next(0, 5);
        var a = new double[Math.Max(1, (m - 1) * ars + Math.Max(k - 1, 0) * aks + 1)];
        var b = new double[Math.Max(1, Math.Max(k - 1, 0) * ldb + n)];
        var c = new double[(m - 1) * ldc + n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() * 2 - 1;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextDouble() * 2 - 1;
        for (int i = 0; i < c.Length; i++) c[i] = rng.NextDouble() * 2 - 1;
        var want = (double[])c.Clone();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * ars + p * aks] * b[p * ldb + j];
                want[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
            }
        double[] got;
        if (f32)
        {
            var cf = c.Select(v => (float)v).ToArray();
            Blas.GemmDirect<float>(m, n, k, a.Select(v => (float)v).ToArray(), ars, aks, b.Select(v => (float)v).ToArray(), ldb, cf, ldc, accumulate, 2);
            got = cf.Select(v => (double)v).ToArray();
        }
        else
        {
            got = (double[])c.Clone();
            Blas.GemmDirect<double>(m, n, k, a, ars, aks, b, ldb, got, ldc, accumulate, 2);
        }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                int at = i * ldc + j;
                double tol = (f32 ? 1e-5 : 1e-12) * (1 + k);
                Assert.True(Math.Abs(got[at] - want[at]) <= tol, $"m={m} n={n} k={k} [{i},{j}] {got[at]} vs {want[at]}");
            }
    }

    /// <summary>The AVX-512, AVX2 and scalar paths of the unpacked GEMM reduce every element in the same FMA order
    /// (float32 in the same KC blocks), so they agree bitwise; n spans 512-bit tiles, 256-bit tiles and scalar edges.</summary>
    [Property(MaxTest = 40)]
    public void GemmDirectIsBitwiseTheSameOnEveryIsa(int seed, bool f32, bool transposedA)
    {
        var rng = new Random(seed);
        int m = rng.Next(1, 20), n = rng.Next(1, 80), k = rng.Next(0, 600);
        int ars = transposedA ? 1 : k + rng.Next(0, 3), aks = transposedA ? m + rng.Next(0, 3) : 1, ldb = n + rng.Next(0, 5);
        var a = new double[Math.Max(1, (m - 1) * ars + Math.Max(k - 1, 0) * aks + 1)];
        var b = new double[Math.Max(1, Math.Max(k - 1, 0) * ldb + n)];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() * 2 - 1;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextDouble() * 2 - 1;
        T[] Run<T>(Blas.Isa isa, Func<double, T> cast) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var c = new T[m * n];
            Blas.ForceIsa = isa;
            try { Blas.GemmDirect<T>(m, n, k, a.Select(cast).ToArray(), ars, aks, b.Select(cast).ToArray(), ldb, c, n, false, 1); }
            finally { Blas.ForceIsa = null; }
            return c;
        }
        foreach (var isa in new[] { Blas.Isa.V256, Blas.Isa.Scalar })
        {
            if (f32) Assert.True(Run(Blas.Isa.V512, v => (float)v).AsSpan().SequenceEqual(Run(isa, v => (float)v)), $"{isa} m={m} n={n} k={k}");
            else Assert.True(Run(Blas.Isa.V512, v => v).AsSpan().SequenceEqual(Run(isa, v => v)), $"{isa} m={m} n={n} k={k}");
        }
    }

    /// <summary>
    /// The forward convolution and both adjoints (groups' cotangent columns gathered for the rhs one) on the AVX-512 tiles (6×32 float / 6×16 double) give bitwise the
    /// values of the AVX2 tiles — over strides, dilation, padding (also beyond the window), groups and both dtypes.
    /// </summary>
    [Property(MaxTest = 25)]
    public void Avx512AndAvx2ConvolutionsAreBitwiseEqual(int seed, bool f32)
    {
        var rng = new Random(seed);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        int g = 1 + rng.Next(2), cg = 1 + rng.Next(40), og = (f32 ? 32 : 16) * (1 + rng.Next(2)), kh = 1 + rng.Next(3), kw = 1 + rng.Next(4);
        int sh = 1 + rng.Next(2), sw = 1 + rng.Next(2), dh = 1 + rng.Next(2), dw = rng.Next(3) == 0 ? 2 : 1;
        var p = new ConvParams([sh, sw], [(rng.Next(3), rng.Next(3)), (rng.Next(4), rng.Next(3))], [dh, dw], g);
        var x = Tensor.RandomNormal(rng, new Shape(1 + rng.Next(3), 8 + rng.Next(10), 10 + rng.Next(20), g * cg), dtype);
        var w = Tensor.RandomNormal(rng, new Shape(kh, kw, cg, g * og), dtype);
        var ct = Tensor.RandomNormal(rng, Conv.InferShape(x.Shape, w.Shape, p), dtype);
        double[][] Run(Blas.Isa isa)
        {
            Blas.ForceIsa = isa;
            Blas.MaxDegreeOfParallelism = 1;
            try { return [Conv.Forward(x, w, p).ToDoubleArray(), Conv.LhsTranspose(ct, w, x.Shape, p).ToDoubleArray(), Conv.RhsTranspose(x, ct, w.Shape, p).ToDoubleArray()]; }
            finally { Blas.ForceIsa = null; Blas.MaxDegreeOfParallelism = 0; }
        }
        var (v512, v256) = (Run(Blas.Isa.V512), Run(Blas.Isa.V256));
        for (int i = 0; i < 3; i++) Assert.True(v512[i].AsSpan().SequenceEqual(v256[i]), $"output {i}: {x.Shape} {w.Shape} {p}");
    }

    private static void AssertClose(double[] want, double[] got, double rel)
    {
        Assert.Equal(want.Length, got.Length);
        double norm = want.Max(Math.Abs);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= rel * (1 + norm), $"[{i}] {got[i]} vs {want[i]}");
    }
}
