using System.Numerics;

namespace NeuralTangents.Cuda;

/// <summary>
/// One row-major strided-batched GEMM <c>C = op(A)·op(B)</c> inside a <see cref="IBatchedGemm.Run{T}"/> program;
/// offsets and strides are in elements of the program's A, B and C buffers. Matrix i of the batch starts
/// i·stride after the offset; outputs may be stacked (stride ≥ one C matrix) or side by side (column blocks of the
/// same rows: stride ≥ n and the last block ends within ldc).
/// </summary>
internal readonly record struct GemmCall(
    int Batch, int M, int N, int K,
    long AOffset, int Lda, long StrideA, bool TransA,
    long BOffset, int Ldb, long StrideB, bool TransB,
    long COffset, int Ldc, long StrideC);

/// <summary>Runs GEMM programs: cuBLAS here (<see cref="CublasGemm"/>), a managed reference in tests.</summary>
internal interface IBatchedGemm
{
    /// <summary>Called after validation, before any data is prepared: throw here if the executor cannot run.</summary>
    void EnsureReady();

    /// <summary>
    /// Runs <paramref name="calls"/> in order, reading <paramref name="a"/> and <paramref name="b"/> and writing
    /// <paramref name="c"/> (A and B are transferred once for the whole program). Entries of C that no call writes
    /// keep their values; calls must not write overlapping entries.
    /// </summary>
    void Run<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, IReadOnlyList<GemmCall> calls)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Shorthands over <see cref="IBatchedGemm"/>.</summary>
internal static class BatchedGemmExtensions
{
    /// <summary>A single strided-batched GEMM on whole spans.</summary>
    public static void GemmStridedBatched<T>(this IBatchedGemm gemm, int batch, int m, int n, int k,
                                             ReadOnlySpan<T> a, int lda, long strideA, bool transA,
                                             ReadOnlySpan<T> b, int ldb, long strideB, bool transB,
                                             Span<T> c, int ldc, long strideC)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        gemm.Run(a, b, c, [new GemmCall(batch, m, n, k, 0, lda, strideA, transA, 0, ldb, strideB, transB, 0, ldc, strideC)]);
}
