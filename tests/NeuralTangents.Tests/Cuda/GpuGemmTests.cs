using NeuralTangents.Cuda;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Cuda;

/// <summary>cuBLAS results against naive float64 references on the CPU (never hard-coded numbers).</summary>
[Trait("Category", "Gpu")]
public class GpuGemmTests
{
    /// <summary>|got − ref| ≤ tol·Σ|a·b| per written entry: the natural scale of GEMM rounding error.</summary>
    private static void AssertGemmClose(double[] expected, double[] scale, double[] got, double tol)
    {
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(expected[i] - got[i]) <= tol * scale[i] + 1e-300,
                $"element {i}: expected {expected[i]}, got {got[i]} (scale {scale[i]})");
    }

    private static void CheckHostGemm<T>(int batch, int m, int n, int k, bool ta, bool tb, int pad, double tol, CublasMath math = CublasMath.Default)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(m * 7919 + n * 31 + k + (ta ? 1 : 0) * 2 + (tb ? 1 : 0));
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        var plan = GemmPlan.RowMajor(m, n, k, ta, lda, tb, ldb, ldc);
        long sa = plan.ElementsA + pad, sb = plan.ElementsB + pad, sc = plan.ElementsC + pad;
        var (na, nb, nc) = CudaBlas.BatchExtents(batch, plan, sa, sb, sc);
        var a = Reference.RandomArray(rng, na).Select(T.CreateChecked).ToArray();
        var b = Reference.RandomArray(rng, nb).Select(T.CreateChecked).ToArray();
        var c = Enumerable.Repeat(T.CreateChecked(-7.0), (int)nc).ToArray();
        var ad = a.Select(double.CreateChecked).ToArray();
        var bd = b.Select(double.CreateChecked).ToArray();
        var (expected, scale) = Reference.Gemm(batch, m, n, k, ad, lda, sa, ta, bd, ldb, sb, tb, ldc, sc, nc);
        if (batch == 1) CudaBlas.Gemm<T>(m, n, k, a, lda, ta, b, ldb, tb, c, ldc, math: math);
        else CudaBlas.GemmStridedBatched<T>(batch, m, n, k, a, lda, sa, ta, b, ldb, sb, tb, c, ldc, sc, math: math);
        var got = c.Select(double.CreateChecked).ToArray();
        // Padding keeps its sentinel: mark it so the comparison treats it as expected -7 exactly.
        var written = new bool[nc];
        for (int bi = 0; bi < batch; bi++) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) written[bi * sc + (long)i * ldc + j] = true;
        for (int i = 0; i < nc; i++) if (!written[i]) { expected[i] = -7; scale[i] = 0; }
        AssertGemmClose(expected, scale, got, tol);
    }

    [GpuTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Sgemm_matches_float64_reference(bool ta, bool tb)
    {
        CheckHostGemm<float>(1, 67, 45, 129, ta, tb, 0, 1e-5);
        CheckHostGemm<float>(1, 33, 17, 40, ta, tb, 3, 1e-5);
    }

    [GpuTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Dgemm_matches_float64_reference(bool ta, bool tb)
    {
        CheckHostGemm<double>(1, 67, 45, 129, ta, tb, 0, 1e-13);
        CheckHostGemm<double>(1, 33, 17, 40, ta, tb, 2, 1e-13);
    }

    [GpuFact]
    public void Strided_batched_matches_reference()
    {
        CheckHostGemm<float>(5, 19, 23, 31, false, true, 1, 1e-5);
        CheckHostGemm<double>(4, 16, 8, 12, true, false, 0, 1e-13);
    }

    [GpuFact]
    public void Default_math_is_not_tf32_but_tf32_can_be_opted_in()
    {
        // With k = 2048 TF32 (10-bit mantissa inputs) errs ~1e-3 relative, far outside 1e-5: passing the strict
        // check shows the default mode keeps full float32.
        CheckHostGemm<float>(1, 64, 64, 2048, false, false, 0, 1e-5, CublasMath.Default);
        CheckHostGemm<float>(1, 64, 64, 2048, false, false, 0, 1e-5, CublasMath.Pedantic);
        CheckHostGemm<float>(1, 64, 64, 2048, false, false, 0, 1e-2, CublasMath.Tf32TensorOp);
    }

    [GpuFact]
    public void Device_buffers_with_alpha_and_beta()
    {
        var rng = new Random(5);
        int m = 20, n = 30, k = 40;
        var a = Reference.RandomArray(rng, m * k);
        var b = Reference.RandomArray(rng, k * n);
        var c0 = Reference.RandomArray(rng, m * n);
        using var da = DeviceBuffer.FromHost<double>(a);
        using var db = DeviceBuffer.FromHost<double>(b);
        using var dc = DeviceBuffer.FromHost<double>(c0);
        CudaBlas.Gemm<double>(m, n, k, da, k, false, db, n, false, dc, n, alpha: 2, beta: 0.5);
        var got = dc.ToArray<double>();
        var (ab, scale) = Reference.Gemm(1, m, n, k, a, k, 0, false, b, n, 0, false, n, 0, m * n);
        var expected = ab.Select((v, i) => 2 * v + 0.5 * c0[i]).ToArray();
        AssertGemmClose(expected, scale.Select((s, i) => 2 * s + 0.5 * Math.Abs(c0[i])).ToArray(), got, 1e-13);
    }

    [GpuFact]
    public void Same_inputs_give_bitwise_identical_results()
    {
        var rng = new Random(6);
        var a = Reference.RandomArray(rng, 300 * 200).Select(v => (float)v).ToArray();
        var b = Reference.RandomArray(rng, 200 * 100).Select(v => (float)v).ToArray();
        var c1 = new float[300 * 100];
        var c2 = new float[300 * 100];
        CudaBlas.Gemm<float>(300, 100, 200, a, 200, false, b, 100, false, c1, 100);
        CudaBlas.Gemm<float>(300, 100, 200, a, 200, false, b, 100, false, c2, 100);
        Assert.Equal(c1, c2);
    }

    [GpuFact]
    public void Concurrent_callers_get_correct_results()
    {
        var results = new bool[16];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var rng = new Random(100 + i);
            int m = 10 + i, n = 20, k = 30;
            var a = Reference.RandomArray(rng, m * k);
            var b = Reference.RandomArray(rng, k * n);
            var c = new double[m * n];
            CudaBlas.Gemm<double>(m, n, k, a, k, false, b, n, false, c, n);
            var (e, s) = Reference.Gemm(1, m, n, k, a, k, 0, false, b, n, 0, false, n, 0, m * n);
            results[i] = c.Select((v, j) => Math.Abs(v - e[j]) <= 1e-13 * s[j]).All(x => x);
        });
        Assert.All(results, Assert.True);
    }

    [GpuFact]
    public void Dot_general_matches_naive_reference()
    {
        var rng = new Random(7);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var lhs = Tensor.RandomNormal(rng, new Shape(3, 6, 5, 7), dtype);   // batch 0, contract 2
            var rhs = Tensor.RandomNormal(rng, new Shape(5, 3, 4), dtype).Transpose(1, 2, 0);  // (3, 4, 5): batch 0, contract 2
            var c = CudaKernels.DotGeneral(lhs, rhs, [2], [2], [0], [0]);
            var expected = Reference.DotGeneral(lhs, rhs, [2], [2], [0], [0], out var shape);
            Assert.Equal(shape, c.Shape);
            Assert.Equal(dtype, c.DType);
            var got = c.ToDoubleArray();
            double tol = dtype == DType.Float32 ? 1e-5 : 1e-13;
            for (int i = 0; i < got.Length; i++)
                Assert.True(Math.Abs(got[i] - expected[i]) <= tol * (1 + Math.Abs(expected[i])), $"{dtype} element {i}: {got[i]} vs {expected[i]}");
        }
    }

    [GpuFact]
    public void Device_buffer_copies_round_trip_and_pool_reuses_blocks()
    {
        var data = Enumerable.Range(0, 1000).Select(i => (float)i).ToArray();
        using var a = DeviceBuffer.FromHost<float>(data);
        using var b = DeviceBuffer.Allocate<float>(1000);
        b.CopyFrom(a, 4000);
        Assert.Equal(data, b.ToArray<float>());
        var part = new float[10];
        b.Download<float>(part, 990);
        Assert.Equal(data[990..], part);
        b.Clear();
        Assert.All(b.ToArray<float>(), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Upload<float>(data, 1));

        IntPtr first;
        using (var x = DeviceBuffer.Allocate(12345)) first = x.DangerousGetHandle();
        using var y = DeviceBuffer.Allocate(12345);
        Assert.Equal(first, y.DangerousGetHandle());
    }

    [GpuFact]
    public void Failed_calls_raise_cuda_exception_naming_the_call()
    {
        var e = Assert.Throws<CudaException>(() => DeviceBuffer.Allocate(1L << 52));
        Assert.StartsWith("cudaMalloc", e.Call);
        Assert.Equal("cudaErrorMemoryAllocation", e.StatusName);
        Assert.Contains("failed with cudaErrorMemoryAllocation (2)", e.Message);
        // The runtime stays usable afterwards.
        using var ok = DeviceBuffer.FromHost<double>([1.0, 2.0]);
        Assert.Equal(new[] { 1.0, 2.0 }, ok.ToArray<double>());
    }

    [GpuFact]
    public void Runtime_describes_the_device()
    {
        Assert.True(CudaRuntime.DeviceCount >= 1);
        Assert.False(string.IsNullOrWhiteSpace(CudaRuntime.GetDeviceName(0)));
        Assert.Contains("cuda:0", CudaRuntime.Describe());
        Assert.NotEqual("none", CudaRuntime.RuntimeVersion);
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaRuntime.GetDeviceName(CudaRuntime.DeviceCount));
    }
}
