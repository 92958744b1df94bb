using System.Numerics;
using NeuralTangents.Tensors;

namespace NeuralTangents.Cuda;

/// <summary>A strided-batched row-major GEMM (cuBLAS here; a managed reference in tests).</summary>
internal interface IBatchedGemm
{
    /// <summary>Called after validation, before any data is prepared: throw here if the backend cannot run.</summary>
    void EnsureReady();

    void GemmStridedBatched<T>(int batch, int m, int n, int k, ReadOnlySpan<T> a, int lda, long strideA, bool transA,
                               ReadOnlySpan<T> b, int ldb, long strideB, bool transB, Span<T> c, int ldc, long strideC)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Tensor operations executed on a CUDA device; inputs and outputs are CPU tensors.</summary>
internal static class CudaKernels
{
    /// <summary>
    /// <c>lax.dot_general</c> on the GPU: canonicalised on the host to (B, M, K)·(B, K, N) (transposed views plus
    /// <see cref="Tensor.Contiguous"/>), run as one cuBLAS strided-batched GEMM, downloaded into a new CPU tensor
    /// of shape batch ++ lhs free ++ rhs free. Mixed dtypes compute in float64.
    /// </summary>
    /// <exception cref="ArgumentException">The dimension numbers do not fit the shapes.</exception>
    /// <exception cref="InvalidOperationException">CUDA is unavailable.</exception>
    /// <exception cref="CudaException">A CUDA or cuBLAS call failed.</exception>
    internal static Tensor DotGeneral(Tensor lhs, Tensor rhs, int[] lhsContract, int[] rhsContract, int[] lhsBatch, int[] rhsBatch,
                                      int device = 0, CublasMath math = CublasMath.Default) =>
        DotGeneral(lhs, rhs, lhsContract, rhsContract, lhsBatch, rhsBatch, new CublasGemm(device, math));

    /// <summary>As above with the GEMM supplied (lets tests check the canonicalisation without a GPU).</summary>
    internal static Tensor DotGeneral(Tensor lhs, Tensor rhs, int[] lhsContract, int[] rhsContract, int[] lhsBatch, int[] rhsBatch,
                                      IBatchedGemm gemm)
    {
        ArgumentNullException.ThrowIfNull(lhs);
        ArgumentNullException.ThrowIfNull(rhs);
        var plan = DotGeneralPlan.Create(lhs.Shape, rhs.Shape, lhsContract, rhsContract, lhsBatch, rhsBatch);
        var dtype = lhs.DType == rhs.DType ? lhs.DType : DType.Float64;
        // Empty output or empty sum: nothing to multiply (and zero-size operands need no GPU).
        if (plan.OutputShape.Size == 0 || plan.K == 0) return Tensor.Zeros(plan.OutputShape, dtype);
        gemm.EnsureReady();
        return dtype == DType.Float32
            ? Run<float>(plan, lhs.AsType(dtype), rhs.AsType(dtype), gemm)
            : Run<double>(plan, lhs.AsType(dtype), rhs.AsType(dtype), gemm);
    }

    private static Tensor Run<T>(DotGeneralPlan plan, Tensor lhs, Tensor rhs, IBatchedGemm gemm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (a, ta) = plan.PrepareLhs(lhs);
        var (b, tb) = plan.PrepareRhs(rhs);
        int m = plan.M, n = plan.N, k = plan.K;
        var c = new T[checked(plan.Batch * m * n)];
        gemm.GemmStridedBatched<T>(plan.Batch, m, n, k,
            a.Span<T>(), Math.Max(1, ta ? m : k), (long)m * k, ta,
            b.Span<T>(), Math.Max(1, tb ? k : n), (long)k * n, tb,
            c, Math.Max(1, n), (long)m * n);
        return Tensor.Wrap(c, plan.OutputShape);
    }

    private sealed class CublasGemm(int device, CublasMath math) : IBatchedGemm
    {
        public void EnsureReady() => CudaRuntime.Require().CheckOrdinal(device);

        public void GemmStridedBatched<T>(int batch, int m, int n, int k, ReadOnlySpan<T> a, int lda, long strideA, bool transA,
                                          ReadOnlySpan<T> b, int ldb, long strideB, bool transB, Span<T> c, int ldc, long strideC)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            CudaBlas.GemmStridedBatched(batch, m, n, k, a, lda, strideA, transA, b, ldb, strideB, transB, c, ldc, strideC, device, math);
    }
}
