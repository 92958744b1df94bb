using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// GEMM without packing for narrow products (n up to a few register tiles), where packing A would cost as much as the
/// multiply: the micro-kernel broadcasts A straight from any strided layout and loads B rows in place. Used by the
/// convolutions on their L2-resident patch blocks.
/// </summary>
internal static unsafe partial class Blas
{
    /// <summary>
    /// C[m×n] (+)= A·B with <c>a(i,p) = a[i·ars + p·aks]</c> and <c>b(p,j) = b[p·ldb + j]</c>. Per element the sum runs
    /// over p in order with FMAs; float32 in KC blocks whose sums are combined in float64. Row tiles (multiples of MR rows)
    /// run in parallel when <paramref name="maxDop"/> &gt; 1 and the product is big; no value depends on that.
    /// </summary>
    internal static void GemmDirect<T>(int m, int n, int k, ReadOnlySpan<T> a, int ars, int aks, ReadOnlySpan<T> b, int ldb,
        Span<T> c, int ldc, bool accumulate, int maxDop) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m <= 0 || n <= 0) return;
        long needA = (long)(m - 1) * ars + (long)Math.Max(k - 1, 0) * aks + 1, needB = (long)Math.Max(k - 1, 0) * ldb + n;
        if ((k > 0 && (a.Length < needA || b.Length < needB)) || c.Length < (long)(m - 1) * ldc + n)
            throw new ArgumentException($"gemm direct: operands too short for m={m} n={n} k={k} (a {a.Length}/{needA}, b {b.Length}/{needB}, c {c.Length})");
        var isa = ForceIsa ?? BestIsa;
        bool simd = isa != Isa.Scalar && Vector256.IsHardwareAccelerated;
        bool v512 = isa == Isa.V512 && Vector512.IsHardwareAccelerated;
        fixed (T* pa = a) fixed (T* pb = b) fixed (T* pc = c)
        {
            T* aa = pa, bb = pb, cc = pc;
            // Its loop over the tiles ran as tier-0 code and was OSR-compiled during seed CNN warm calls.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void Rows(int i0, int i1)
            {
                int nr = 2 * Vector256<T>.Count, nr512 = 2 * Vector512<T>.Count, i = i0;
                if (simd)
                    for (; i + MR <= i1; i += MR)
                    {
                        int j = 0;
                        // 512-bit tiles first (the same per-element FMA order as the 256-bit ones: bitwise equal results).
                        if (v512)
                            for (; j + nr512 <= n; j += nr512) DirectTile512(k, aa + (nint)i * ars, ars, aks, bb + j, ldb, cc + (nint)i * ldc + j, ldc, accumulate);
                        for (; j + nr <= n; j += nr) DirectTile(k, aa + (nint)i * ars, ars, aks, bb + j, ldb, cc + (nint)i * ldc + j, ldc, accumulate);
                        if (j < n) DirectScalar(MR, n - j, k, aa + (nint)i * ars, ars, aks, bb + j, ldb, cc + (nint)i * ldc + j, ldc, accumulate);
                    }
                if (i < i1 && simd && n >= nr) PaddedRows(i1 - i, n, k, aa + (nint)i * ars, ars, aks, bb, ldb, cc + (nint)i * ldc, ldc, accumulate, v512);
                else if (i < i1) DirectScalar(i1 - i, n, k, aa + (nint)i * ars, ars, aks, bb, ldb, cc + (nint)i * ldc, ldc, accumulate);
            }
            long flops = 2L * m * n * k;
            int tiles = maxDop <= 1 || flops < ParallelFlops ? 1 : Math.Min((m + MR - 1) / MR, 4 * maxDop);
            if (tiles <= 1) { Rows(0, m); return; }
            int per = RoundUp((m + tiles - 1) / tiles, MR);
            tiles = (m + per - 1) / per;
            Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = maxDop }, t => Rows(t * per, Math.Min(m, (t + 1) * per)));
        }
    }

    [ThreadStatic] private static byte[]? t_padded;

    /// <summary>
    /// The last rows &lt; MR of C through the SIMD tiles: their A rows copied into a zero-padded MR-row block and their C
    /// rows into an MR × n scratch, then copied back. Each element is still reduced in the scalar edge's order (one FMA
    /// chain per KC block, float64 combine), so the values are bitwise those of <see cref="DirectScalar"/> — which ran
    /// ~10× slower and made, e.g., the 27-row first-layer weight gradient (27 = 4·6 + 3) a third scalar.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // its copy loops were OSR-compiled during seed CNN warm calls
    private static void PaddedRows<T>(int rows, int n, int k, T* a, nint ars, nint aks, T* b, nint ldb, T* c, nint ldc, bool accumulate, bool v512)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long need = ((long)MR * k + (long)MR * n) * sizeof(T);
        if (need > 1 << 24)
        {
            DirectScalar(rows, n, k, a, ars, aks, b, ldb, c, ldc, accumulate);
            return;
        }
        if (t_padded is not { } buf || buf.Length < need) t_padded = buf = new byte[Math.Max(need, 4096)];
        fixed (byte* raw = buf)
        {
            T* pa = (T*)raw, pc = pa + (nint)MR * k;
            new Span<T>(pa, MR * k).Clear();
            for (int r = 0; r < rows; r++)
                for (int p = 0; p < k; p++) pa[(nint)r * k + p] = a[r * ars + p * aks];
            if (accumulate)
                for (int r = 0; r < rows; r++) new ReadOnlySpan<T>(c + r * ldc, n).CopyTo(new Span<T>(pc + (nint)r * n, n));
            int nr = 2 * Vector256<T>.Count, nr512 = 2 * Vector512<T>.Count, j = 0;
            if (v512)
                for (; j + nr512 <= n; j += nr512) DirectTile512(k, pa, k, 1, b + j, ldb, pc + j, n, accumulate);
            for (; j + nr <= n; j += nr) DirectTile(k, pa, k, 1, b + j, ldb, pc + j, n, accumulate);
            if (j < n) DirectScalar(rows, n - j, k, pa, k, 1, b + j, ldb, pc + j, n, accumulate);
            for (int r = 0; r < rows; r++) new ReadOnlySpan<T>(pc + (nint)r * n, n).CopyTo(new Span<T>(c + r * ldc, n));
        }
    }

    /// <summary>One MR × 2·Vector256 tile of C; float32 with k &gt; KC goes through a float64 accumulator per KC block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void DirectTile<T>(int k, T* a, nint ars, nint aks, T* b, nint ldb, T* c, nint ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector256<T>.Count, nr = 2 * w;
        if (typeof(T) != typeof(float) || k <= KC)
        {
            Direct256(k, a, ars, aks, b, ldb, c, ldc, accumulate);
            return;
        }
        T* tile = stackalloc T[MR * 16];
        double* acc = stackalloc double[MR * 16];
        int nk = (k + KC - 1) / KC;
        for (int kb = 0; kb < nk; kb++)
        {
            int p0 = kb * KC, kc = Math.Min(KC, k - p0);
            Direct256(kc, a + p0 * aks, ars, aks, b + p0 * ldb, ldb, tile, nr, false);
            CombineWide(acc, nr, (float*)c, (int)ldc, (float*)tile, nr, MR, nr, kb == 0, kb == nk - 1, accumulate);
        }
    }

    /// <summary>One MR × 2·Vector512 tile of C (AVX-512: twice the columns per FMA of <see cref="DirectTile"/>, same sums).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void DirectTile512<T>(int k, T* a, nint ars, nint aks, T* b, nint ldb, T* c, nint ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = 2 * Vector512<T>.Count;
        if (typeof(T) != typeof(float) || k <= KC)
        {
            Direct512(k, a, ars, aks, b, ldb, c, ldc, accumulate);
            return;
        }
        T* tile = stackalloc T[MR * 32];
        double* acc = stackalloc double[MR * 32];
        int nk = (k + KC - 1) / KC;
        for (int kb = 0; kb < nk; kb++)
        {
            int p0 = kb * KC, kc = Math.Min(KC, k - p0);
            Direct512(kc, a + p0 * aks, ars, aks, b + p0 * ldb, ldb, tile, nr, false);
            CombineWide(acc, nr, (float*)c, (int)ldc, (float*)tile, nr, MR, nr, kb == 0, kb == nk - 1, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void Direct512<T>(int kc, T* a, nint ars, nint aks, T* b, nint ldb, T* c, nint ldc, bool load)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector512<T>.Count;
        nint r1 = ars, r2 = 2 * ars, r3 = 3 * ars, r4 = 4 * ars, r5 = 5 * ars;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var ai = Vector512.Create(a[0]); c00 = Fma512(ai, b0, c00); c01 = Fma512(ai, b1, c01);
            ai = Vector512.Create(a[r1]); c10 = Fma512(ai, b0, c10); c11 = Fma512(ai, b1, c11);
            ai = Vector512.Create(a[r2]); c20 = Fma512(ai, b0, c20); c21 = Fma512(ai, b1, c21);
            ai = Vector512.Create(a[r3]); c30 = Fma512(ai, b0, c30); c31 = Fma512(ai, b1, c31);
            ai = Vector512.Create(a[r4]); c40 = Fma512(ai, b0, c40); c41 = Fma512(ai, b1, c41);
            ai = Vector512.Create(a[r5]); c50 = Fma512(ai, b0, c50); c51 = Fma512(ai, b1, c51);
            a += aks;
            b += ldb;
        }
        Store512(c, w, load, c00, c01); c += ldc;
        Store512(c, w, load, c10, c11); c += ldc;
        Store512(c, w, load, c20, c21); c += ldc;
        Store512(c, w, load, c30, c31); c += ldc;
        Store512(c, w, load, c40, c41); c += ldc;
        Store512(c, w, load, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void Direct256<T>(int kc, T* a, nint ars, nint aks, T* b, nint ldb, T* c, nint ldc, bool load)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector256<T>.Count;
        nint r1 = ars, r2 = 2 * ars, r3 = 3 * ars, r4 = 4 * ars, r5 = 5 * ars;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            var ai = Vector256.Create(a[0]); c00 = Fma256(ai, b0, c00); c01 = Fma256(ai, b1, c01);
            ai = Vector256.Create(a[r1]); c10 = Fma256(ai, b0, c10); c11 = Fma256(ai, b1, c11);
            ai = Vector256.Create(a[r2]); c20 = Fma256(ai, b0, c20); c21 = Fma256(ai, b1, c21);
            ai = Vector256.Create(a[r3]); c30 = Fma256(ai, b0, c30); c31 = Fma256(ai, b1, c31);
            ai = Vector256.Create(a[r4]); c40 = Fma256(ai, b0, c40); c41 = Fma256(ai, b1, c41);
            ai = Vector256.Create(a[r5]); c50 = Fma256(ai, b0, c50); c51 = Fma256(ai, b1, c51);
            a += aks;
            b += ldb;
        }
        Store256(c, w, load, c00, c01); c += ldc;
        Store256(c, w, load, c10, c11); c += ldc;
        Store256(c, w, load, c20, c21); c += ldc;
        Store256(c, w, load, c30, c31); c += ldc;
        Store256(c, w, load, c40, c41); c += ldc;
        Store256(c, w, load, c50, c51);
    }

    /// <summary>Edge tiles (and the no-SIMD path): the same per-element order and KC blocking, one element at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void DirectScalar<T>(int rows, int cols, int k, T* a, nint ars, nint aks, T* b, nint ldb, T* c, nint ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool wide = typeof(T) == typeof(float);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                T* ai = a + i * ars;
                T* bj = b + j;
                ref T dst = ref c[i * ldc + j];
                if (!wide || k <= KC)
                {
                    T s = T.Zero;
                    for (int p = 0; p < k; p++) s = FmaScalar(ai[p * aks], bj[p * ldb], s);
                    dst = accumulate ? dst + s : s;
                    continue;
                }
                double total = 0;
                for (int p0 = 0; p0 < k; p0 += KC)
                {
                    T s = T.Zero;
                    for (int p = p0; p < Math.Min(k, p0 + KC); p++) s = FmaScalar(ai[p * aks], bj[p * ldb], s);
                    total += double.CreateTruncating(s);
                }
                dst = T.CreateTruncating(accumulate ? total + double.CreateTruncating(dst) : total);
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T FmaScalar<T>(T x, T y, T acc) where T : unmanaged, IFloatingPointIeee754<T> =>
        System.Runtime.Intrinsics.X86.Fma.IsSupported ? T.FusedMultiplyAdd(x, y, acc) : x * y + acc;
}
