using System.Numerics;

namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// N-d grouped convolution in the canonical layout lhs (N, S…, C), rhs (K…, C/G, O), output (N, S'…, O), and its two
/// adjoints, as im2col (rows = output positions, columns = (kernel position, channel) of one group) + GEMM.
/// <list type="bullet">
/// <item>Forward: independent tasks over (row block, group); each gathers an L2-sized patch block of one group and
/// multiplies it by that group's filter with a single-threaded GEMM, so the patch matrix is never materialised whole
/// and many small groups (B·G groups from batching) parallelise as well as large N.</item>
/// <item>Forward, 2-D, one group, unit strides and dilation, narrow output, kernel rows of ≥ 64 patch elements: no
/// im2col at all (<c>ForwardShiftedRows</c>): per image a zero-padded copy, from which each kernel row's patch matrix
/// is read in place by an unpacked GEMM (row stride C), the kernel rows' GEMMs accumulated.</item>
/// <item>Lhs adjoint, unit strides: the forward convolution of the cotangent with the flipped, in/out-swapped filter
/// (padding (K−1)·dil − pad), which avoids the col2im scatter. Other strides: GEMM + col2im, parallel by image.</item>
/// <item>Rhs adjoint: per group, patchesᵀ·ct reduced over all rows by one GEMM (rows chunked only above
/// <see cref="ChunkElements"/>, chunk sums combined in float64 for float32); parallel over groups when there are many.</item>
/// </list>
/// A pointwise (1×1, stride 1, unpadded) convolution skips im2col. Every GEMM value depends only on (m, n, k) and the
/// inputs, and all block sizes depend only on the shapes, so results are bitwise the same for any thread count.
/// </summary>
internal static class Conv
{
    [ThreadStatic] private static int t_chunkElements;

    /// <summary>Patch elements per buffer on the current thread (&lt;= 0: 4M; the forward also caps blocks at 64K so they
    /// stay in L2). Lowered by tests to force chunking.</summary>
    internal static int ChunkElements
    {
        get => t_chunkElements > 0 ? t_chunkElements : 1 << 22;
        set => t_chunkElements = value;
    }

    [ThreadStatic] private static bool t_noShiftedRows;

    /// <summary>Whether 2-D unit-stride convolutions (and unit-stride lhs adjoints) may skip im2col
    /// (<c>ForwardShiftedRows</c>); on by default, per thread. Tests turn it off to compare with the im2col path.</summary>
    internal static bool ShiftedRows
    {
        get => !t_noShiftedRows;
        set => t_noShiftedRows = !value;
    }

    /// <summary>Called after every kernel with (op, first operand, second operand, params, seconds); null: off. For perf tools.</summary>
    internal static Action<string, Shape, Shape, ConvParams, double>? Profiler;

    private static Tensor Timed(string op, Tensor a, Tensor b, ConvParams p, Func<Tensor> run)
    {
        var prof = Profiler;
        if (prof is null) return run();
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var r = run();
        prof(op, a.Shape, b.Shape, p, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds);
        return r;
    }

