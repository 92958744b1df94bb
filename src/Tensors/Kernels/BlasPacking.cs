using System.Runtime.CompilerServices;
using System.Numerics;

namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// Packing of op(A) and op(B) blocks into micro-panels (zero-padded to MR / NR) so the micro-kernel reads both
/// operands with unit stride whatever the transposition and leading dimension.
/// </summary>
internal static unsafe partial class Blas
{
    /// <summary>Rows i0..i0+mm, k range p0..p0+kc of op(A) into panels of mr rows: dst[panel][p][r].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void PackA<T>(T* a, nint lda, bool trans, int i0, int mm, int p0, int kc, int mr, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int ir = 0; ir < mm; ir += mr, dst += (nint)mr * kc)
        {
            int rows = Math.Min(mr, mm - ir);
            if (trans)
            {
                // A stored k×m: the mr values of one k are contiguous.
                T* src = a + (p0 * lda) + i0 + ir;
                for (int p = 0; p < kc; p++, src += lda)
                {
                    T* d = dst + (nint)p * mr;
                    int r = 0;
                    for (; r < rows; r++) d[r] = src[r];
                    for (; r < mr; r++) d[r] = T.Zero;
                }
            }
            else
            {
                for (int r = 0; r < mr; r++)
                {
                    T* d = dst + r;
                    if (r >= rows) { for (int p = 0; p < kc; p++) d[(nint)p * mr] = T.Zero; continue; }
                    T* src = a + (i0 + ir + r) * lda + p0;
                    for (int p = 0; p < kc; p++) d[(nint)p * mr] = src[p];
                }
            }
        }
    }

    /// <summary>k range p0..p0+kc, columns j0..j0+nn of op(B) into panels of nr columns: dst[panel][p][q].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void PackB<T>(T* b, nint ldb, bool trans, int p0, int kc, int j0, int nn, int nr, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int jr = 0; jr < nn; jr += nr, dst += (nint)nr * kc)
        {
            int cols = Math.Min(nr, nn - jr);
            if (!trans)
            {
                T* src = b + p0 * ldb + j0 + jr;
                for (int p = 0; p < kc; p++, src += ldb)
                {
                    T* d = dst + (nint)p * nr;
                    new ReadOnlySpan<T>(src, cols).CopyTo(new Span<T>(d, cols));
                    if (cols < nr) new Span<T>(d + cols, nr - cols).Clear();
                }
            }
            else
            {
                // B stored n×k: one column of op(B) is contiguous.
                for (int q = 0; q < nr; q++)
                {
                    T* d = dst + q;
                    if (q >= cols) { for (int p = 0; p < kc; p++) d[(nint)p * nr] = T.Zero; continue; }
                    T* src = b + (j0 + jr + q) * ldb + p0;
                    for (int p = 0; p < kc; p++) d[(nint)p * nr] = src[p];
                }
            }
        }
    }
}
