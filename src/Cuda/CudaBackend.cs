using System.Globalization;
using NeuralTangents.Tensors;

namespace NeuralTangents.Cuda;

/// <summary>
/// A <see cref="ComputeBackend"/> that runs <c>dot_general</c> and the convolutions (forward and both adjoints) on a
/// CUDA device through cuBLAS; everything else, and every tensor, stays on the host. Inside
/// <c>using (Device.Cuda(0).Use()) { … }</c> the same traced graphs (every NTK implementation) send these hot
/// kernels here.
/// <list type="bullet">
/// <item><c>dot_general</c>: canonicalised to one strided-batched GEMM (operands uploaded, result downloaded).</item>
/// <item>Convolutions: im2col on the host, one strided-batched GEMM over the feature groups, col2im on the host for
/// the lhs adjoint (no cuDNN).</item>
/// <item>float32 keeps full precision: no TF32 unless <c>allowTf32</c>, and sums of more than 2048 terms are cut into
/// blocks whose products are added in float64 on the host, as the CPU kernel does, so float32 results stay within
/// ~1e-5 relative of float64. float64 runs as DGEMM.</item>
/// <item>Problems below <see cref="MinGpuFlops"/> (2·multiply-adds; default <see cref="DefaultMinGpuFlops"/>) run on
/// the CPU backend, where the transfers would cost more than the arithmetic. Both paths compute the same sums, so
/// the choice changes results only by rounding.</item>
/// </list>
/// Validation and error messages are those of the CPU backend. Thread-safe; results are bitwise reproducible on a
/// given GPU and driver.
/// </summary>
public sealed class CudaBackend : ComputeBackend
{
    /// <summary>Default <see cref="MinGpuFlops"/>: 2²⁴ ≈ 16.8 MFLOP, about a millisecond on a few CPU cores.</summary>
    public const long DefaultMinGpuFlops = 1L << 24;

    private readonly IBatchedGemm _gemm;

