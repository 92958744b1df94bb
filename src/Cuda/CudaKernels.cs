using System.Numerics;
using NeuralTangents.Tensors;

namespace NeuralTangents.Cuda;

/// <summary>Tensor operations executed on a CUDA device; inputs and outputs are CPU tensors.</summary>
internal static class CudaKernels
{
    /// <summary>
    /// <c>lax.dot_general</c> on the GPU: canonicalised on the host to (B, M, K)·(B, K, N) (transposed views plus
    /// <see cref="Tensor.Contiguous"/>), run as cuBLAS strided-batched GEMMs (long float32 sums split, see
    /// <see cref="SplitKGemm"/>), downloaded into a new CPU tensor
    /// of shape batch ++ lhs free ++ rhs free. Mixed dtypes compute in float64.
    /// </summary>
    /// <exception cref="ArgumentException">The dimension numbers do not fit the shapes.</exception>
    /// <exception cref="InvalidOperationException">CUDA is unavailable.</exception>
    /// <exception cref="CudaException">A CUDA or cuBLAS call failed.</exception>
    internal static Tensor DotGeneral(Tensor lhs, Tensor rhs, int[] lhsContract, int[] rhsContract, int[] lhsBatch, int[] rhsBatch,
                                      int device = 0, CublasMath math = CublasMath.Default) =>
        DotGeneral(lhs, rhs, lhsContract, rhsContract, lhsBatch, rhsBatch, new CublasGemm(device, math), SplitKGemm.DefaultKBlock);

    /// <summary>
    /// As above with the GEMM supplied (lets tests check the canonicalisation without a GPU); float32 sums longer
    /// than <paramref name="kBlock"/> are split (<see cref="SplitKGemm"/>).
    /// </summary>
    internal static Tensor DotGeneral(Tensor lhs, Tensor rhs, int[] lhsContract, int[] rhsContract, int[] lhsBatch, int[] rhsBatch,
                                      IBatchedGemm gemm, int kBlock = SplitKGemm.DefaultKBlock)
    {
        ArgumentNullException.ThrowIfNull(lhs);
        ArgumentNullException.ThrowIfNull(rhs);
        var plan = DotGeneralPlan.Create(lhs.Shape, rhs.Shape, lhsContract, rhsContract, lhsBatch, rhsBatch);
        var dtype = lhs.DType == rhs.DType ? lhs.DType : DType.Float64;
        // Empty output or empty sum: nothing to multiply (and zero-size operands need no GPU).
        if (plan.OutputShape.Size == 0 || plan.K == 0) return Tensor.Zeros(plan.OutputShape, dtype);
        gemm.EnsureReady();
        return dtype == DType.Float32
            ? Run<float>(plan, lhs.AsType(dtype), rhs.AsType(dtype), gemm, kBlock)
            : Run<double>(plan, lhs.AsType(dtype), rhs.AsType(dtype), gemm, kBlock);
    }

    private static Tensor Run<T>(DotGeneralPlan plan, Tensor lhs, Tensor rhs, IBatchedGemm gemm, int kBlock)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (a, ta) = plan.PrepareLhs(lhs);
        var (b, tb) = plan.PrepareRhs(rhs);
        int m = plan.M, n = plan.N, k = plan.K;
        var c = new T[checked(plan.Batch * m * n)];
        SplitKGemm.Run<T>(gemm, plan.Batch, m, n, k,
            a.Span<T>(), Math.Max(1, ta ? m : k), (long)m * k, ta,
            b.Span<T>(), Math.Max(1, tb ? k : n), (long)k * n, tb,
            c, Math.Max(1, n), (long)m * n, kBlock);
        return Tensor.Wrap(c, plan.OutputShape);
    }
}
