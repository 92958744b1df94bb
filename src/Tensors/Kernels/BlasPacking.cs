using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.Intrinsics;
using X86 = System.Runtime.Intrinsics.X86;

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
                // A row-major: a transposition. Full panels go through SIMD 8×8 / 4×4 transposes (the scalar loop
                // cost ~15 % of an nn GEMM against tn); the tail of k and partial panels stay scalar.
                int done = rows == MR && mr == MR && X86.Avx.IsSupported ? PackRowsTransposed(a + (i0 + ir) * lda + p0, lda, kc, dst) : 0;
                for (int r = 0; r < mr; r++)
                {
                    T* d = dst + r;
                    if (r >= rows) { for (int p = 0; p < kc; p++) d[(nint)p * mr] = T.Zero; continue; }
                    T* src = a + (i0 + ir + r) * lda + p0;
                    for (int p = done; p < kc; p++) d[(nint)p * mr] = src[p];
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
                // B stored n×k: one column of op(B) is contiguous; transposed in SIMD blocks of 8 (float) / 4 (double)
                // columns where the panel is full, scalar for the rest.
                int lanes = typeof(T) == typeof(float) ? 8 : 4;
                int q = 0;
                if (X86.Avx.IsSupported && cols == nr && nr % lanes == 0)
                    for (; q < nr; q += lanes) TransposeColumns(b + (j0 + jr + q) * ldb + p0, ldb, kc, dst + q, nr);
                for (; q < nr; q++)
                {
                    T* d = dst + q;
                    if (q >= cols) { for (int p = 0; p < kc; p++) d[(nint)p * nr] = T.Zero; continue; }
                    T* src = b + (j0 + jr + q) * ldb + p0;
                    for (int p = 0; p < kc; p++) d[(nint)p * nr] = src[p];
                }
            }
        }
    }

    /// <summary>
    /// The MR = 6 rows at <paramref name="src"/> (row stride <paramref name="ld"/>), k = 0..kc, into one A panel
    /// dst[p·6 + r]; returns how many k were packed (a multiple of the block, the rest is left to the caller).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int PackRowsTransposed<T>(T* src, nint ld, int kc, T* dst) where T : unmanaged
    {
        int p = 0;
        if (typeof(T) == typeof(float))
        {
            float* s = (float*)src, d = (float*)dst;
            // Each k's 6 values are stored as 8 (two zero lanes) and overwritten by the next k's store; the last
            // block stops one k early so no store runs past the panel.
            for (; p + 9 <= kc; p += 8)
            {
                Transpose8(Vector256.Load(s + p), Vector256.Load(s + ld + p), Vector256.Load(s + 2 * ld + p), Vector256.Load(s + 3 * ld + p),
                    Vector256.Load(s + 4 * ld + p), Vector256.Load(s + 5 * ld + p), Vector256<float>.Zero, Vector256<float>.Zero,
                    out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
                float* o = d + (nint)p * MR;
                c0.Store(o); c1.Store(o + 6); c2.Store(o + 12); c3.Store(o + 18);
                c4.Store(o + 24); c5.Store(o + 30); c6.Store(o + 36); c7.Store(o + 42);
            }
        }
        else
        {
            double* s = (double*)src, d = (double*)dst;
            for (; p + 4 <= kc; p += 4)
            {
                Transpose4(Vector256.Load(s + p), Vector256.Load(s + ld + p), Vector256.Load(s + 2 * ld + p), Vector256.Load(s + 3 * ld + p),
                    out var c0, out var c1, out var c2, out var c3);
                var v4 = Vector256.Load(s + 4 * ld + p);
                var v5 = Vector256.Load(s + 5 * ld + p);
                var u0 = X86.Avx.UnpackLow(v4, v5);   // (r4 k0, r5 k0, r4 k2, r5 k2)
                var u1 = X86.Avx.UnpackHigh(v4, v5);  // (r4 k1, r5 k1, r4 k3, r5 k3)
                double* o = d + (nint)p * MR;
                c0.Store(o); u0.GetLower().Store(o + 4);
                c1.Store(o + 6); u1.GetLower().Store(o + 10);
                c2.Store(o + 12); u0.GetUpper().Store(o + 16);
                c3.Store(o + 18); u1.GetUpper().Store(o + 22);
            }
        }
        return p;
    }

    /// <summary>8 (float) or 4 (double) rows at <paramref name="src"/> (row stride <paramref name="ld"/>), k = 0..kc,
    /// into columns of a B panel: dst[p·nr + q] = src[q·ld + p].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeColumns<T>(T* src, nint ld, int kc, T* dst, int nr) where T : unmanaged
    {
        int p = 0;
        if (typeof(T) == typeof(float))
        {
            float* s = (float*)src, d = (float*)dst;
            for (; p + 8 <= kc; p += 8)
            {
                Transpose8(Vector256.Load(s + p), Vector256.Load(s + ld + p), Vector256.Load(s + 2 * ld + p), Vector256.Load(s + 3 * ld + p),
                    Vector256.Load(s + 4 * ld + p), Vector256.Load(s + 5 * ld + p), Vector256.Load(s + 6 * ld + p), Vector256.Load(s + 7 * ld + p),
                    out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
                float* o = d + (nint)p * nr;
                c0.Store(o); c1.Store(o + nr); c2.Store(o + 2 * nr); c3.Store(o + 3 * nr);
                c4.Store(o + 4 * nr); c5.Store(o + 5 * nr); c6.Store(o + 6 * nr); c7.Store(o + 7 * nr);
            }
            for (; p < kc; p++)
                for (int q = 0; q < 8; q++) d[(nint)p * nr + q] = s[q * ld + p];
        }
        else
        {
            double* s = (double*)src, d = (double*)dst;
            for (; p + 4 <= kc; p += 4)
            {
                Transpose4(Vector256.Load(s + p), Vector256.Load(s + ld + p), Vector256.Load(s + 2 * ld + p), Vector256.Load(s + 3 * ld + p),
                    out var c0, out var c1, out var c2, out var c3);
                double* o = d + (nint)p * nr;
                c0.Store(o); c1.Store(o + nr); c2.Store(o + 2 * nr); c3.Store(o + 3 * nr);
            }
            for (; p < kc; p++)
                for (int q = 0; q < 4; q++) d[(nint)p * nr + q] = s[q * ld + p];
        }
    }

    /// <summary>8×8 float transpose: output c_k holds element k of each input row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
        out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7)
    {
        var t0 = X86.Avx.UnpackLow(r0, r1); var t1 = X86.Avx.UnpackHigh(r0, r1);
        var t2 = X86.Avx.UnpackLow(r2, r3); var t3 = X86.Avx.UnpackHigh(r2, r3);
        var t4 = X86.Avx.UnpackLow(r4, r5); var t5 = X86.Avx.UnpackHigh(r4, r5);
        var t6 = X86.Avx.UnpackLow(r6, r7); var t7 = X86.Avx.UnpackHigh(r6, r7);
        var u0 = X86.Avx.Shuffle(t0, t2, 0x44); var u1 = X86.Avx.Shuffle(t0, t2, 0xEE);
        var u2 = X86.Avx.Shuffle(t1, t3, 0x44); var u3 = X86.Avx.Shuffle(t1, t3, 0xEE);
        var u4 = X86.Avx.Shuffle(t4, t6, 0x44); var u5 = X86.Avx.Shuffle(t4, t6, 0xEE);
        var u6 = X86.Avx.Shuffle(t5, t7, 0x44); var u7 = X86.Avx.Shuffle(t5, t7, 0xEE);
        c0 = X86.Avx.Permute2x128(u0, u4, 0x20); c1 = X86.Avx.Permute2x128(u1, u5, 0x20);
        c2 = X86.Avx.Permute2x128(u2, u6, 0x20); c3 = X86.Avx.Permute2x128(u3, u7, 0x20);
        c4 = X86.Avx.Permute2x128(u0, u4, 0x31); c5 = X86.Avx.Permute2x128(u1, u5, 0x31);
        c6 = X86.Avx.Permute2x128(u2, u6, 0x31); c7 = X86.Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>4×4 double transpose: output c_k holds element k of each input row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(Vector256<double> r0, Vector256<double> r1, Vector256<double> r2, Vector256<double> r3,
        out Vector256<double> c0, out Vector256<double> c1, out Vector256<double> c2, out Vector256<double> c3)
    {
        var t0 = X86.Avx.UnpackLow(r0, r1); var t1 = X86.Avx.UnpackHigh(r0, r1);
        var t2 = X86.Avx.UnpackLow(r2, r3); var t3 = X86.Avx.UnpackHigh(r2, r3);
        c0 = X86.Avx.Permute2x128(t0, t2, 0x20); c1 = X86.Avx.Permute2x128(t1, t3, 0x20);
        c2 = X86.Avx.Permute2x128(t0, t2, 0x31); c3 = X86.Avx.Permute2x128(t1, t3, 0x31);
    }
}
