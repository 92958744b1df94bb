using FsCheck.Xunit;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Tensors.Kernels;

public class GemmTests
{
    /// <summary>Reference C = op(A)·op(B) in double, plus Σ|a||b| per element for relative tolerances.</summary>
    internal static (double[] C, double[] Mag) Naive(int m, int n, int k, double[] a, int lda, bool ta, double[] b, int ldb, bool tb)
    {
        var c = new double[m * n];
        var mag = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0, g = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = ta ? a[p * lda + i] : a[i * lda + p], y = tb ? b[j * ldb + p] : b[p * ldb + j];
                    s += x * y; g += Math.Abs(x * y);
                }
                c[i * n + j] = s; mag[i * n + j] = g;
            }
        return (c, mag);
    }

    internal static double[] RandomArray(Random rng, int len, bool positive = false) =>
        Enumerable.Range(0, len).Select(_ => positive ? rng.NextDouble() : rng.NextDouble() * 2 - 1).ToArray();

    private static void CheckCase<T>(int m, int n, int k, bool ta, bool tb, bool accumulate, int pad, int seed, double tol)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        var ad = RandomArray(rng, Math.Max(0, (ta ? k : m) * lda));
        var bd = RandomArray(rng, Math.Max(0, (tb ? n : k) * ldb));
        var c0 = RandomArray(rng, m * ldc);
        // Round inputs to T first so the reference sees exactly what the kernel sees.
        var a = ad.Select(T.CreateTruncating).ToArray();
        var b = bd.Select(T.CreateTruncating).ToArray();
        var c = c0.Select(T.CreateTruncating).ToArray();
        var (r, mag) = Naive(m, n, k, a.Select(double.CreateTruncating).ToArray(), lda, ta,
            b.Select(double.CreateTruncating).ToArray(), ldb, tb);
        Blas.Gemm<T>(m, n, k, a, lda, ta, b, ldb, tb, c, ldc, accumulate);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++)
            {
                double got = double.CreateTruncating(c[i * ldc + j]);
                double init = double.CreateTruncating(T.CreateTruncating(c0[i * ldc + j]));
                if (j >= n) { Assert.Equal(init, got); continue; } // padding untouched
                double want = r[i * n + j] + (accumulate ? init : 0);
                double scale = mag[i * n + j] + (accumulate ? Math.Abs(init) : 0) + 1e-300;
                Assert.True(Math.Abs(got - want) <= tol * scale,
                    $"m={m} n={n} k={k} ta={ta} tb={tb} acc={accumulate} C[{i},{j}]={got} want {want}");
            }
    }

    [Property(MaxTest = 150)]
    public void Float64MatchesNaive(byte m0, byte n0, byte k0, bool ta, bool tb, bool acc, bool pad, int seed) =>
        CheckCase<double>(m0 % 71, n0 % 71, k0 % 71, ta, tb, acc, pad ? 3 : 0, seed, 1e-12);

    [Property(MaxTest = 100)]
    public void Float32MatchesNaive(byte m0, byte n0, byte k0, bool ta, bool tb, bool acc, int seed) =>
        CheckCase<float>(m0 % 71, n0 % 71, k0 % 71, ta, tb, acc, 1, seed, 2e-6);

    [Theory]
    [InlineData(131, 150, 520)]
    [InlineData(1100, 17, 300)]
    [InlineData(13, 600, 700)]
    [InlineData(1, 333, 800)]
    [InlineData(300, 1, 900)]
    public void LargeAllTransposes(int m, int n, int k)
    {
        foreach (var ta in new[] { false, true })
            foreach (var tb in new[] { false, true })
            {
                CheckCase<double>(m, n, k, ta, tb, accumulate: ta, pad: 1, seed: m + n, tol: 1e-12);
                CheckCase<float>(m, n, k, ta, tb, accumulate: tb, pad: 0, seed: k, tol: 2e-6);
            }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void EveryMicroKernelPath(int isa)
    {
        Blas.ForceIsa = (Blas.Isa)isa;
        try
        {
            foreach (var (m, n, k) in new[] { (7, 33, 70), (61, 45, 300), (25, 70, 513) })
                foreach (var ta in new[] { false, true })
                {
                    CheckCase<double>(m, n, k, ta, !ta, accumulate: ta, pad: 2, seed: m, tol: 1e-12);
                    CheckCase<float>(m, n, k, !ta, ta, accumulate: !ta, pad: 1, seed: n, tol: 2e-6);
                }
        }
        finally { Blas.ForceIsa = null; }
    }

    [Theory]
    [InlineData(5, 7, false)] // packed tile path, ~3900 kc blocks combined in double
    [InlineData(9, 1, false)] // matrix-vector dot path
    [InlineData(4, 6, true)]
    public void Float32LongKStaysCloseToFloat64(int m, int n, bool mixedSigns)
    {
        const int k = 1_000_000;
        var rng = new Random(42);
        var a = new float[m * k];
        var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(mixedSigns ? rng.NextDouble() - 0.3 : rng.NextDouble());
        for (int i = 0; i < b.Length; i++) b[i] = (float)(mixedSigns ? rng.NextDouble() - 0.3 : rng.NextDouble());
        var c = new float[m * n];
        Blas.Gemm<float>(m, n, k, a, k, false, b, n, false, c, n);
        var cd = new double[m * n];
        Blas.Gemm<double>(m, n, k, a.Select(x => (double)x).ToArray(), k, false, b.Select(x => (double)x).ToArray(), n, false, cd, n);
        for (int i = 0; i < c.Length; i++)
            Assert.True(Math.Abs(c[i] - cd[i]) <= 1e-6 * Math.Abs(cd[i]), $"C[{i}] = {c[i]} vs float64 {cd[i]}");
    }

    [Fact]
    public void BitwiseIdenticalForAnyThreadCount()
    {
        var rng = new Random(3);
        foreach (var (m, n, k) in new[] { (200, 130, 600), (40, 600, 300), (1, 700, 2000), (500, 1, 800) })
        {
            var ad = RandomArray(rng, m * k); var bd = RandomArray(rng, k * n);
            var af = ad.Select(x => (float)x).ToArray(); var bf = bd.Select(x => (float)x).ToArray();
            double[]? refD = null; float[]? refF = null;
            foreach (var dop in new[] { 1, 2, 3, 7 })
            {
                Blas.MaxDegreeOfParallelism = dop;
                var cd = new double[m * n]; var cf = new float[m * n];
                Blas.Gemm<double>(m, n, k, ad, k, false, bd, n, false, cd, n);
                Blas.Gemm<float>(m, n, k, af, m == 1 ? 1 : k, false, bf, n, false, cf, n);
                refD ??= cd; refF ??= cf;
                Assert.Equal(refD, cd);
                Assert.Equal(refF, cf);
            }
            Blas.MaxDegreeOfParallelism = 0;
        }
    }

    [Fact]
    public void BatchedMatchesPerBatchNaive()
    {
        var rng = new Random(5);
        int batch = 4, m = 9, n = 20, k = 31;
        var a = RandomArray(rng, batch * m * k + 5);
        var b = RandomArray(rng, k * n); // shared across the batch (stride 0)
        var c = new double[batch * m * n * 2];
        Blas.BatchedGemm<double>(batch, m, n, k, a, k, m * k + 1, false, b, n, 0, false, c, n, 2 * m * n);
        for (int bi = 0; bi < batch; bi++)
        {
            var (r, _) = Naive(m, n, k, a.Skip(bi * (m * k + 1)).ToArray(), k, false, b, n, false);
            for (int i = 0; i < m * n; i++) Assert.Equal(r[i], c[bi * 2 * m * n + i], 1e-12);
            Assert.All(c.Skip(bi * 2 * m * n + m * n).Take(m * n), v => Assert.Equal(0.0, v));
        }
    }

    [Fact]
    public void KZeroClearsOrKeeps()
    {
        var c = new double[] { 1, 2, 3, 4 };
        Blas.Gemm<double>(2, 2, 0, [], 0, false, [], 2, false, c, 2, accumulate: true);
        Assert.Equal(new double[] { 1, 2, 3, 4 }, c);
        Blas.Gemm<double>(2, 2, 0, [], 0, false, [], 2, false, c, 2);
        Assert.Equal(new double[4], c);
    }

    [Fact]
    public void RejectsShortSpans()
    {
        var ex = Assert.Throws<ArgumentException>(() => Blas.Gemm<double>(3, 4, 5, new double[14], 5, false, new double[20], 4, false, new double[12], 4));
        Assert.Contains("a needs at least 15 elements", ex.Message);
        Assert.Throws<ArgumentException>(() => Blas.Gemm<double>(3, 4, 5, new double[15], 5, false, new double[20], 4, false, new double[12], 3));
    }
}
