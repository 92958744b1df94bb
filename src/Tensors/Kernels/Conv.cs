using System.Numerics;

namespace NeuralTangents.Tensors;

/// <summary>
/// N-d grouped convolution in the canonical layout lhs (N, S…, C), rhs (K…, C/G, O), output (N, S'…, O), and its two
/// adjoints. All three are im2col (rows = output positions, columns = (group, kernel position, channel)) + one batched
/// GEMM over groups; a pointwise (1×1, stride 1, unpadded) convolution skips im2col. The patch matrix is built in
/// fixed-size row chunks so memory stays bounded; chunking depends only on the shapes, so results are deterministic.
/// </summary>
internal static class Conv
{
    [ThreadStatic] private static int t_chunkElements;

    /// <summary>Patch-matrix elements per chunk on the current thread (&lt;= 0: 4M). Lowered by tests to force chunking.</summary>
    internal static int ChunkElements
    {
        get => t_chunkElements > 0 ? t_chunkElements : 1 << 22;
        set => t_chunkElements = value;
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
        return lhs.DType == DType.Float32
            ? Tensor.Wrap(geo.Forward<float>(lhs.Contiguous(), rhs.Contiguous()), outShape)
            : Tensor.Wrap(geo.Forward<double>(lhs.Contiguous(), rhs.Contiguous()), outShape);
    }

    /// <summary>Adjoint w.r.t. lhs: <c>col2im(ct·Wᵀ)</c>, of shape <paramref name="lhsShape"/>.</summary>
    /// <exception cref="ArgumentException">The cotangent shape is not the convolution output shape, or dtypes differ.</exception>
    internal static Tensor LhsTranspose(Tensor ct, Tensor rhs, Shape lhsShape, ConvParams p)
    {
        var outShape = InferShape(lhsShape, rhs.Shape, p);
        if (ct.Shape != outShape)
            throw new ArgumentException($"conv lhs transpose: cotangent shape {ct.Shape} differs from the output shape {outShape} of lhs {lhsShape} and rhs {rhs.Shape}", nameof(ct));
        SameDType("conv lhs transpose", ct, rhs);
        var geo = new Geometry(lhsShape, rhs.Shape, outShape, p);
        return ct.DType == DType.Float32
            ? Tensor.Wrap(geo.LhsTranspose<float>(ct.Contiguous(), rhs.Contiguous()), lhsShape)
            : Tensor.Wrap(geo.LhsTranspose<double>(ct.Contiguous(), rhs.Contiguous()), lhsShape);
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
        return lhs.DType == DType.Float32
            ? Tensor.Wrap(geo.RhsTranspose<float>(lhs.Contiguous(), ct.Contiguous()), rhsShape)
            : Tensor.Wrap(geo.RhsTranspose<double>(lhs.Contiguous(), ct.Contiguous()), rhsShape);
    }

    private static void SameDType(string op, Tensor a, Tensor b)
    {
        if (a.DType != b.DType)
            throw new ArgumentException($"{op}: operands must have the same dtype, got {a.DType.Name()}{a.Shape} and {b.DType.Name()}{b.Shape}", nameof(b));
    }

    /// <summary>Sizes of one convolution and the patch (im2col) gather/scatter over them.</summary>
    private sealed class Geometry
    {
        private readonly int _imageStride, _d, _c, _o, _g, _cg, _og, _kp, _f, _sOut, _rows, _n;
        private readonly int[] _inSp, _outSp, _strides, _lo, _inStrides;
        private readonly int[][] _kOff;
        private readonly bool _pointwise;