    /// <summary>Output shape (N, S1'..Sd', O) with <c>S' = floor((S + lo + hi − ((K−1)·dil + 1)) / s) + 1</c>.</summary>
    /// <exception cref="ArgumentException">Ranks, channels, groups or window sizes are inconsistent.</exception>
    internal static Shape InferShape(Shape lhs, Shape rhs, ConvParams p)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(p.Strides, nameof(p));
        ArgumentNullException.ThrowIfNull(p.Padding, nameof(p));
        ArgumentNullException.ThrowIfNull(p.RhsDilation, nameof(p));
        int d = p.Strides.Length;
        if (d < 1) throw new ArgumentException("conv: at least one spatial dimension is required (strides is empty)", nameof(p));
        if (p.Padding.Length != d || p.RhsDilation.Length != d)
            throw new ArgumentException($"conv: strides, padding and rhs dilation need one entry per spatial dimension, got {d}, {p.Padding.Length} and {p.RhsDilation.Length}", nameof(p));
        if (lhs.Rank != d + 2)
            throw new ArgumentException($"conv: lhs must have rank {d + 2} (N, {d} spatial, C) for {d} spatial dimensions, got shape {lhs}", nameof(lhs));
        if (rhs.Rank != d + 2)
            throw new ArgumentException($"conv: rhs must have rank {d + 2} ({d} spatial, C/groups, O) for {d} spatial dimensions, got shape {rhs}", nameof(rhs));
        for (int i = 0; i < d; i++)
            if (p.Strides[i] < 1 || p.RhsDilation[i] < 1)
                throw new ArgumentException($"conv: strides and rhs dilation must be >= 1, got strides [{string.Join(", ", p.Strides)}] and dilation [{string.Join(", ", p.RhsDilation)}]", nameof(p));
        int g = p.FeatureGroupCount, c = lhs[d + 1], ci = rhs[d], o = rhs[d + 1];
        if (g < 1) throw new ArgumentException($"conv: feature_group_count must be >= 1, got {g}", nameof(p));
        if (c % g != 0)
            throw new ArgumentException($"conv: lhs channels {c} (lhs {lhs}) are not divisible by feature_group_count {g}", nameof(lhs));
        if (ci != c / g)
            throw new ArgumentException($"conv: rhs input features {ci} must equal lhs channels / feature_group_count = {c} / {g} = {c / g}; got lhs {lhs} and rhs {rhs}", nameof(rhs));
        if (o % g != 0)
            throw new ArgumentException($"conv: rhs output features {o} (rhs {rhs}) are not divisible by feature_group_count {g}", nameof(rhs));
        var dims = new int[d + 2];
        dims[0] = lhs[0];
        dims[d + 1] = o;
        for (int i = 0; i < d; i++)
        {
            int padded = lhs[i + 1] + p.Padding[i].Lo + p.Padding[i].Hi;
            int window = rhs[i] == 0 ? 0 : (rhs[i] - 1) * p.RhsDilation[i] + 1;
            if (padded < window)
                throw new ArgumentException($"conv: window on spatial dimension {i} (filter size {rhs[i]}, dilation {p.RhsDilation[i]}, effective {window}) is bigger than the padded input {padded} (size {lhs[i + 1]}, padding ({p.Padding[i].Lo}, {p.Padding[i].Hi})); lhs {lhs}, rhs {rhs}", nameof(lhs));
            dims[i + 1] = (padded - window) / p.Strides[i] + 1;
        }
        return new Shape(dims);
    }

    /// <summary>The convolution <c>y = conv(lhs, rhs)</c>.</summary>
    /// <exception cref="ArgumentException">Shapes or dtypes are inconsistent.</exception>
    internal static Tensor Forward(Tensor lhs, Tensor rhs, ConvParams p)
    {
        var outShape = InferShape(lhs.Shape, rhs.Shape, p);
        SameDType("conv", lhs, rhs);
        var geo = new Geometry(lhs.Shape, rhs.Shape, outShape, p);
        return Timed("conv_general_dilated", lhs, rhs, p, () => lhs.DType == DType.Float32
            ? Tensor.Wrap(geo.Forward<float>(lhs.Contiguous(), rhs.Contiguous()), outShape)
            : Tensor.Wrap(geo.Forward<double>(lhs.Contiguous(), rhs.Contiguous()), outShape));
    }

    /// <summary>Adjoint w.r.t. lhs (<c>Aᵀct</c> for <c>A x = conv(x, rhs)</c>), of shape <paramref name="lhsShape"/>.</summary>
    /// <exception cref="ArgumentException">The cotangent shape is not the convolution output shape, or dtypes differ.</exception>
    internal static Tensor LhsTranspose(Tensor ct, Tensor rhs, Shape lhsShape, ConvParams p)
    {
        var outShape = InferShape(lhsShape, rhs.Shape, p);
        if (ct.Shape != outShape)
            throw new ArgumentException($"conv lhs transpose: cotangent shape {ct.Shape} differs from the output shape {outShape} of lhs {lhsShape} and rhs {rhs.Shape}", nameof(ct));
        SameDType("conv lhs transpose", ct, rhs);
        var geo = new Geometry(lhsShape, rhs.Shape, outShape, p);
        return Timed("conv_lhs_transpose", ct, rhs, p, () => ct.DType == DType.Float32
            ? Tensor.Wrap(geo.LhsTranspose<float>(ct.Contiguous(), rhs.Contiguous()), lhsShape)
            : Tensor.Wrap(geo.LhsTranspose<double>(ct.Contiguous(), rhs.Contiguous()), lhsShape));
    }

    /// <summary>Adjoint w.r.t. rhs: <c>im2col(lhs)ᵀ·ct</c>, of shape <paramref name="rhsShape"/>.</summary>
    /// <exception cref="ArgumentException">The cotangent shape is not the convolution output shape, or dtypes differ.</exception>
    internal static Tensor RhsTranspose(Tensor lhs, Tensor ct, Shape rhsShape, ConvParams p)
    {
        var outShape = InferShape(lhs.Shape, rhsShape, p);
        if (ct.Shape != outShape)
            throw new ArgumentException($"conv rhs transpose: cotangent shape {ct.Shape} differs from the output shape {outShape} of lhs {lhs.Shape} and rhs {rhsShape}", nameof(ct));
        SameDType("conv rhs transpose", lhs, ct);
        var geo = new Geometry(lhs.Shape, rhsShape, outShape, p);
        return Timed("conv_rhs_transpose", lhs, ct, p, () => lhs.DType == DType.Float32
            ? Tensor.Wrap(geo.RhsTranspose<float>(lhs.Contiguous(), ct.Contiguous()), rhsShape)
            : Tensor.Wrap(geo.RhsTranspose<double>(lhs.Contiguous(), ct.Contiguous()), rhsShape));
    }

    private static void SameDType(string op, Tensor a, Tensor b)
    {
        if (a.DType != b.DType)
            throw new ArgumentException($"{op}: operands must have the same dtype, got {a.DType.Name()}{a.Shape} and {b.DType.Name()}{b.Shape}", nameof(b));
    }

    /// <summary>Patch elements of one forward task: a block of this size (plus GEMM packing) stays in a 512 KiB L2.</summary>
    private const int TaskElements = 1 << 16;

    /// <summary>Up to this many output channels per group the GEMMs skip packing (<see cref="Blas.GemmDirect"/>).</summary>
    private const int DirectMaxN = 64;

    /// <summary>Below this many flops a convolution runs on the calling thread.</summary>
    private const long ParallelFlops = 1L << 21;

    /// <summary>
    /// Runs body(t) for t in [0, tasks): in parallel with single-threaded GEMMs inside when there are enough tasks,
    /// otherwise in order on the calling thread (its GEMMs may then use the threads). The values computed do not depend
    /// on which; the calling thread's GEMM settings (thread cap, ISA) carry over to the workers.
    /// </summary>
    private static void RunTasks(long tasks, double flops, Action<long> body)
    {
        int dop = Blas.MaxDegreeOfParallelism;
        if (dop <= 1 || tasks < 2 * dop || flops < ParallelFlops)
        {
            for (long t = 0; t < tasks; t++) body(t);
            return;
        }
        var isa = Blas.ForceIsa;
        // The calling thread runs a share of the loop too, so each worker restores its own settings afterwards.
        Parallel.For(0L, tasks, new ParallelOptions { MaxDegreeOfParallelism = dop }, () =>
        {
            var saved = (Blas.MaxDegreeOfParallelism, Blas.ForceIsa);
            Blas.MaxDegreeOfParallelism = 1;
            Blas.ForceIsa = isa;
            return saved;
        }, (t, _, saved) => { body(t); return saved; }, saved =>
        {
            Blas.MaxDegreeOfParallelism = saved.Item1;
            Blas.ForceIsa = saved.Item2;
        });
    }

    /// <summary>Per-thread scratch buffers (grown on demand, never shrunk).</summary>
    private static class Scratch<T>
    {
        [ThreadStatic] private static T[]? s_patches, s_rows;

        public static T[] Patches(int n) => s_patches is { } a && a.Length >= n ? a : s_patches = new T[Math.Max(n, 1024)];

        public static T[] Rows(int n) => s_rows is { } a && a.Length >= n ? a : s_rows = new T[Math.Max(n, 1024)];
    }

    /// <summary>Sizes of one convolution and the patch (im2col) gather/scatter over them.</summary>
    private sealed class Geometry
    {
        private readonly int _imageStride, _d, _c, _o, _g, _cg, _og, _kp, _f, _sOut, _rows, _n, _inSize;
        private readonly int[] _inSp, _outSp, _kSp, _strides, _lo, _hi, _dil, _inStrides;
        private readonly int[][] _kOff;
        private readonly bool _pointwise;
        private readonly PatchIndex _index;

        public Geometry(Shape lhs, Shape rhs, Shape outShape, ConvParams p)
            : this(lhs[0], Inner(lhs), lhs[^1], Inner(rhs, 0), rhs[^1], p.FeatureGroupCount, Inner(outShape), p.Strides,
                p.Padding.Select(x => x.Lo).ToArray(), p.Padding.Select(x => x.Hi).ToArray(), p.RhsDilation)
        {
        }

        private static int[] Inner(Shape s, int from = 1) => Enumerable.Range(from, s.Rank - 2).Select(i => s[i]).ToArray();

        private Geometry(int n, int[] inSp, int c, int[] kSp, int o, int g, int[] outSp, int[] strides, int[] lo, int[] hi, int[] dil)
        {
            _d = strides.Length;
            _n = n; _c = c; _o = o; _g = g;
            _cg = _c / _g; _og = _o / _g;
            _inSp = inSp; _outSp = outSp; _kSp = kSp;
            _strides = strides; _lo = lo; _hi = hi; _dil = dil;
            _kp = kSp.Aggregate(1, (a, b) => a * b);
            _f = _kp * _cg;
            _sOut = _outSp.Aggregate(1, (a, b) => a * b);
            _rows = _n * _sOut;
            _inStrides = new int[_d]; // element strides of the spatial axes of contiguous lhs
            int acc = _c;
            for (int i = _d - 1; i >= 0; i--) { _inStrides[i] = acc; acc *= _inSp[i]; }
            _imageStride = acc;
            _inSize = _n * acc;
            _kOff = new int[_kp][];
            var k = new int[_d];
            for (int kp = 0; kp < _kp; kp++)
            {
                PatchIndex.Unravel(kp, kSp, k);
                _kOff[kp] = Enumerable.Range(0, _d).Select(i => k[i] * dil[i]).ToArray();
            }
            _index = new PatchIndex(inSp, c, kSp, g, outSp, strides, lo, dil);
            _pointwise = _kp == 1 && _strides.All(s => s == 1) && lo.All(x => x == 0) && hi.All(x => x == 0) && _inSp.SequenceEqual(_outSp);
        }

        /// <summary>
        /// The unit-stride lhs adjoint as a forward convolution: input = cotangent (channels O), output = lhs (channels C),
        /// same groups and dilation, padding (K−1)·dil − pad (possibly negative) on each side.
        /// </summary>
        private Geometry Transposed()
        {
            var lo = new int[_d];
            var hi = new int[_d];
            for (int i = 0; i < _d; i++)
            {
                lo[i] = (_kSp[i] - 1) * _dil[i] - _lo[i];
                hi[i] = (_kSp[i] - 1) * _dil[i] - _hi[i];
            }
            return new Geometry(_n, _outSp, _o, _kSp, _c, _g, _inSp, _strides, lo, hi, _dil);
        }

        private double Flops => 2.0 * _rows * _f * _o;

        public T[] Forward<T>(Tensor x, Tensor w) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var y = BufferPool.Rent<T>(_rows * _o, zeroed: _f == 0);   // overwritten by the GEMMs unless there is nothing to sum
            if (y.Length == 0 || _f == 0) return y;
            ForwardInto((T[])x.Storage, x.Offset, (T[])w.Storage, w.Offset, y);
            return y;
        }

        private void ForwardInto<T>(T[] x, int xOff, T[] w, int wOff, T[] y) where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (_pointwise)
            {
                Blas.BatchedGemm<T>(_g, _rows, _og, _cg, x.AsSpan(xOff), _c, _cg, false, w.AsSpan(wOff), _o, _og, false, y, _o, _og);
                return;
            }
            if (ShiftedRowsFit)
            {
                ForwardShiftedRows(x, xOff, w, wOff, y);
                return;
            }
            // Row blocks sized for L2 (a multiple of the micro-kernel height), capped by ChunkElements for tests.
            int block = Math.Max(2 * Blas.MR, TaskElements / _f / Blas.MR * Blas.MR);
            block = Math.Min(Math.Min(block, Math.Max(1, ChunkElements / _f)), _rows);
            int blocks = (_rows + block - 1) / block;
            RunTasks((long)blocks * _g, Flops, t =>
            {
                int g = (int)(t % _g), r0 = (int)(t / _g) * block, cnt = Math.Min(block, _rows - r0);
                var patches = Scratch<T>.Patches(cnt * _f);
                Im2Col(x, xOff, r0, cnt, g, patches);
                if (_og <= DirectMaxN)
                    Blas.GemmDirect<T>(cnt, _og, _f, patches, _f, 1, w.AsSpan(wOff + g * _og), _o, y.AsSpan(r0 * _o + g * _og), _o, false, Blas.MaxDegreeOfParallelism);
                else
                    Blas.Gemm<T>(cnt, _og, _f, patches, _f, false, w.AsSpan(wOff + g * _og), _o, false, y.AsSpan(r0 * _o + g * _og), _o);
            });
        }

        public T[] LhsTranspose<T>(Tensor ct, Tensor w) where T : unmanaged, IFloatingPointIeee754<T>
        {
            // Only the strided path scatter-adds (col2im) into dx; the others overwrite every element (the unit-stride
            // forward writes each output row once), so a 23 MB seed-CNN cotangent is not cleared first.
            bool scatter = !_pointwise && !_strides.All(s => s == 1);
            var dx = BufferPool.Rent<T>(_inSize, zeroed: scatter || _rows == 0 || _og == 0 || _kp == 0);
            if (dx.Length == 0 || _rows == 0 || _og == 0 || _kp == 0) return dx;
            var cs = (T[])ct.Storage;
            var ws = (T[])w.Storage;
            if (_pointwise)
            {
                Blas.BatchedGemm<T>(_g, _rows, _cg, _og, cs.AsSpan(ct.Offset), _o, _og, false, ws.AsSpan(w.Offset), _o, _og, true, dx, _c, _cg);
                return dx;
            }
            if (_strides.All(s => s == 1))
            {
                Transposed().ForwardInto(cs, ct.Offset, FlipSwap(ws, w.Offset), 0, dx);
                return dx;
            }
            // Strided: dp = ct·Wᵀ per group in row chunks, then scatter-add (col2im) by image.
            int chunk = Math.Min(Math.Max(1, ChunkElements / Math.Max(1, _g * _f)), _rows), gf = _g * _f;
            var dp = new T[chunk * gf];
            for (int r0 = 0; r0 < _rows; r0 += chunk)
            {
                int cnt = Math.Min(chunk, _rows - r0);
                Blas.BatchedGemm<T>(_g, cnt, _f, _og, cs.AsSpan(ct.Offset + r0 * _o), _o, _og, false, ws.AsSpan(w.Offset), _o, _og, true, dp, gf, _f);
                _index.Col2Im(dp, r0, cnt, dx);
            }
            return dx;
        }

        /// <summary>Filter (K…, C/G, O) → (K…, O/G, C): every spatial axis reversed (= the flat kernel index reversed) and,
        /// within each group, input and output features swapped.</summary>
        private T[] FlipSwap<T>(T[] w, int off) where T : unmanaged
        {
            var r = new T[_kp * _og * _c];
            for (int kp = 0; kp < _kp; kp++)
            {
                int src0 = off + (_kp - 1 - kp) * _cg * _o, dst0 = kp * _og * _c;
                for (int g = 0; g < _g; g++)
                    for (int i = 0; i < _cg; i++)
                        for (int j = 0; j < _og; j++)
                            r[dst0 + j * _c + g * _cg + i] = w[src0 + i * _o + g * _og + j];
            }
            return r;
        }

        public T[] RhsTranspose<T>(Tensor x, Tensor ct) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var dw = BufferPool.Rent<T>(_f * _o, zeroed: _rows == 0);   // each group's columns overwritten (first chunk or the float64 sum)
            if (dw.Length == 0 || _rows == 0) return dw;
            var xs = (T[])x.Storage;
            var cs = (T[])ct.Storage;
            int xOff = x.Offset, cOff = ct.Offset;
            if (_pointwise)
            {
                Blas.BatchedGemm<T>(_g, _cg, _og, _rows, xs.AsSpan(xOff), _c, _cg, true, cs.AsSpan(cOff), _o, _og, false, dw, _o, _og);
                return dw;
            }
            // Unpacked GEMMs stream the patch chunk once per output tile, so it must stay in L2: chunks of whole KC blocks,
            // about twice a forward block. The reduction runs over rows, so chunk results are summed: in float64 for float32.
            int chunk = _og <= DirectMaxN ? Math.Max(Blas.KC, 2 * TaskElements / _f / Blas.KC * Blas.KC) : int.MaxValue;
            chunk = Math.Min(Math.Min(chunk, Math.Max(1, ChunkElements / _f)), _rows);
            bool wide = typeof(T) == typeof(float) && chunk < _rows;
            RunTasks(_g, Flops, g =>
            {
                var patches = Scratch<T>.Patches(chunk * _f);
                var dst = dw.AsSpan((int)g * _og);
                var part = wide ? new T[_f * _og] : null;
                var acc = wide ? new double[_f * _og] : null;
                for (int r0 = 0; r0 < _rows; r0 += chunk)
                {
                    int cnt = Math.Min(chunk, _rows - r0);
                    Im2Col(xs, xOff, r0, cnt, (int)g, patches);
                    var ctBlock = cs.AsSpan(cOff + r0 * _o + (int)g * _og);
                    Span<T> into = wide ? part : dst;
                    int ldInto = wide ? _og : _o;
                    bool add = !wide && r0 > 0;
                    if (_og <= DirectMaxN && _g > 1)
                    {
                        // This group's cotangent columns, one row per output position, at a stride of all O channels
                        // (5 KB for 1,280): every row a new page, which the prefetcher does not follow. Gathered
                        // contiguous once per chunk, they are read by every row tile of the GEMM (same values).
                        var rows = Scratch<T>.Rows(cnt * _og);
                        for (int r = 0; r < cnt; r++) ctBlock.Slice(r * _o, _og).CopyTo(rows.AsSpan(r * _og, _og));
                        Blas.GemmDirect<T>(_f, _og, cnt, patches, 1, _f, rows, _og, into, ldInto, add, Blas.MaxDegreeOfParallelism);
                    }
                    else if (_og <= DirectMaxN) Blas.GemmDirect<T>(_f, _og, cnt, patches, 1, _f, ctBlock, _o, into, ldInto, add, Blas.MaxDegreeOfParallelism);
                    else Blas.Gemm<T>(_f, _og, cnt, patches, _f, true, ctBlock, _o, false, into, ldInto, add);
                    if (!wide) continue;
                    for (int i = 0; i < part!.Length; i++) acc![i] += double.CreateTruncating(part[i]);
                }
                if (wide)
                    for (int i = 0; i < _f; i++)
                        for (int j = 0; j < _og; j++) dst[i * _o + j] = T.CreateTruncating(acc![i * _og + j]);
            });
            return dw;
        }

        /// <summary>
        /// Whether <see cref="ForwardShiftedRows{T}"/> applies: 2-D, one group, unit strides and dilation, no negative
        /// padding, a narrow output (unpacked GEMM) and kernel rows of at least 64 patch elements (the GEMM depth).
        /// </summary>
        private bool ShiftedRowsFit =>
            ShiftedRows && _d == 2 && _g == 1 && _o <= DirectMaxN && _kSp[1] * _c >= 64 && _kSp[0] > 1
            && _strides.All(s => s == 1) && _dil.All(v => v == 1) && _lo.All(v => v >= 0) && _hi.All(v => v >= 0)
            && (long)(_inSp[0] + _lo[0] + _hi[0] + 1) * (_inSp[1] + _lo[1] + _hi[1]) * _c < int.MaxValue;

        /// <summary>
        /// A 2-D unit-stride convolution without im2col, by image: the image is copied once into a zero-padded (Hp, Wp, C)
        /// scratch, where the patch row of output (h, w) for kernel row kh — KW·C elements — is one contiguous run starting
        /// at ((h + kh)·Wp + w)·C. So for each kh the rows of all outputs, taken over the full padded width Wp (the last
        /// KW − 1 columns of each row are junk and dropped), form a matrix with row stride C, read in place by an unpacked
        /// GEMM of depth KW·C; the KH GEMMs accumulate. That skips writing and re-reading KH·KW·C patch elements per
        /// output (im2col was ~⅓ of the seed CNN's lhs adjoint (200,28,28,32) → (200,30,30,32)), for (Wp − W')/W' extra rows.
        /// Per element the sum runs over kh, then (kw, c) in order, float32 KH partial sums added in float32.
        /// </summary>
        private void ForwardShiftedRows<T>(T[] x, int xOff, T[] w, int wOff, T[] y) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int kh = _kSp[0], kwc = _kSp[1] * _c, inH = _inSp[0], inW = _inSp[1], outH = _outSp[0], outW = _outSp[1];
            int wp = inW + _lo[1] + _hi[1], hp = inH + _lo[0] + _hi[0];
            int padded = hp * wp * _c + (_kSp[1] - 1) * _c;   // the junk columns of the last row read KW − 1 pixels past the end
            int rows = outH * wp;
            RunTasks(_n, Flops * wp / outW, t =>
            {
                int img = (int)t;
                var xp = Scratch<T>.Patches(padded);
                var acc = Scratch<T>.Rows(rows * _o);
                // Zero-padded copy of the image (borders and tail cleared, interior rows copied).
                Array.Clear(xp, 0, padded);
                int src = xOff + img * _imageStride;
                for (int h = 0; h < inH; h++)
                    Array.Copy(x, src + h * inW * _c, xp, ((h + _lo[0]) * wp + _lo[1]) * _c, inW * _c);
                for (int k = 0; k < kh; k++)
                    Blas.GemmDirect<T>(rows, _o, kwc, xp.AsSpan(k * wp * _c), _c, 1, w.AsSpan(wOff + k * kwc * _o), _o,
                        acc.AsSpan(0, rows * _o), _o, k > 0, Blas.MaxDegreeOfParallelism);
                int dst = img * outH * outW * _o;
                for (int h = 0; h < outH; h++)
                    Array.Copy(acc, h * wp * _o, y, dst + h * outW * _o, outW * _o);
            });
        }

        /// <summary>
        /// Patch rows r0..r0+cnt of group g into dst (row-major, cnt × f, columns (kernel position, channel)). Along the last
        /// spatial axis a whole window row is one contiguous copy when there is one group and no dilation there.
        /// </summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // hot loop: its tier-0 copy showed in warm-call profiles
        private void Im2Col<T>(T[] src, int srcOff, int r0, int cnt, int g, T[] dst) where T : unmanaged
        {
            int last = _d - 1, kLast = _kSp[last], outer = _kp / kLast, run = kLast * _cg, dl = _dil[last];
            int inLast = _inSp[last], sLast = _strides[last], loLast = _lo[last];
            bool runs = _g == 1 && dl == 1;
            var pos = new int[_d];
            int n = r0 / _sOut;
            PatchIndex.Unravel(r0 % _sOut, _outSp, pos);
            for (int r = 0; r < cnt; r++)
            {
                var row = dst.AsSpan(r * _f, _f);
                int img = srcOff + n * _imageStride + g * _cg;
                int p0 = pos[last] * sLast - loLast;
                bool fits = p0 >= 0 && p0 + (kLast - 1) * dl < inLast;
                for (int ko = 0; ko < outer; ko++)
                {
                    var seg = row.Slice(ko * run, run);
                    int off = img;
                    var k = _kOff[ko * kLast];
                    bool inside = true;
                    for (int i = 0; i < last; i++)
                    {
                        int q = pos[i] * _strides[i] + k[i] - _lo[i];
                        if ((uint)q >= (uint)_inSp[i]) { inside = false; break; }
                        off += q * _inStrides[i];
                    }
                    if (!inside) { seg.Clear(); continue; }
                    if (runs && fits) { src.AsSpan(off + p0 * _c, run).CopyTo(seg); continue; }
                    for (int kw = 0; kw < kLast; kw++)
                    {
                        int q = p0 + kw * dl;
                        var piece = seg.Slice(kw * _cg, _cg);
                        if ((uint)q >= (uint)inLast) piece.Clear();
                        else src.AsSpan(off + q * _c, _cg).CopyTo(piece);
                    }
                }
                for (int i = last; i >= 0; i--)
                {
                    if (++pos[i] < _outSp[i]) break;
                    pos[i] = 0;
                    if (i == 0) n++;
                }
            }
        }
    }
}