    /// <summary>A backend on CUDA device <paramref name="ordinal"/>.</summary>
    /// <param name="ordinal">Device number as the CUDA runtime counts them.</param>
    /// <param name="allowTf32">Let cuBLAS use TF32 tensor cores for float32 (faster, ~1e-3 relative error).</param>
    /// <param name="minGpuFlops">Smaller problems run on the CPU; 0 sends everything to the GPU.</param>
    /// <exception cref="InvalidOperationException"><c>CUDA is unavailable: &lt;reason&gt;</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is not a device, or <paramref name="minGpuFlops"/> is negative.</exception>
    public CudaBackend(int ordinal = 0, bool allowTf32 = false, long minGpuFlops = DefaultMinGpuFlops)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minGpuFlops);
        var state = CudaRuntime.State;
        if (state.UnavailableReason is not null) throw new InvalidOperationException($"CUDA is unavailable: {state.UnavailableReason}");
        state.CheckOrdinal(ordinal);
        Ordinal = ordinal;
        AllowTf32 = allowTf32;
        MinGpuFlops = minGpuFlops;
        _gemm = new CublasGemm(ordinal, allowTf32 ? CublasMath.Tf32TensorOp : CublasMath.Default);
        Name = $"cuda:{ordinal.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>Same lowering on another GEMM executor (tests run it on a managed emulator, without a GPU).</summary>
    internal CudaBackend(IBatchedGemm gemm, string name, long minGpuFlops = 0)
    {
        _gemm = gemm;
        Name = name;
        MinGpuFlops = minGpuFlops;
        Ordinal = -1;
    }

    /// <summary>The CUDA device number.</summary>
    public int Ordinal { get; }

    /// <summary>Whether float32 GEMMs may use TF32.</summary>
    public bool AllowTf32 { get; }

    /// <summary>Problems with fewer floating-point operations than this run on the CPU.</summary>
    public long MinGpuFlops { get; }

    /// <summary><c>cuda:N</c>.</summary>
    public override string Name { get; }

    /// <summary>Largest float32 sum computed in one block (tests lower it to exercise the split).</summary>
    internal int KBlock { get; init; } = SplitKGemm.DefaultKBlock;

    /// <summary>Patch-matrix entries per im2col chunk (tests lower it to exercise chunking).</summary>
    internal long ConvChunkElements { get; init; } = 1L << 25;

    /// <summary>Counts of operations sent to the GEMM executor (the rest ran on the CPU).</summary>
    internal int GpuCalls => _gpuCalls;

    private int _gpuCalls;

    private static readonly Dictionary<int, CudaBackend> Shared = [];

    /// <summary>The process-wide default backend of device <paramref name="ordinal"/> (created on first use).</summary>
    internal static CudaBackend ForOrdinal(int ordinal)
    {
        lock (Shared)
        {
            if (!Shared.TryGetValue(ordinal, out var b))
            {
                b = new CudaBackend(ordinal);   // throws (and caches nothing) when CUDA or the device is missing
                Shared.Add(ordinal, b);
            }
            return b;
        }
    }

    internal override Tensor DotGeneral(Tensor lhs, Tensor rhs, DotDimensionNumbers dims)
    {
        ArgumentNullException.ThrowIfNull(lhs);
        ArgumentNullException.ThrowIfNull(rhs);
        var outShape = Tensors.Kernels.DotGeneral.InferShape(lhs.Shape, rhs.Shape, dims);
        // Mismatched dtypes: the CPU kernel throws its error.
        if (lhs.DType != rhs.DType) return base.DotGeneral(lhs, rhs, dims);
        long k = 1;
        foreach (var a in dims.LhsContracting) k *= lhs.Shape[a];
        if (2.0 * outShape.Size * k < MinGpuFlops || outShape.Size == 0 || k == 0) return base.DotGeneral(lhs, rhs, dims);
        Interlocked.Increment(ref _gpuCalls);
        return CudaKernels.DotGeneral(lhs, rhs, dims.LhsContracting, dims.RhsContracting, dims.LhsBatch, dims.RhsBatch, _gemm, KBlock);
    }

    internal override Tensor ConvForward(Tensor lhs, Tensor rhs, ConvParams p)
    {
        var outShape = Conv.InferShape(lhs.Shape, rhs.Shape, p);
        if (lhs.DType != rhs.DType) return base.ConvForward(lhs, rhs, p);
        return OnGpu(lhs.Shape, rhs.Shape, outShape, p, lhs.DType, outShape,
                   low => low.Forward<float>(lhs.Contiguous(), rhs.Contiguous(), _gemm, ConvChunkElements, KBlock),
                   low => low.Forward<double>(lhs.Contiguous(), rhs.Contiguous(), _gemm, ConvChunkElements, KBlock))
               ?? base.ConvForward(lhs, rhs, p);
    }

    internal override Tensor ConvLhsTranspose(Tensor ct, Tensor rhs, Shape lhsShape, ConvParams p)
    {
        var outShape = Conv.InferShape(lhsShape, rhs.Shape, p);
        if (ct.Shape != outShape || ct.DType != rhs.DType) return base.ConvLhsTranspose(ct, rhs, lhsShape, p);
        return OnGpu(lhsShape, rhs.Shape, outShape, p, ct.DType, lhsShape,
                   low => low.LhsTranspose<float>(ct.Contiguous(), rhs.Contiguous(), _gemm, ConvChunkElements, KBlock),
                   low => low.LhsTranspose<double>(ct.Contiguous(), rhs.Contiguous(), _gemm, ConvChunkElements, KBlock))
               ?? base.ConvLhsTranspose(ct, rhs, lhsShape, p);
    }

    internal override Tensor ConvRhsTranspose(Tensor lhs, Tensor ct, Shape rhsShape, ConvParams p)
    {
        var outShape = Conv.InferShape(lhs.Shape, rhsShape, p);
        if (ct.Shape != outShape || ct.DType != lhs.DType) return base.ConvRhsTranspose(lhs, ct, rhsShape, p);
        return OnGpu(lhs.Shape, rhsShape, outShape, p, lhs.DType, rhsShape,
                   low => low.RhsTranspose<float>(lhs.Contiguous(), ct.Contiguous(), _gemm, ConvChunkElements, KBlock),
                   low => low.RhsTranspose<double>(lhs.Contiguous(), ct.Contiguous(), _gemm, ConvChunkElements, KBlock))
               ?? base.ConvRhsTranspose(lhs, ct, rhsShape, p);
    }

    /// <summary>One lowered convolution (or adjoint) on the GPU, shaped <paramref name="result"/>; null when it is too
    /// small to pay for the transfers (the caller then runs it on the CPU).</summary>
    private Tensor? OnGpu(Shape lhs, Shape rhs, Shape outShape, ConvParams p, DType dtype, Shape result,
        Func<ConvLowering, float[]> f32, Func<ConvLowering, double[]> f64)
    {
        var low = new ConvLowering(lhs, rhs, outShape, p);
        if (low.Flops < MinGpuFlops || low.Flops == 0) return null;
        Interlocked.Increment(ref _gpuCalls);
        _gemm.EnsureReady();
        return dtype == DType.Float32 ? Tensor.Wrap(f32(low), result) : Tensor.Wrap(f64(low), result);
    }
}
