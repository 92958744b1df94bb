using FsCheck.Xunit;
using NeuralTangents.Cuda;
using NeuralTangents.Tests.Implementations;

namespace NeuralTangents.Tests.Cuda;

/// <summary>
/// <see cref="CudaBackend"/>'s lowering (canonicalisation, split float32 sums, im2col/col2im, grouped side-by-side
/// GEMMs, chunking, CPU threshold) with cuBLAS replaced by the column-major emulator: everything but the GPU itself,
/// against the CPU kernels.
/// </summary>
public class CudaBackendEmulatedTests
{
    private static CudaBackend Emulated(out ColumnMajorBlas.Executor ex, long minGpuFlops = 0, int kBlock = SplitKGemm.DefaultKBlock,
                                        long chunkElements = 1L << 25)
    {
        ex = new ColumnMajorBlas.Executor();
        return new CudaBackend(ex, "emulated", minGpuFlops) { KBlock = kBlock, ConvChunkElements = chunkElements };
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tol, string what = "")
    {
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.DType, actual.DType);
        if (expected.Size == 0) return;
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= tol * (1 + Math.Abs(e[i])), $"{what}[{i}]: expected {e[i]:R}, got {a[i]:R}");
    }

    [Property(MaxTest = 60)]
    public void Dot_general_matches_the_cpu_kernel(int seed, bool f32, bool split)
    {
        var rng = new Random(seed);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        int b = rng.Next(1, 3), m = rng.Next(1, 5), n = rng.Next(1, 5), k = rng.Next(1, 40);
        // lhs (m, b, k) and rhs (k, n, b), possibly as transposed views.
        var lhs = Tensor.RandomNormal(rng, new Shape(m, b, k), dtype);
        var rhs = Tensor.RandomNormal(rng, new Shape(b, n, k), dtype).Transpose(2, 1, 0);
        var dims = new DotDimensionNumbers([2], [0], [1], [2]);
        var backend = Emulated(out var ex, kBlock: split ? rng.Next(1, 8) : SplitKGemm.DefaultKBlock);
        var got = backend.DotGeneral(lhs, rhs, dims);
        AssertClose(ComputeBackend.Cpu.DotGeneral(lhs, rhs, dims), got, f32 ? 1e-5 : 1e-12);
        Assert.Equal(1, ex.Programs);
        Assert.Equal(1, backend.GpuCalls);
        if (split && f32 && k > 8) Assert.True(ex.History.All(q => q.K < k) && ex.History.Sum(q => q.Batch * q.K) == b * k, "the float32 sum was not split into blocks covering it");
        if (!f32) Assert.Equal(1, ex.Calls);
    }

    [Fact]
    public void Split_float32_sums_are_combined_in_float64()
    {
        // 40001 terms near 1: a float32 running sum would lose ~1e-4 of it; float32 blocks added in float64 do not.
        int k = 40001;
        var a = new float[k];
        var rng = new Random(3);
        for (int i = 0; i < k; i++) a[i] = 1f + (float)(rng.NextDouble() * 1e-3);
        var x = Tensor.FromArray(a, new Shape(1, k));
        var ones = Tensor.Full(new Shape(k, 1), 1.0).AsType(DType.Float32);
        double exact = a.Sum(v => (double)v);
        var backend = Emulated(out var ex);
        var split = backend.DotGeneral(x, ones, new DotDimensionNumbers([1], [0]));
        Assert.Equal(2, ex.Calls);   // 19 blocks of 2001 terms and one of 1982: a batched call and the remainder
        Assert.Equal(20, ex.History[0].Batch + ex.History[1].Batch);
        Assert.True(Math.Abs(split.ToScalar() - exact) <= 1e-6 * exact, $"{split.ToScalar()} vs {exact}");
        Assert.True(Math.Abs(ComputeBackend.Cpu.DotGeneral(x, ones, new DotDimensionNumbers([1], [0])).ToScalar() - exact) <= 1e-6 * exact);
    }

    [Theory]
    [InlineData(1, 7, 5, 10000)]
    [InlineData(3, 4, 6, 4100)]
    public void Split_plan_covers_every_term_once(int batch, int m, int n, int k)
    {
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var rng = new Random(k + m);
            var a = Reference.RandomArray(rng, (long)batch * m * k).Select(v => (float)v).ToArray();
            var b = Reference.RandomArray(rng, (long)batch * k * n).Select(v => (float)v).ToArray();
            var c = Enumerable.Repeat(float.NaN, batch * m * (n + 2)).ToArray();
            int lda = ta ? m : k, ldb = tb ? k : n;
            var ex = new ColumnMajorBlas.Executor();
            SplitKGemm.Run<float>(ex, batch, m, n, k, a, lda, (long)m * k, ta, b, ldb, (long)k * n, tb, c, n + 2, (long)m * (n + 2), kBlock: 1000);
            var (expected, scale) = Reference.Gemm(batch, m, n, k, a.Select(v => (double)v).ToArray(), lda, (long)m * k, ta,
                                                   b.Select(v => (double)v).ToArray(), ldb, (long)k * n, tb, n + 2, (long)m * (n + 2), c.Length);
            for (int i = 0; i < c.Length; i++)
            {
                if (i % (n + 2) >= n) { Assert.True(float.IsNaN(c[i]), "padding was written"); continue; }
                Assert.True(Math.Abs(c[i] - expected[i]) <= 1e-6 * scale[i], $"{ta},{tb} [{i}] {c[i]} vs {expected[i]}");
            }
        }
    }

    /// <summary>A random valid convolution: 1–3 spatial dims, VALID or SAME, strides and dilation 1–2, groups 1/2/depthwise, or pointwise.</summary>
    private static (Shape X, Shape W, ConvParams P) RandomConv(Random rng)
    {
        int d = rng.Next(1, 4);
        int groupsKind = rng.Next(3);
        int g = groupsKind == 0 ? 1 : groupsKind == 1 ? 2 : rng.Next(1, 5);
        int cg = groupsKind == 2 ? 1 : rng.Next(1, 4), og = rng.Next(1, 4), n = rng.Next(1, 3);
        var inSp = Enumerable.Range(0, d).Select(_ => rng.Next(1, d == 1 ? 12 : 6)).ToArray();
        if (rng.Next(5) == 0)   // pointwise: the input is its own patch matrix
            return (new Shape([n, .. inSp, g * cg]), new Shape([.. Enumerable.Repeat(1, d), cg, g * og]),
                    new ConvParams(Enumerable.Repeat(1, d).ToArray(), ConvPadding.Valid(d), Enumerable.Repeat(rng.Next(1, 3), d).ToArray(), g));
        var kSp = Enumerable.Range(0, d).Select(_ => rng.Next(1, 4)).ToArray();
        var strides = Enumerable.Range(0, d).Select(_ => rng.Next(1, 3)).ToArray();
        var dil = Enumerable.Range(0, d).Select(_ => rng.Next(1, 3)).ToArray();
        (int, int)[] pad;
        if (rng.Next(2) == 0) pad = ConvPadding.Same(inSp, kSp, strides, dil);
        else
        {
            pad = ConvPadding.Valid(d);
            for (int i = 0; i < d; i++)
                while ((kSp[i] - 1) * dil[i] + 1 > inSp[i]) { if (dil[i] > 1) dil[i] = 1; else kSp[i]--; }
        }
        return (new Shape([n, .. inSp, g * cg]), new Shape([.. kSp, cg, g * og]), new ConvParams(strides, pad, dil, g));
    }

    [Property(MaxTest = 80)]
    public void Convolution_and_adjoints_match_the_cpu_kernels(int seed, bool f32, bool chunked)
    {
        var rng = new Random(seed);
        var (xs, ws, p) = RandomConv(rng);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        var x = Tensor.RandomNormal(rng, xs, dtype);
        var w = Tensor.RandomNormal(rng, ws, dtype);
        var outShape = Conv.InferShape(xs, ws, p);
        var ct = Tensor.RandomNormal(rng, outShape, dtype);
        // Chunks of a few rows and split sums exercise the chunk loops, the float64 chunk sums and col2im across chunks.
        var backend = Emulated(out var ex, kBlock: chunked ? 3 : SplitKGemm.DefaultKBlock, chunkElements: chunked ? rng.Next(1, 30) : 1L << 25);
        double tol = f32 ? 1e-5 : 1e-12;
        AssertClose(ComputeBackend.Cpu.ConvForward(x, w, p), backend.ConvForward(x, w, p), tol, $"forward {p} x {xs} w {ws}");
        AssertClose(ComputeBackend.Cpu.ConvLhsTranspose(ct, w, xs, p), backend.ConvLhsTranspose(ct, w, xs, p), tol, $"lhs adjoint {p} x {xs} w {ws}");
        AssertClose(ComputeBackend.Cpu.ConvRhsTranspose(x, ct, ws, p), backend.ConvRhsTranspose(x, ct, ws, p), tol, $"rhs adjoint {p} x {xs} w {ws}");
        Assert.True(ex.Programs >= 3);
        Assert.Equal(3, backend.GpuCalls);
        // Groups run as one batched call per chunk, side by side in the same rows.
        Assert.All(ex.History, q => Assert.True(q.Batch == p.FeatureGroupCount || q.Batch >= 1));
    }

    [Fact]
    public void Grouped_convolution_is_one_batched_call_per_chunk()
    {
        var rng = new Random(8);
        var x = Tensor.RandomNormal(rng, new Shape(2, 5, 5, 6));
        var w = Tensor.RandomNormal(rng, new Shape(3, 3, 2, 9));   // 3 groups of 2 → 3 channels
        var p = new ConvParams([1, 1], ConvPadding.Same([5, 5], [3, 3]), [1, 1], 3);
        var backend = Emulated(out var ex);
        AssertClose(ComputeBackend.Cpu.ConvForward(x, w, p), backend.ConvForward(x, w, p), 1e-12);
        var q = Assert.Single(ex.History);
        Assert.Equal((3, 50, 3, 18), (q.Batch, q.M, q.N, q.K));
        Assert.Equal((54, 18L, 9, 3L, 9, 3L), (q.Lda, q.StrideA, q.Ldb, q.StrideB, q.Ldc, q.StrideC));
    }

    [Theory]
    [InlineData(NtkImplementation.JacobianContraction)]
    [InlineData(NtkImplementation.NtkVectorProducts)]
    [InlineData(NtkImplementation.StructuredDerivatives)]
    public void Whole_ntk_through_the_lowering_matches_the_cpu(NtkImplementation impl)
    {
        foreach (var c in new[] { ComputeBackendRoutingTests.DenseCase(), ComputeBackendRoutingTests.ConvCase() })
        {
            var fn = NeuralTangents.Empirical.NtkFn(c.Net.Apply, traceAxes: [], vmapAxes: 0, implementation: impl);
            var cpu = fn(c.X1, c.X2, c.P);
            var backend = Emulated(out var ex);
            Tensor k;
            using (ComputeBackend.Use(backend)) k = fn(c.X1, c.X2, c.P);
            Assert.True(backend.GpuCalls > 0 && ex.Calls > 0);
            AssertClose(cpu, k, 1e-11, impl.ToString());
        }
    }

    [Fact]
    public void Problems_below_the_threshold_stay_on_the_cpu_bitwise()
    {
        var c = ComputeBackendRoutingTests.ConvCase();
        var fn = NeuralTangents.Empirical.NtkFn(c.Net.Apply, vmapAxes: 0);
        var cpu = fn(c.X1, c.X2, c.P);
        var backend = Emulated(out var ex, minGpuFlops: long.MaxValue);
        Tensor k;
        using (ComputeBackend.Use(backend)) k = fn(c.X1, c.X2, c.P);
        Assert.Equal(0, ex.Calls);
        Assert.Equal(0, backend.GpuCalls);
        Assert.Equal(cpu.ToDoubleArray(), k.ToDoubleArray());

        // The threshold compares 2·(output size)·(contraction size): 2·4·4·8 = 256 flops.
        var a = Tensor.RandomNormal(new Random(1), new Shape(4, 8));
        var d = new DotDimensionNumbers([1], [1]);
        var at = Emulated(out var ex2, minGpuFlops: 256);
        at.DotGeneral(a, a, d);
        Assert.Equal(1, ex2.Calls);
        var above = Emulated(out var ex3, minGpuFlops: 257);
        Assert.Equal(ComputeBackend.Cpu.DotGeneral(a, a, d).ToDoubleArray(), above.DotGeneral(a, a, d).ToDoubleArray());
        Assert.Equal(0, ex3.Calls);
    }

    [Fact]
    public void Errors_are_those_of_the_cpu_kernels_and_come_before_any_transfer()
    {
        var backend = Emulated(out var ex);
        var a = Tensor.Zeros(new Shape(2, 3));
        var b = Tensor.Zeros(new Shape(4, 5));
        var d = new DotDimensionNumbers([1], [0]);
        var cpuErr = Assert.Throws<ArgumentException>(() => ComputeBackend.Cpu.DotGeneral(a, b, d));
        var err = Assert.Throws<ArgumentException>(() => backend.DotGeneral(a, b, d));
        Assert.Equal(cpuErr.Message, err.Message);
        var b32 = Tensor.Zeros(new Shape(3, 5), DType.Float32);
        Assert.Equal(Assert.Throws<ArgumentException>(() => ComputeBackend.Cpu.DotGeneral(a, b32, d)).Message,
                     Assert.Throws<ArgumentException>(() => backend.DotGeneral(a, b32, d)).Message);
        var x = Tensor.Zeros(new Shape(1, 4, 4, 3));
        var w = Tensor.Zeros(new Shape(3, 3, 2, 4));
        var p = new ConvParams([1, 1], ConvPadding.Valid(2), [1, 1]);
        Assert.Equal(Assert.Throws<ArgumentException>(() => ComputeBackend.Cpu.ConvForward(x, w, p)).Message,
                     Assert.Throws<ArgumentException>(() => backend.ConvForward(x, w, p)).Message);
        var ct = Tensor.Zeros(new Shape(1, 3, 3, 4));
        var w3 = Tensor.Zeros(new Shape(3, 3, 3, 4));
        Assert.Equal(Assert.Throws<ArgumentException>(() => ComputeBackend.Cpu.ConvLhsTranspose(ct, w3, x.Shape, p)).Message,
                     Assert.Throws<ArgumentException>(() => backend.ConvLhsTranspose(ct, w3, x.Shape, p)).Message);
        Assert.Equal(Assert.Throws<ArgumentException>(() => ComputeBackend.Cpu.ConvRhsTranspose(x, ct, w3.Shape, p)).Message,
                     Assert.Throws<ArgumentException>(() => backend.ConvRhsTranspose(x, ct, w3.Shape, p)).Message);
        Assert.Equal(0, ex.Calls);
    }

    [Fact]
    public void Empty_problems_need_no_gemm()
    {
        var backend = Emulated(out var ex);
        var z = backend.DotGeneral(Tensor.Zeros(new Shape(3, 0)), Tensor.Zeros(new Shape(0, 2)), new DotDimensionNumbers([1], [0]));
        Assert.Equal(new Shape(3, 2), z.Shape);
        Assert.All(z.ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.Equal(0, ex.Calls);
    }
}
