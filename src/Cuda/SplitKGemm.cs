using System.Numerics;

namespace NeuralTangents.Cuda;

/// <summary>
/// Row-major batched <c>C = op(A)·op(B)</c> through an <see cref="IBatchedGemm"/>, keeping float32 sums accurate:
/// cuBLAS accumulates each output over all k terms in float32, so for k of 10⁵–10⁶ (NTK contractions over every
/// parameter) the error grows to ~1e-4 relative. For float32 with k above the block size the sum is cut into at most
/// <see cref="MaxBlocks"/> equal blocks, each block's product computed on the device, and the blocks added on the
/// host in float64 in a fixed order, as the CPU kernel sums its kc blocks. float64 is never split. The split depends
/// only on the sizes, so results are deterministic.
/// </summary>
internal static unsafe class SplitKGemm
{
    /// <summary>Default largest block of a float32 sum (blocks grow beyond it only to stay within <see cref="MaxBlocks"/>).</summary>
    internal const int DefaultKBlock = 2048;

    /// <summary>At most this many partial products per output.</summary>
    internal const int MaxBlocks = 64;

    /// <summary>Cap on the partial-product buffer (elements); fewer blocks are used when it would be exceeded.</summary>
    internal const long MaxPartialElements = 1L << 28;

    /// <summary>How many blocks the sum over <paramref name="k"/> is cut into (1 = not split).</summary>
    internal static int BlockCount<T>(int batch, int m, int n, int k, int kBlock)
    {
        if (typeof(T) != typeof(float) || k <= kBlock || batch == 0 || m == 0 || n == 0) return 1;
        long outputs = (long)batch * m * n;
        long byK = (k + (long)kBlock - 1) / kBlock;
        return (int)Math.Max(1, Math.Min(Math.Min(byK, MaxBlocks), MaxPartialElements / outputs));
    }

    /// <summary>Writes the m×n entries of each C matrix (C is otherwise untouched).</summary>
    public static void Run<T>(IBatchedGemm gemm, int batch, int m, int n, int k,
                              ReadOnlySpan<T> a, int lda, long strideA, bool transA,
                              ReadOnlySpan<T> b, int ldb, long strideB, bool transB,
                              Span<T> c, int ldc, long strideC, int kBlock = DefaultKBlock)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int blocks = BlockCount<T>(batch, m, n, k, Math.Max(1, kBlock));
        if (blocks <= 1)
        {
            gemm.GemmStridedBatched(batch, m, n, k, a, lda, strideA, transA, b, ldb, strideB, transB, c, ldc, strideC);
            return;
        }
        int kb = (int)((k + (long)blocks - 1) / blocks);
        int full = k / kb, rem = k - full * kb, s = full + (rem > 0 ? 1 : 0);
        long mn = (long)m * n;
        long stepA = transA ? (long)kb * lda : kb, stepB = transB ? kb : (long)kb * ldb;
        var calls = new List<GemmCall>(2 * batch);
        for (int bi = 0; bi < batch; bi++)
        {
            long aOff = bi * strideA, bOff = bi * strideB, pOff = bi * s * mn;
            calls.Add(new GemmCall(full, m, n, kb, aOff, lda, stepA, transA, bOff, ldb, stepB, transB, pOff, n, mn));
            if (rem > 0)
                calls.Add(new GemmCall(1, m, n, rem, aOff + full * stepA, lda, 0, transA, bOff + full * stepB, ldb, 0, transB,
                                       pOff + full * mn, n, mn));
        }
        var partial = new T[checked(batch * s * mn)];
        gemm.Run(a, b, partial, calls);
        fixed (T* pc = c)
        {
            nint cp = (nint)pc;
            void Row(int row)
            {
                int bi = row / m, i = row % m;
                var dst = (T*)cp + bi * strideC + (long)i * ldc;
                long src = bi * s * mn + (long)i * n;
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int q = 0; q < s; q++) sum += double.CreateTruncating(partial[src + q * mn + j]);
                    dst[j] = T.CreateTruncating(sum);
                }
            }
            int rows = batch * m;
            if ((long)rows * n * s < 1 << 20) { for (int r = 0; r < rows; r++) Row(r); }
            else Parallel.For(0, rows, Row);
        }
    }
}
