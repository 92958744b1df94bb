using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// Row-major GEMM <c>C[m,n] (+)= op(A)[m,k]·op(B)[k,n]</c>: packed, cache-blocked (mc/kc/nc), register-tiled SIMD
/// micro-kernel, parallel over output tiles only. The value of every output element depends only on (m, n, k) and the
/// inputs, never on the thread count: tiling of k is fixed and each element is reduced by exactly one thread.
/// float32: each kc block is reduced in float, the block partial sums are combined in float64.
/// </summary>
internal static unsafe partial class Blas
{
    /// <summary>Instruction-set path of the micro-kernel (overridable for tests).</summary>
    internal enum Isa { Scalar, V256, V512 }

    internal static readonly Isa BestIsa =
        Vector512.IsHardwareAccelerated ? Isa.V512 : Vector256.IsHardwareAccelerated ? Isa.V256 : Isa.Scalar;

    // Thread-static so parallel tests cannot interfere; read once on the calling thread.
    [ThreadStatic] private static int t_maxDop;
    [ThreadStatic] private static int t_isa; // 0 = BestIsa, else (int)Isa + 1

    /// <summary>Thread cap for GEMMs started on the current thread (&lt;= 0: processor count). For tests.</summary>
    internal static int MaxDegreeOfParallelism
    {
        get => t_maxDop > 0 ? t_maxDop : Environment.ProcessorCount;
        set => t_maxDop = value;
    }

    /// <summary>Micro-kernel path for GEMMs started on the current thread (null: best available). For tests.</summary>
    internal static Isa? ForceIsa
    {
        get => t_isa == 0 ? null : (Isa)(t_isa - 1);
        set => t_isa = value is { } v ? (int)v + 1 : 0;
    }

    internal const int KC = 256;          // k block: a kc×NR micro-panel of B stays in L1
    private const int ABlockBytes = 128 << 10; // mc×kc block of packed A: half of L2, leaving room for B and C traffic
    private const int NTMax = 512;         // columns of an output tile
    private const int MTMax = 1024;        // rows of an output tile
    private const long ParallelFlops = 1L << 21; // below this, one thread
    private const long SmallMnk = 4096;    // below this, a naive loop beats packing

    /// <summary>C[m,n] (+)= op(A)·op(B), row-major. op(A) = A (m×k, row stride lda) or Aᵀ (A stored k×m).</summary>
    /// <exception cref="ArgumentException">A size or leading dimension is invalid, or a span is too short.</exception>
    internal static void Gemm<T>(int m, int n, int k, ReadOnlySpan<T> a, int lda, bool transA, ReadOnlySpan<T> b, int ldb,
        bool transB, Span<T> c, int ldc, bool accumulate = false) where T : unmanaged, IFloatingPointIeee754<T> =>
        BatchedGemm(1, m, n, k, a, lda, 0, transA, b, ldb, 0, transB, c, ldc, 0, accumulate);

    /// <summary>
    /// <paramref name="batch"/> Gram matrices <c>C = X·Xᵀ</c> (X: m×k row-major, row stride <paramref name="ldx"/>,
    /// matrix i at <c>i·strideX</c>; C: m×m, stride m, matrix i at <c>i·m·m</c>) computed as one GEMM that skips the output
    /// tiles and micro-tiles below the diagonal, then mirrored: about half the multiply-adds, and each row block of X is
    /// packed as often as in one plain GEMM. Every element equals the plain GEMM's bit for bit (same k order; x·y = y·x),
    /// and C is exactly symmetric.
    /// </summary>
    internal static void Gram<T>(int batch, int m, int k, ReadOnlySpan<T> x, int ldx, int strideX, Span<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (batch < 0 || m < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"gram: sizes must be non-negative, got batch={batch} m={m} k={k}");
        if (batch == 0 || m == 0) return;
        CheckOperand("x", x.Length, batch, strideX, m, k, ldx);
        CheckOperand("c", c.Length, batch, m * m, m, m, m);
        fixed (T* px = x) fixed (T* pc = c)
        {
            var job = new Job<T>
            {
                M = m, N = m, K = k, A = px, Lda = ldx, StrideA = strideX, TransA = false,
                B = px, Ldb = ldx, StrideB = strideX, TransB = true, C = pc, Ldc = m, StrideC = m * m,
                Isa = ForceIsa ?? BestIsa, Upper = true,
            };
            job.Run(batch, MaxDegreeOfParallelism);
            for (int bi = 0; bi < batch; bi++) MirrorUpper(pc + (nint)bi * m * m, m);
        }
    }

