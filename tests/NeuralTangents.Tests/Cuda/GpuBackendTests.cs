using NeuralTangents.Cuda;
using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Cuda;

/// <summary>
/// <see cref="CudaBackend"/> on a real GPU: each hot kernel against the float64 CPU kernel, then whole NTKs
/// (float32 on the GPU within 1e-5 of float64 on the CPU, relative to the largest entry).
/// </summary>
[Trait("Category", "Gpu")]
public class GpuBackendTests
{
    private static CudaBackend Gpu() => new(0, minGpuFlops: 0);   // everything on the GPU, however small

    /// <summary>max |got − want| ≤ tol · max |want| (the scale-aware measure for sums with cancellation).</summary>
    private static void AssertRelMax(Tensor want, Tensor got, double tol, string what)
    {
        Assert.Equal(want.Shape, got.Shape);
        var w = want.ToDoubleArray();
        var g = got.ToDoubleArray();
        double scale = w.Length == 0 ? 0 : w.Max(Math.Abs), err = 0;
        for (int i = 0; i < w.Length; i++) err = Math.Max(err, Math.Abs(w[i] - g[i]));
        Assert.True(err <= tol * scale, $"{what}: max error {err:E3} > {tol:E0} × max |ref| {scale:E3}");
    }

    public static TheoryData<int[], int[], int[], int[], int[], int[]> DotPatterns() => new()
    {
        // lhs shape, rhs shape, lhs contracting, rhs contracting, lhs batch, rhs batch
        { [300, 500], [500, 200], [1], [0], [], [] },                 // matmul
        { [500, 300], [200, 500], [0], [1], [], [] },                 // both transposed
        { [8, 64, 96], [8, 96, 48], [2], [1], [0], [0] },             // batched
        { [64, 8, 96], [48, 96, 8], [2], [1], [1], [2] },             // batch axes elsewhere
        { [10, 3, 5000], [7, 3, 5000], [1, 2], [1, 2], [], [] },      // long float32 sum: split
        { [20, 30], [40, 50], [], [], [], [] },                       // outer product
        { [4, 6, 7, 9], [9, 4, 7, 5], [2, 3], [2, 0], [0], [1] },     // multi-axis contraction
    };

    [GpuTheory, MemberData(nameof(DotPatterns))]
    public void Dot_general_matches_the_float64_cpu_kernel(int[] ls, int[] rs, int[] lc, int[] rc, int[] lb, int[] rb)
    {
        var rng = new Random(ls.Sum() + rs.Sum());
        var lhs = Tensor.RandomNormal(rng, new Shape(ls));
        var rhs = Tensor.RandomNormal(rng, new Shape(rs));
        var dims = new DotDimensionNumbers(lc, rc, lb, rb);
        var want = ComputeBackend.Cpu.DotGeneral(lhs, rhs, dims);
        var gpu = Gpu();
        AssertRelMax(want, gpu.DotGeneral(lhs, rhs, dims), 1e-12, "float64");
        AssertRelMax(want, gpu.DotGeneral(lhs.AsType(DType.Float32), rhs.AsType(DType.Float32), dims), 1e-5, "float32");
        Assert.Equal(2, gpu.GpuCalls);
        // Bitwise reproducible from run to run.
        Assert.Equal(gpu.DotGeneral(lhs, rhs, dims).ToDoubleArray(), gpu.DotGeneral(lhs, rhs, dims).ToDoubleArray());
    }

    public static TheoryData<int[], int[], int[], string, int[], int> ConvPatterns() => new()
    {
        // x shape, w shape, strides, padding, dilation, groups
        { [8, 32, 32, 3], [3, 3, 3, 32], [1, 1], "VALID", [1, 1], 1 },
        { [4, 17, 15, 8], [3, 2, 4, 12], [2, 1], "SAME", [1, 2], 2 },     // groups, strides, dilation
        { [4, 16, 16, 8], [3, 3, 1, 8], [1, 1], "SAME", [1, 1], 8 },      // depthwise
        { [6, 9, 9, 16], [1, 1, 16, 24], [1, 1], "VALID", [1, 1], 1 },    // pointwise
        { [3, 40, 6], [5, 2, 9], [3], "SAME", [1], 3 },                   // 1-d, groups
        { [2, 6, 7, 8, 4], [2, 3, 2, 2, 6], [1, 2, 1], "VALID", [2, 1, 1], 2 }, // 3-d
    };

