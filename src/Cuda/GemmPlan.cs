namespace NeuralTangents.Cuda;

/// <summary>
/// The cuBLAS (column-major) call that computes a row-major <c>C = op(A)·op(B)</c>. A row-major matrix with
/// leading dimension ld is, read column-major, its transpose with the same ld; so we ask cuBLAS for
/// <c>Cᵀ = op(B)ᵀ·op(A)ᵀ</c>: operands swapped (B first), m and n swapped, transpose flags carried over unchanged.
/// Row-major shapes: C is m×n (ldc ≥ n); A is m×k stored as given, or k×m when <c>transA</c>; B is k×n, or n×k
/// when <c>transB</c>; each ld ≥ the stored row length.
/// </summary>
/// <param name="TransA">cuBLAS <c>transa</c>: applies to cuBLAS's first operand, which is our B.</param>
/// <param name="TransB">cuBLAS <c>transb</c>: applies to cuBLAS's second operand, which is our A.</param>
/// <param name="M">cuBLAS m = our n.</param>
/// <param name="N">cuBLAS n = our m.</param>
/// <param name="K">cuBLAS k = our k.</param>
/// <param name="Lda">cuBLAS lda = our ldb.</param>
/// <param name="Ldb">cuBLAS ldb = our lda.</param>
/// <param name="Ldc">cuBLAS ldc = our ldc.</param>
/// <param name="ElementsA">Elements of our A the call may read (row-major extent).</param>
/// <param name="ElementsB">Elements of our B the call may read.</param>
/// <param name="ElementsC">Elements of our C the call may write.</param>
internal readonly record struct GemmPlan(
    CublasOperation TransA, CublasOperation TransB, int M, int N, int K, int Lda, int Ldb, int Ldc,
    long ElementsA, long ElementsB, long ElementsC)
{
    /// <summary>Validates a row-major GEMM description and maps it to the column-major call.</summary>
    /// <exception cref="ArgumentException">A size is negative or a leading dimension is too small.</exception>
    public static GemmPlan RowMajor(int m, int n, int k, bool transA, int lda, bool transB, int ldb, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"gemm: sizes must be non-negative, got m={m}, n={n}, k={k}", nameof(m));
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        CheckLd(lda, aCols, "lda", $"A is stored {aRows}×{aCols}{(transA ? " (transA)" : "")}");
        CheckLd(ldb, bCols, "ldb", $"B is stored {bRows}×{bCols}{(transB ? " (transB)" : "")}");
        CheckLd(ldc, n, "ldc", $"C is {m}×{n}");
        return new GemmPlan(
            transB ? CublasOperation.T : CublasOperation.N,
            transA ? CublasOperation.T : CublasOperation.N,
            n, m, k, ldb, lda, ldc,
            Extent(aRows, aCols, lda), Extent(bRows, bCols, ldb), Extent(m, n, ldc));
    }

    /// <summary>Elements spanned by a rows×cols row-major matrix with leading dimension ld.</summary>
    internal static long Extent(int rows, int cols, int ld) => rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;

    /// <summary>Elements spanned by <paramref name="batch"/> matrices of <paramref name="extent"/> elements, <paramref name="stride"/> apart.</summary>
    internal static long BatchedExtent(int batch, long extent, long stride) => batch == 0 || extent == 0 ? 0 : (batch - 1) * stride + extent;

    private static void CheckLd(int ld, int rowLength, string name, string what)
    {
        // BLAS requires ld ≥ 1 even for empty matrices.
        if (ld < Math.Max(1, rowLength))
            throw new ArgumentException($"gemm: {name} must be at least max(1, {rowLength}) because {what}, got {ld}", name);
    }
}