    /// <summary>C[i, j] = C[j, i] for i &gt; j, in 32×32 blocks (a transposing copy touches one cache line per element otherwise).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called once per Gram: it would run as tier-0/OSR code
    private static void MirrorUpper<T>(T* c, int m) where T : unmanaged
    {
        const int Bs = 32;
        for (int i0 = 0; i0 < m; i0 += Bs)
            for (int j0 = 0; j0 <= i0; j0 += Bs)
                for (int i = i0; i < Math.Min(i0 + Bs, m); i++)
                    for (int j = j0; j < Math.Min(j0 + Bs, i); j++)
                        c[(nint)i * m + j] = c[(nint)j * m + i];
    }

    /// <summary>
    /// <paramref name="batch"/> independent GEMMs; matrix i of A/B/C starts at <c>i·strideX</c>. A and B strides may be 0
    /// (broadcast); C strides must not make outputs overlap.
    /// </summary>
    /// <exception cref="ArgumentException">A size, stride or leading dimension is invalid, or a span is too short.</exception>
    internal static void BatchedGemm<T>(int batch, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, int strideA, bool transA,
        ReadOnlySpan<T> b, int ldb, int strideB, bool transB,
        Span<T> c, int ldc, int strideC, bool accumulate = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), $"gemm: batch must be non-negative, got {batch}");
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"gemm: sizes must be non-negative, got m={m} n={n} k={k}");
        if (batch == 0 || m == 0 || n == 0) return;
        CheckOperand("a", a.Length, batch, strideA, transA ? k : m, transA ? m : k, lda);
        CheckOperand("b", b.Length, batch, strideB, transB ? n : k, transB ? k : n, ldb);
        CheckOperand("c", c.Length, batch, strideC, m, n, ldc);
        if (ldc < n) throw new ArgumentException($"gemm: ldc must be >= n = {n}, got {ldc}", nameof(ldc));
        // Outputs may be stacked (whole matrices apart) or side by side (column blocks within the same rows).
        bool stacked = strideC >= (long)(m - 1) * ldc + n, sideBySide = strideC >= n && (long)(batch - 1) * strideC + n <= ldc;
        if (batch > 1 && !stacked && !sideBySide)
            throw new ArgumentException($"gemm: strideC {strideC} makes the {m}x{n} outputs (ldc {ldc}) overlap", nameof(strideC));

        fixed (T* pa = a) fixed (T* pb = b) fixed (T* pc = c)
        {
            var job = new Job<T>
            {
                M = m, N = n, K = k, A = pa, Lda = lda, StrideA = strideA, TransA = transA,
                B = pb, Ldb = ldb, StrideB = strideB, TransB = transB, C = pc, Ldc = ldc, StrideC = strideC,
                Accumulate = accumulate, Isa = ForceIsa ?? BestIsa,
            };
            job.Run(batch, MaxDegreeOfParallelism);
        }
    }

    private static void CheckOperand(string name, int length, int batch, int stride, int rows, int cols, int ld)
    {
        if (ld < 0 || stride < 0)
            throw new ArgumentException($"gemm: leading dimension and batch stride of {name} must be non-negative, got ld={ld} stride={stride}", name);
        if (rows == 0 || cols == 0) return;
        long need = (long)(batch - 1) * stride + (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"gemm: {name} needs at least {need} elements for {batch} stored {rows}x{cols} matrices (ld {ld}, stride {stride}), got {length}", name);
    }

    /// <summary>Everything a worker needs; raw pointers are pinned by the caller for the duration.</summary>
    private struct Job<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int M, N, K, Lda, Ldb, Ldc, StrideA, StrideB, StrideC;
        public T* A, B, C;
        public bool TransA, TransB, Accumulate;
        /// <summary>Only C's upper triangle (j ≥ i) is wanted (M = N): tiles and micro-tiles wholly below the
        /// diagonal are skipped; elements below it inside computed micro-tiles may be written too.</summary>
        public bool Upper;
        public Isa Isa;

        public readonly void Run(int batch, int maxDop)
        {
            if (K == 0)
            {
                if (!Accumulate)
                    for (int bi = 0; bi < batch; bi++)
                        for (int i = 0; i < M; i++) new Span<T>(C + (nint)bi * StrideC + (nint)i * Ldc, N).Clear();
                return;
            }
            long flops = 2L * M * N * K * batch;
            bool small = (long)M * N * K <= SmallMnk;
            bool dotRows = !small && N == 1 && !TransA && M > 1;   // matrix·vector: contiguous row dot products
            bool dotCols = !small && M == 1 && TransB && N > 1;    // vector·matrixᵀ: contiguous column dot products
            int rowTiles, colTiles, mt, nt;
            if (small) { rowTiles = colTiles = 1; mt = M; nt = N; }
            else if (dotRows || dotCols)
            {
                int len = dotRows ? M : N, parts = Math.Min(len, 4 * Environment.ProcessorCount);
                int per = (len + parts - 1) / parts;
                rowTiles = dotRows ? (M + per - 1) / per : 1; colTiles = dotCols ? (N + per - 1) / per : 1;
                mt = dotRows ? per : 1; nt = dotCols ? per : 1;
            }
            else TileGrid(M, N, batch, flops, maxDop, out rowTiles, out colTiles, out mt, out nt);

            int tilesPer = rowTiles * colTiles;
            long tasks = (long)tilesPer * batch;
            var self = this;
            void Do(long t)
            {
                int bi = (int)(t / tilesPer), ti = (int)(t % tilesPer);
                int i0 = ti / colTiles * mt, j0 = ti % colTiles * nt;
                int mm = Math.Min(mt, self.M - i0), nn = Math.Min(nt, self.N - j0);
                if (self.Upper && i0 >= j0 + nn) return; // every row of the tile is below every column
                T* a = self.A + (nint)bi * self.StrideA, b = self.B + (nint)bi * self.StrideB, c = self.C + (nint)bi * self.StrideC;
                if (small) self.Naive(a, b, c, 0, self.M, 0, self.N);
                else if (dotRows || dotCols) self.Dots(a, b, c, i0, mm, j0, nn);
                else self.Tile(a, b, c, i0, mm, j0, nn);
            }
            if (flops < ParallelFlops || maxDop <= 1 || tasks <= 1)
                for (long t = 0; t < tasks; t++) Do(t);
            else
                Parallel.For(0L, tasks, new ParallelOptions { MaxDegreeOfParallelism = maxDop }, Do);
        }

        /// <summary>
        /// Output tiling: at most NTMax columns and MTMax rows per tile (bounding the per-thread float64 accumulator),
        /// split further for parallel slack on big problems.
        /// </summary>
        private readonly void TileGrid(int m, int n, int batch, long flops, int maxDop, out int rowTiles, out int colTiles, out int mt, out int nt)
        {
            int mr = MR, nr = Nr<T>(Isa);
            // A tile packs its B block once and walks its rows in L2-sized A blocks, so tall tiles are cheap.
            rowTiles = (m + MTMax - 1) / MTMax;
            colTiles = (n + NTMax - 1) / NTMax;
            // Enough tiles for load balance on big problems; tile shape never changes an element's value.
            int want = flops >= ParallelFlops && maxDop > 1 ? 3 * maxDop : 1; // one thread: no re-packing of B per tile
            while ((long)rowTiles * colTiles * batch < want)
            {
                bool canRow = (m + rowTiles) / (rowTiles + 1) >= 4 * mr, canCol = (n + colTiles) / (colTiles + 1) >= 2 * nr;
                if (canRow && (!canCol || m / rowTiles >= n / colTiles)) rowTiles++;
                else if (canCol) colTiles++;
                else break;
            }
            mt = RoundUp((m + rowTiles - 1) / rowTiles, mr);
            nt = RoundUp((n + colTiles - 1) / colTiles, nr);
            rowTiles = (m + mt - 1) / mt;
            colTiles = (n + nt - 1) / nt;
        }

        private readonly T GetA(T* a, int i, int p) => TransA ? a[(nint)p * Lda + i] : a[(nint)i * Lda + p];
        private readonly T GetB(T* b, int p, int j) => TransB ? b[(nint)j * Ldb + p] : b[(nint)p * Ldb + j];

        /// <summary>Direct loops for tiny products (k &lt;= 4096, so float sums in double need no blocking).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
        private readonly void Naive(T* a, T* b, T* c, int i0, int mm, int j0, int nn)
        {
            for (int i = i0; i < i0 + mm; i++)
                for (int j = j0; j < j0 + nn; j++)
                {
                    ref T dst = ref c[(nint)i * Ldc + j];
                    if (typeof(T) == typeof(float))
                    {
                        double s = 0;
                        for (int p = 0; p < K; p++) s += double.CreateTruncating(GetA(a, i, p)) * double.CreateTruncating(GetB(b, p, j));
                        dst = Accumulate ? T.CreateTruncating(double.CreateTruncating(dst) + s) : T.CreateTruncating(s);
                    }
                    else
                    {
                        T s = T.Zero;
                        for (int p = 0; p < K; p++) s += GetA(a, i, p) * GetB(b, p, j);
                        dst = Accumulate ? dst + s : s;
                    }
                }
        }

        /// <summary>Each output is a dot product of two contiguous length-k vectors.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
        private readonly void Dots(T* a, T* b, T* c, int i0, int mm, int j0, int nn)
        {
            for (int i = i0; i < i0 + mm; i++)
                for (int j = j0; j < j0 + nn; j++)
                {
                    // dotRows: row i of A · column of B (stride ldb unless k == 1); dotCols: row of A · row j of Bᵀ.
                    T* x = TransA ? null : a + (nint)i * Lda;
                    T* y = TransB ? b + (nint)j * Ldb : null;
                    ref T dst = ref c[(nint)i * Ldc + j];
                    double s;
                    if (x != null && y != null) s = Dot(x, y, K);
                    else if (x != null) s = DotStrided(x, 1, b + j, Ldb, K);
                    else s = DotStrided(a + i, Lda, y, 1, K);
                    dst = Accumulate ? T.CreateTruncating(double.CreateTruncating(dst) + s) : T.CreateTruncating(s);
                }
        }

        /// <summary>
        /// One output tile: for each kc block, pack the tile's B block once, then for each L2-sized row block of A pack
        /// it and sweep micro-tiles (B micro-panel in L1, A block in L2).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
        private readonly void Tile(T* a, T* b, T* c, int i0, int mm, int j0, int nn)
        {
            int mr = MR, nr = Nr<T>(Isa), mc = McMax<T>();
            int nnPad = RoundUp(nn, nr);
            int nk = (K + KC - 1) / KC;
            bool wide = typeof(T) == typeof(float) && nk > 1; // float blocks combined in a double buffer
            var ws = Workspace<T>.Get(Math.Min(RoundUp(mm, mr), mc) * KC, KC * nnPad, wide ? mm * nn : 0);
            T* ap = ws.A, bp = ws.B;
            double* acc = ws.D;
            T* tile = stackalloc T[MR * 32];
            for (int kb = 0; kb < nk; kb++)
            {
                int p0 = kb * KC, kc = Math.Min(KC, K - p0);
                bool first = kb == 0, last = kb == nk - 1;
                PackB(b, Ldb, TransB, p0, kc, j0, nn, nr, bp);
                for (int ic = 0; ic < mm; ic += mc)
                {
                    if (Upper && i0 + ic >= j0 + nn) break; // this row block and the ones after it are below the diagonal
                    int mcc = Math.Min(mc, mm - ic);
                    PackA(a, Lda, TransA, i0 + ic, mcc, p0, kc, mr, ap);
                    for (int jr = 0; jr < nn; jr += nr)
                    {
                        int nrr = Math.Min(nr, nn - jr);
                        for (int ir = 0; ir < mcc; ir += mr)
                        {
                            if (Upper && i0 + ic + ir >= j0 + jr + nrr) break; // micro-tile (and the rest of the column) below the diagonal
                            int mrr = Math.Min(mr, mcc - ir);
                            T* cij = c + (nint)(i0 + ic + ir) * Ldc + j0 + jr;
                            T* apanel = ap + (nint)ir * kc, bpanel = bp + (nint)jr * kc;
                            // The C (or float64 accumulator) rows of this micro-tile usually live in L3 by now; start
                            // fetching them so they arrive while the micro-kernel runs.
                            if (wide) Prefetch(acc + (nint)(ic + ir) * nn + jr, nn, mrr, nrr * sizeof(double));
                            else if (!first || Accumulate) Prefetch(cij, Ldc, mrr, nrr * sizeof(T));
                            if (!wide)
                            {
                                bool load = !first || Accumulate;
                                if (mrr == mr && nrr == nr) MicroKernel(Isa, kc, apanel, bpanel, cij, Ldc, load);
                                else
                                {
                                    MicroKernel(Isa, kc, apanel, bpanel, tile, nr, false);
                                    for (int r = 0; r < mrr; r++)
                                        for (int q = 0; q < nrr; q++)
                                            cij[(nint)r * Ldc + q] = load ? cij[(nint)r * Ldc + q] + tile[r * nr + q] : tile[r * nr + q];
                                }
                                continue;
                            }
                            MicroKernel(Isa, kc, apanel, bpanel, tile, nr, false);
                            CombineWide(acc + (nint)(ic + ir) * nn + jr, nn, (float*)cij, Ldc, (float*)tile, nr, mrr, nrr, first, last, Accumulate);
                        }
                    }
                }
            }
        }
    }

    /// <summary>float32 block partial sums into the float64 accumulator; the last block writes C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static void CombineWide(double* acc, int ldAcc, float* c, int ldc, float* tile, int nr, int rows, int cols,
        bool first, bool last, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            double* d = acc + (nint)r * ldAcc;
            float* cr = c + (nint)r * ldc;
            float* tr = tile + r * nr;
            int q = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; q + 8 <= cols; q += 8)
                {
                    var t = Vector256.Load(tr + q);
                    Vector256<double> lo = Vector256.WidenLower(t), hi = Vector256.WidenUpper(t);
                    if (first) { lo.Store(d + q); hi.Store(d + q + 4); continue; }
                    lo += Vector256.Load(d + q);
                    hi += Vector256.Load(d + q + 4);
                    if (!last) { lo.Store(d + q); hi.Store(d + q + 4); continue; }
                    if (accumulate)
                    {
                        var c0 = Vector256.Load(cr + q);
                        lo += Vector256.WidenLower(c0);
                        hi += Vector256.WidenUpper(c0);
                    }
                    Vector256.Narrow(lo, hi).Store(cr + q);
                }
            if (first) for (; q < cols; q++) d[q] = tr[q];
            else if (!last) for (; q < cols; q++) d[q] += tr[q];
            else if (accumulate) for (; q < cols; q++) cr[q] = (float)(d[q] + tr[q] + cr[q]);
            else for (; q < cols; q++) cr[q] = (float)(d[q] + tr[q]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called per micro-tile: its tier-0 copy showed in warm-call profiles
    private static void Prefetch<TE>(TE* p, nint ld, int rows, int bytes) where TE : unmanaged
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        for (int r = 0; r < rows; r++)
            for (int off = 0; off < bytes; off += 64)
                System.Runtime.Intrinsics.X86.Sse.Prefetch0((byte*)(p + r * ld) + off);
    }

    /// <summary>Rows of an L2-resident packed A block.</summary>
    private static int McMax<T>() where T : unmanaged => Math.Max(MR, ABlockBytes / (KC * Unsafe.SizeOf<T>()) / MR * MR);

    internal static int RoundUp(int x, int to) => (x + to - 1) / to * to;

    /// <summary>Dot product of contiguous vectors: per-kc-block SIMD partial sums, combined in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    internal static double Dot<T>(T* x, T* y, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        for (int p0 = 0; p0 < k; p0 += 4 * KC)
        {
            int len = Math.Min(4 * KC, k - p0);
            T* xs = x + p0, ys = y + p0;
            T block = T.Zero;
            int p = 0;
            if (Vector256.IsHardwareAccelerated && len >= 4 * Vector256<T>.Count)
            {
                int w = Vector256<T>.Count;
                Vector256<T> s0 = default, s1 = default, s2 = default, s3 = default;
                for (; p + 4 * w <= len; p += 4 * w)
                {
                    s0 = Fma256(Vector256.Load(xs + p), Vector256.Load(ys + p), s0);
                    s1 = Fma256(Vector256.Load(xs + p + w), Vector256.Load(ys + p + w), s1);
                    s2 = Fma256(Vector256.Load(xs + p + 2 * w), Vector256.Load(ys + p + 2 * w), s2);
                    s3 = Fma256(Vector256.Load(xs + p + 3 * w), Vector256.Load(ys + p + 3 * w), s3);
                }
                block = Vector256.Sum((s0 + s1) + (s2 + s3));
            }
            for (; p < len; p++) block += xs[p] * ys[p];
            total += double.CreateTruncating(block);
        }
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: fully optimised from the first call (tier-0 made early warm calls 2-5x slower)
    private static double DotStrided<T>(T* x, nint incx, T* y, nint incy, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        for (int p0 = 0; p0 < k; p0 += KC)
        {
            int len = Math.Min(KC, k - p0);
            T block = T.Zero;
            for (int p = p0; p < p0 + len; p++) block += x[p * incx] * y[p * incy];
            total += double.CreateTruncating(block);
        }
        return total;
    }

    /// <summary>Per-thread pinned, 64-byte-aligned packing buffers (grown on demand, never shrunk).</summary>
    private static class Workspace<T> where T : unmanaged
    {
        [ThreadStatic] private static T[]? s_a, s_b;
        [ThreadStatic] private static double[]? s_d;

        public readonly struct Buffers(T* a, T* b, double* d)
        {
            public readonly T* A = a, B = b;
            public readonly double* D = d;
        }

        public static Buffers Get(int na, int nb, int nd) =>
            new(Aligned(ref s_a, na), Aligned(ref s_b, nb), nd > 0 ? Aligned(ref s_d, nd) : null);

        private static TE* Aligned<TE>(ref TE[]? arr, int n) where TE : unmanaged
        {
            int pad = 64 / sizeof(TE);
            if (arr == null || arr.Length < n + pad) arr = GC.AllocateUninitializedArray<TE>(n + pad, pinned: true);
            var p = (TE*)Unsafe.AsPointer(ref arr[0]);
            return (TE*)(((nint)p + 63) & ~(nint)63);
        }
    }
}
