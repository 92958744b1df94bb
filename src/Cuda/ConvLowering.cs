using System.Numerics;
using NeuralTangents.Tensors;

namespace NeuralTangents.Cuda;

/// <summary>
/// A grouped N-d convolution (canonical layout lhs (N, S…, C), rhs (K…, C/G, O), output (N, S'…, O)) and its two
/// adjoints lowered to GEMMs for an <see cref="IBatchedGemm"/>: the patch matrix (rows = output positions, columns =
/// (group, kernel position, channel), as the CPU kernel lays it out) is gathered on the host (im2col), the products
/// run as one strided-batched GEMM over the groups (side by side in the same rows), and the lhs adjoint is scattered
/// back on the host (col2im). Pointwise convolutions (1×1, stride 1, unpadded) use the input itself as the patch
/// matrix. Rows are processed in chunks of at most <c>chunkElements</c> patch entries; chunk sums of the rhs adjoint
/// are added in float64. Chunking depends only on the shapes, so results are deterministic.
/// </summary>
internal sealed unsafe class ConvLowering
{
    private readonly int _d, _n, _c, _o, _g, _cg, _og, _kp, _f, _gf, _rows, _sOut, _imageStride;
    private readonly int[] _inSp, _outSp, _strides, _lo, _inStrides;
    private readonly int[][] _kOff;