    [GpuTheory, MemberData(nameof(ConvPatterns))]
    public void Convolution_and_adjoints_match_the_float64_cpu_kernels(int[] xs, int[] ws, int[] strides, string padding, int[] dil, int groups)
    {
        var rng = new Random(xs.Sum() * 31 + ws.Sum());
        int d = strides.Length;
        var pad = padding == "SAME" ? ConvPadding.Same(xs[1..^1], ws[..d], strides, dil) : ConvPadding.Valid(d);
        var p = new ConvParams(strides, pad, dil, groups);
        var x = Tensor.RandomNormal(rng, new Shape(xs));
        var w = Tensor.RandomNormal(rng, new Shape(ws));
        var ct = Tensor.RandomNormal(rng, NeuralTangents.Tensors.Kernels.Conv.InferShape(x.Shape, w.Shape, p));
        var gpu = Gpu();
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            double tol = dtype == DType.Float64 ? 1e-12 : 1e-5;
            Tensor X = x.AsType(dtype), W = w.AsType(dtype), C = ct.AsType(dtype);
            AssertRelMax(ComputeBackend.Cpu.ConvForward(x, w, p), gpu.ConvForward(X, W, p), tol, $"forward {dtype}");
            AssertRelMax(ComputeBackend.Cpu.ConvLhsTranspose(ct, w, x.Shape, p), gpu.ConvLhsTranspose(C, W, x.Shape, p), tol, $"lhs adjoint {dtype}");
            AssertRelMax(ComputeBackend.Cpu.ConvRhsTranspose(x, ct, w.Shape, p), gpu.ConvRhsTranspose(X, C, w.Shape, p), tol, $"rhs adjoint {dtype}");
        }
        Assert.Equal(6, gpu.GpuCalls);
    }

    [GpuFact]
    public void Chunked_convolutions_match()
    {
        var rng = new Random(9);
        var x = Tensor.RandomNormal(rng, new Shape(4, 20, 20, 6));
        var w = Tensor.RandomNormal(rng, new Shape(3, 3, 3, 8));
        var p = new ConvParams([1, 1], ConvPadding.Same([20, 20], [3, 3]), [1, 1], 2);
        var ct = Tensor.RandomNormal(rng, NeuralTangents.Tensors.Kernels.Conv.InferShape(x.Shape, w.Shape, p));
        var gpu = new CudaBackend(0, minGpuFlops: 0) { ConvChunkElements = 1000, KBlock = 100 };
        AssertRelMax(ComputeBackend.Cpu.ConvForward(x, w, p), gpu.ConvForward(x, w, p), 1e-12, "forward");
        AssertRelMax(ComputeBackend.Cpu.ConvLhsTranspose(ct, w, x.Shape, p), gpu.ConvLhsTranspose(ct, w, x.Shape, p), 1e-12, "lhs adjoint");
        AssertRelMax(ComputeBackend.Cpu.ConvRhsTranspose(x, ct, w.Shape, p), gpu.ConvRhsTranspose(x, ct, w.Shape, p), 1e-12, "rhs adjoint");
        AssertRelMax(ComputeBackend.Cpu.ConvRhsTranspose(x, ct, w.Shape, p),
                     gpu.ConvRhsTranspose(x.AsType(DType.Float32), ct.AsType(DType.Float32), w.Shape, p), 1e-5, "rhs adjoint float32");
    }

    private static readonly Lazy<(Layer Net, Tensor X, Params P, Tensor Reference)> DenseNtk = new(() =>
    {
        var net = Serial(Dense(512), Relu(), Dense(10));
        var x = Tensor.RandomNormal(new Random(1), new Shape(100, 1000));
        var p = net.Init(0, x.Shape).Params;
        // float64 on the CPU is the reference; the trace over logits keeps the reference (100, 100).
        var reference = NeuralTangents.Empirical.NtkFn(net.Apply, vmapAxes: 0, implementation: NtkImplementation.StructuredDerivatives)(x, null, p);
        return (net, x, p, reference);
    });

    [GpuTheory]
    [InlineData(NtkImplementation.JacobianContraction)]
    [InlineData(NtkImplementation.NtkVectorProducts)]
    [InlineData(NtkImplementation.StructuredDerivatives)]
    public void Dense_ntk_in_float32_on_the_gpu_is_within_1e5_of_float64_on_the_cpu(NtkImplementation impl)
    {
        var (net, x, p, reference) = DenseNtk.Value;
        var fn = NeuralTangents.Empirical.NtkFn(net.Apply, vmapAxes: 0, implementation: impl);
        var gpu = new CudaBackend(0);
        Tensor k;
        using (ComputeBackend.Use(gpu)) k = fn(x.AsType(DType.Float32), null, p.AsType(DType.Float32));
        Assert.Equal(DType.Float32, k.DType);
        Assert.True(gpu.GpuCalls > 0, "nothing ran on the GPU");
        AssertRelMax(reference, k, 1e-5, $"{impl} float32 GPU vs float64 CPU");
        Tensor k64;
        using (ComputeBackend.Use(gpu)) k64 = fn(x, null, p);
        AssertRelMax(reference, k64, 1e-11, $"{impl} float64 GPU vs float64 CPU");
    }

    [GpuFact]
    public void Cnn_ntk_on_the_gpu_matches_the_cpu_for_every_implementation()
    {
        var net = Serial(Conv(16, [3, 3], bStd: 0.1), Relu(), Conv(16, [3, 3], strides: [2, 2], padding: Padding.Same), Relu(), Flatten(), Dense(10));
        var rng = new Random(2);
        var x1 = Tensor.RandomNormal(rng, new Shape(6, 12, 12, 3));
        var x2 = Tensor.RandomNormal(rng, new Shape(4, 12, 12, 3));
        var p = net.Init(1, x1.Shape).Params;
        var reference = NeuralTangents.Empirical.NtkFn(net.Apply, traceAxes: [], vmapAxes: 0)(x1, x2, p);
        foreach (var impl in ComputeBackendRoutingTests.Implementations)
        {
            var fn = NeuralTangents.Empirical.NtkFn(net.Apply, traceAxes: [], vmapAxes: 0, implementation: impl);
            var gpu = Gpu();
            Tensor k32, k64;
            using (ComputeBackend.Use(gpu))
            {
                k64 = fn(x1, x2, p);
                k32 = fn(x1.AsType(DType.Float32), x2.AsType(DType.Float32), p.AsType(DType.Float32));
            }
            Assert.True(gpu.GpuCalls > 0);
            AssertRelMax(reference, k64, 1e-11, $"{impl} float64");
            AssertRelMax(reference, k32, 1e-5, $"{impl} float32");
        }
    }

    [GpuFact]
    public void Tf32_is_opt_in()
    {
        var rng = new Random(4);
        var a = Tensor.RandomNormal(rng, new Shape(64, 2048), DType.Float32);
        var b = Tensor.RandomNormal(rng, new Shape(2048, 64), DType.Float32);
        var dims = new DotDimensionNumbers([1], [0]);
        var want = ComputeBackend.Cpu.DotGeneral(a.AsType(DType.Float64), b.AsType(DType.Float64), dims);
        AssertRelMax(want, new CudaBackend(0, minGpuFlops: 0).DotGeneral(a, b, dims), 1e-5, "default (no TF32)");
        var tf32 = new CudaBackend(0, allowTf32: true, minGpuFlops: 0);
        Assert.True(tf32.AllowTf32);
        AssertRelMax(want, tf32.DotGeneral(a, b, dims), 1e-2, "TF32");
    }
}