        public Geometry(Shape lhs, Shape rhs, Shape outShape, ConvParams p)
        {
            _d = p.Strides.Length;
            _n = lhs[0]; _c = lhs[_d + 1]; _o = rhs[_d + 1]; _g = p.FeatureGroupCount;
            _cg = _c / _g; _og = _o / _g;
            _inSp = Enumerable.Range(1, _d).Select(i => lhs[i]).ToArray();
            _outSp = Enumerable.Range(1, _d).Select(i => outShape[i]).ToArray();
            var kSp = Enumerable.Range(0, _d).Select(i => rhs[i]).ToArray();
            _strides = p.Strides;
            _lo = p.Padding.Select(x => x.Lo).ToArray();
            _kp = kSp.Aggregate(1, (a, b) => a * b);
            _f = _kp * _cg;
            _sOut = _outSp.Aggregate(1, (a, b) => a * b);
            _rows = _n * _sOut;
            _inStrides = new int[_d]; // element strides of the spatial axes of contiguous lhs
            int acc = _c;
            for (int i = _d - 1; i >= 0; i--) { _inStrides[i] = acc; acc *= _inSp[i]; }
            _imageStride = acc;
            _kOff = new int[_kp][];
            var k = new int[_d];
            for (int kp = 0; kp < _kp; kp++)
            {
                Unravel(kp, kSp, k);
                _kOff[kp] = Enumerable.Range(0, _d).Select(i => k[i] * p.RhsDilation[i]).ToArray();
            }
            _pointwise = _kp == 1 && _strides.All(s => s == 1) && p.Padding.All(x => x == (0, 0)) && _inSp.SequenceEqual(_outSp);
        }

        private static void Unravel(int flat, int[] dims, int[] idx)
        {
            for (int i = dims.Length - 1; i >= 0; i--) { idx[i] = flat % dims[i]; flat /= dims[i]; }
        }

        private int ChunkRows => Math.Max(1, ChunkElements / Math.Max(1, _g * _f));

        public T[] Forward<T>(Tensor x, Tensor w) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var y = new T[_rows * _o];
            if (y.Length == 0 || _f == 0) return y;
            ReadOnlySpan<T> xs = x.Span<T>(), ws = w.Span<T>();
            if (_pointwise)
            {
                Blas.BatchedGemm(_g, _rows, _og, _cg, xs, _c, _cg, false, ws, _o, _og, false, y, _o, _og);
                return y;
            }
            int chunk = Math.Min(ChunkRows, _rows), gf = _g * _f;
            var patches = new T[chunk * gf];
            for (int r0 = 0; r0 < _rows; r0 += chunk)
            {
                int cnt = Math.Min(chunk, _rows - r0);
                Im2Col(x, r0, cnt, patches);
                Blas.BatchedGemm<T>(_g, cnt, _og, _f, patches, gf, _f, false, ws, _o, _og, false, y.AsSpan(r0 * _o), _o, _og);
            }
            return y;
        }