    /// <summary>Sizes of a convolution already validated by <c>Conv.InferShape</c>.</summary>
    public ConvLowering(Shape lhs, Shape rhs, Shape outShape, ConvParams p)
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
        _gf = _g * _f;
        _sOut = _outSp.Aggregate(1, (a, b) => a * b);
        _rows = _n * _sOut;
        _inStrides = new int[_d];
        int st = _c;
        for (int i = _d - 1; i >= 0; i--) { _inStrides[i] = st; st *= _inSp[i]; }
        _imageStride = st;
        _kOff = new int[_kp][];
        var k = new int[_d];
        for (int q = 0; q < _kp; q++)
        {
            Unravel(q, kSp, k);
            _kOff[q] = k.Select((v, i) => v * p.RhsDilation[i]).ToArray();
        }
        Pointwise = kSp.All(s => s == 1) && p.Strides.All(s => s == 1) && p.Padding.All(x => x.Lo == 0 && x.Hi == 0);
    }

    /// <summary>1×1 kernel, stride 1, no padding: the input is its own patch matrix.</summary>
    public bool Pointwise { get; }

    /// <summary>Multiply-adds × 2 of the forward convolution (each adjoint costs the same).</summary>
    public long Flops => 2L * _rows * _f * _o;

    private int ChunkRows(long chunkElements) => (int)Math.Clamp(chunkElements / Math.Max(1, _gf), 1, Math.Max(1, _rows));

    /// <summary>y = conv(x, w); x and w contiguous.</summary>
    public T[] Forward<T>(Tensor x, Tensor w, IBatchedGemm gemm, long chunkElements, int kBlock)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = new T[(long)_rows * _o];
        if (y.Length == 0 || _f == 0) return y;
        var ws = w.Span<T>();
        if (Pointwise)
        {
            SplitKGemm.Run<T>(gemm, _g, _rows, _og, _f, x.Span<T>(), _c, _f, false, ws, _o, _og, false, y, _o, _og, kBlock);
            return y;
        }
        int chunk = ChunkRows(chunkElements);
        var patches = new T[(long)chunk * _gf];
        for (int r0 = 0; r0 < _rows; r0 += chunk)
        {
            int cnt = Math.Min(chunk, _rows - r0);
            Im2Col(x, r0, cnt, patches);
            SplitKGemm.Run<T>(gemm, _g, cnt, _og, _f, patches.AsSpan(0, cnt * _gf), _gf, _f, false, ws, _o, _og, false,
                              y.AsSpan(r0 * _o, cnt * _o), _o, _og, kBlock);
        }
        return y;
    }

    /// <summary>dx = col2im(ct·Wᵀ) per group; ct (output-shaped) and w contiguous.</summary>
    public T[] LhsTranspose<T>(Tensor ct, Tensor w, IBatchedGemm gemm, long chunkElements, int kBlock)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dx = new T[(long)_n * _imageStride];
        if (dx.Length == 0 || _rows == 0 || _og == 0 || _f == 0) return dx;
        ReadOnlySpan<T> cs = ct.Span<T>(), ws = w.Span<T>();
        if (Pointwise)
        {
            SplitKGemm.Run<T>(gemm, _g, _rows, _f, _og, cs, _o, _og, false, ws, _o, _og, true, dx, _c, _f, kBlock);
            return dx;
        }
        int chunk = ChunkRows(chunkElements);
        var dp = new T[(long)chunk * _gf];
        for (int r0 = 0; r0 < _rows; r0 += chunk)
        {
            int cnt = Math.Min(chunk, _rows - r0);
            SplitKGemm.Run<T>(gemm, _g, cnt, _f, _og, cs.Slice(r0 * _o, cnt * _o), _o, _og, false, ws, _o, _og, true,
                              dp.AsSpan(0, cnt * _gf), _gf, _f, kBlock);
            Col2Im(dp, r0, cnt, dx);
        }
        return dx;
    }

    /// <summary>dw = im2col(x)ᵀ·ct per group, laid out (K…, C/G, O); x and ct contiguous.</summary>
    public T[] RhsTranspose<T>(Tensor x, Tensor ct, IBatchedGemm gemm, long chunkElements, int kBlock)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dw = new T[(long)_f * _o];
        if (dw.Length == 0 || _rows == 0) return dw;
        var cs = ct.Span<T>();
        if (Pointwise)
        {
            SplitKGemm.Run<T>(gemm, _g, _f, _og, _rows, x.Span<T>(), _c, _f, true, cs, _o, _og, false, dw, _o, _og, kBlock);
            return dw;
        }
        int chunk = ChunkRows(chunkElements);
        var patches = new T[(long)chunk * _gf];
        // The sum runs over rows: chunk results are added in float64.
        bool chunked = chunk < _rows;
        var part = chunked ? new T[dw.Length] : dw;
        var acc = chunked ? new double[dw.Length] : null;
        for (int r0 = 0; r0 < _rows; r0 += chunk)
        {
            int cnt = Math.Min(chunk, _rows - r0);
            Im2Col(x, r0, cnt, patches);
            SplitKGemm.Run<T>(gemm, _g, _f, _og, cnt, patches.AsSpan(0, cnt * _gf), _gf, _f, true, cs.Slice(r0 * _o, cnt * _o), _o, _og, false,
                              part, _o, _og, kBlock);
            if (chunked)
                for (int i = 0; i < part.Length; i++) acc![i] += double.CreateTruncating(part[i]);
        }
        if (chunked)
            for (int i = 0; i < dw.Length; i++) dw[i] = T.CreateTruncating(acc![i]);
        return dw;
    }

    /// <summary>Patch rows r0..r0+cnt into <paramref name="dst"/>, laid out (row, group, kernel position, channel); zeros in the padding.</summary>
    private void Im2Col<T>(Tensor x, int r0, int cnt, T[] dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = (T[])x.Storage;
        int xOff = x.Offset;
        ForRows(r0, cnt, perImage: false, (r, row) =>
        {
            var d = dst.AsSpan((r - r0) * _gf, _gf);
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

    /// <summary>Adds patch rows back onto the input; one thread per image keeps each entry's order of additions fixed.</summary>
    private void Col2Im<T>(T[] src, int r0, int cnt, T[] dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ForRows(r0, cnt, perImage: true, (r, row) =>
        {
            var s = src.AsSpan((r - r0) * _gf, _gf);
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

    /// <summary>Element offset in lhs of the channel vector under kernel position kp for row [n, o1..od]; −1 in the padding.</summary>
    private int Offset(int[] row, int kp)
    {
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

    /// <summary>Runs body(r, [n, o1..od]) for rows r0..r0+cnt, in parallel over row blocks or (perImage) over images.</summary>
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
        if ((long)cnt * _gf < 1 << 15 || Environment.ProcessorCount == 1) { Range(r0, r0 + cnt); return; }
        if (perImage)
        {
            int n0 = r0 / _sOut, n1 = (r0 + cnt - 1) / _sOut;
            Parallel.For(n0, n1 + 1, n => Range(Math.Max(r0, n * _sOut), Math.Min(r0 + cnt, (n + 1) * _sOut)));
        }
        else
        {
            int blocks = Math.Min(cnt, 8 * Environment.ProcessorCount), per = (cnt + blocks - 1) / blocks;
            Parallel.For(0, blocks, bi => Range(r0 + bi * per, Math.Min(r0 + cnt, r0 + (bi + 1) * per)));
        }
    }

    private static void Unravel(int flat, int[] dims, int[] idx)
    {
        for (int i = dims.Length - 1; i >= 0; i--) { idx[i] = flat % dims[i]; flat /= dims[i]; }
    }
}