        public T[] LhsTranspose<T>(Tensor ct, Tensor w) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var dx = new T[_n * _inSp.Aggregate(1, (a, b) => a * b) * _c];
            if (dx.Length == 0 || _rows == 0 || _og == 0) return dx;
            ReadOnlySpan<T> cs = ct.Span<T>(), ws = w.Span<T>();
            if (_pointwise)
            {
                Blas.BatchedGemm(_g, _rows, _cg, _og, cs, _o, _og, false, ws, _o, _og, true, dx, _c, _cg);
                return dx;
            }
            int chunk = Math.Min(ChunkRows, _rows), gf = _g * _f;
            var dp = new T[chunk * gf];
            for (int r0 = 0; r0 < _rows; r0 += chunk)
            {
                int cnt = Math.Min(chunk, _rows - r0);
                Blas.BatchedGemm<T>(_g, cnt, _f, _og, cs[(r0 * _o)..], _o, _og, false, ws, _o, _og, true, dp, gf, _f);
                Col2Im(dp, r0, cnt, dx);
            }
            return dx;
        }

        public T[] RhsTranspose<T>(Tensor x, Tensor ct) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var dw = new T[_f * _o];
            if (dw.Length == 0 || _rows == 0) return dw;
            ReadOnlySpan<T> xs = x.Span<T>(), cs = ct.Span<T>();
            if (_pointwise)
            {
                Blas.BatchedGemm(_g, _cg, _og, _rows, xs, _c, _cg, true, cs, _o, _og, false, dw, _o, _og);
                return dw;
            }
            int chunk = Math.Min(ChunkRows, _rows), gf = _g * _f;
            var patches = new T[chunk * gf];
            // The reduction runs over rows, so chunk results are summed: in float64 for float32.
            bool wide = typeof(T) == typeof(float) && chunk < _rows;
            var part = wide ? new T[dw.Length] : dw;
            var acc = wide ? new double[dw.Length] : null;
            for (int r0 = 0; r0 < _rows; r0 += chunk)
            {
                int cnt = Math.Min(chunk, _rows - r0);
                Im2Col(x, r0, cnt, patches);
                Blas.BatchedGemm<T>(_g, _f, _og, cnt, patches, gf, _f, true, cs[(r0 * _o)..], _o, _og, false, part, _o, _og,
                    accumulate: !wide && r0 > 0);
                if (wide)
                    for (int i = 0; i < part.Length; i++) acc![i] += double.CreateTruncating(part[i]);
            }
            if (wide)
                for (int i = 0; i < dw.Length; i++) dw[i] = T.CreateTruncating(acc![i]);
            return dw;
        }

        /// <summary>Patch rows r0..r0+cnt into <paramref name="dst"/> laid out (row, group, kernel position, channel).</summary>
        private void Im2Col<T>(Tensor x, int r0, int cnt, T[] dst) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var src = (T[])x.Storage;
            int xOff = x.Offset;
            ForRows(r0, cnt, perImage: false, (r, row) =>
            {
                int gf = _g * _f;
                Span<T> d = dst.AsSpan((r - r0) * gf, gf);
                for (int kp = 0; kp < _kp; kp++)
                {
                    int off = Offset(row, kp);
                    for (int g = 0; g < _g; g++)
                    {
                        var seg = d.Slice(g * _f + kp * _cg, _cg);
                        if (off < 0) seg.Clear();
                        else src.AsSpan(xOff + off + g * _cg, _cg).CopyTo(seg);
                    }
                }
            });
        }

        /// <summary>Scatter-adds patch rows back onto the input; one thread per image keeps the add order fixed.</summary>
        private void Col2Im<T>(T[] src, int r0, int cnt, T[] dx) where T : unmanaged, IFloatingPointIeee754<T>
        {
            ForRows(r0, cnt, perImage: true, (r, row) =>
            {
                int gf = _g * _f;
                var s = src.AsSpan((r - r0) * gf, gf);
                for (int kp = 0; kp < _kp; kp++)
                {
                    int off = Offset(row, kp);
                    if (off < 0) continue;
                    for (int g = 0; g < _g; g++)
                    {
                        var seg = s.Slice(g * _f + kp * _cg, _cg);
                        var t = dx.AsSpan(off + g * _cg, _cg);
                        for (int i = 0; i < t.Length; i++) t[i] += seg[i];
                    }
                }
            });
        }

        /// <summary>Element offset in lhs of the channel vector under kernel position kp of an output row; −1 in padding.</summary>
        private int Offset(int[] row, int kp)
        {
            // row = [n, o1..od]
            int off = row[0] * _imageStride;
            var k = _kOff[kp];
            for (int i = 0; i < _d; i++)
            {
                int pos = row[i + 1] * _strides[i] + k[i] - _lo[i];
                if ((uint)pos >= (uint)_inSp[i]) return -1;
                off += pos * _inStrides[i];
            }
            return off;
        }

        /// <summary>Runs body(r, [n, o1..od]) for rows r0..r0+cnt, in parallel by row blocks or (perImage) by image.</summary>
        private void ForRows(int r0, int cnt, bool perImage, Action<int, int[]> body)
        {
            void Range(int a, int b)
            {
                var row = new int[_d + 1];
                var sp = new int[_d];
                for (int r = a; r < b; r++)
                {
                    row[0] = r / _sOut;
                    Unravel(r % _sOut, _outSp, sp);
                    sp.CopyTo(row, 1);
                    body(r, row);
                }
            }
            long work = (long)cnt * _g * _f;
            if (work < 1 << 15 || Environment.ProcessorCount == 1 || Blas.MaxDegreeOfParallelism <= 1) { Range(r0, r0 + cnt); return; }
            var opts = new ParallelOptions { MaxDegreeOfParallelism = Blas.MaxDegreeOfParallelism };
            if (perImage)
            {
                int n0 = r0 / _sOut, n1 = (r0 + cnt - 1) / _sOut;
                Parallel.For(n0, n1 + 1, opts, n => Range(Math.Max(r0, n * _sOut), Math.Min(r0 + cnt, (n + 1) * _sOut)));
            }
            else
            {
                int blocks = Math.Min(cnt, 8 * Environment.ProcessorCount), per = (cnt + blocks - 1) / blocks;
                Parallel.For(0, blocks, opts, bi => Range(r0 + bi * per, Math.Min(r0 + cnt, r0 + (bi + 1) * per)));
            }
        }
    }
}
