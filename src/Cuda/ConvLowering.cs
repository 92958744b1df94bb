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
    private readonly int _n, _c, _o, _g, _cg, _og, _kp, _f, _gf, _rows, _imageStride;
    private readonly PatchIndex _index;

    /// <summary>Sizes of a convolution already validated by <c>Conv.InferShape</c>.</summary>
    public ConvLowering(Shape lhs, Shape rhs, Shape outShape, ConvParams p)
    {
        int d = p.Strides.Length;
        _n = lhs[0]; _c = lhs[d + 1]; _o = rhs[d + 1]; _g = p.FeatureGroupCount;
        _cg = _c / _g; _og = _o / _g;
        var inSp = Enumerable.Range(1, d).Select(i => lhs[i]).ToArray();
        var outSp = Enumerable.Range(1, d).Select(i => outShape[i]).ToArray();
        var kSp = Enumerable.Range(0, d).Select(i => rhs[i]).ToArray();
        _kp = kSp.Aggregate(1, (a, b) => a * b);
        _f = _kp * _cg;
        _gf = _g * _f;
        _rows = _n * outSp.Aggregate(1, (a, b) => a * b);
        _imageStride = inSp.Aggregate(_c, (a, b) => a * b);
        _index = new PatchIndex(inSp, _c, kSp, _g, outSp, p.Strides, p.Padding.Select(x => x.Lo).ToArray(), p.RhsDilation);
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
            _index.Col2Im(dp, r0, cnt, dx);
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
        _index.ForRows(r0, cnt, perImage: false, (r, row) =>
        {
            var d = dst.AsSpan((r - r0) * _gf, _gf);
            for (int kp = 0; kp < _kp; kp++)
            {
                int off = _index.Offset(row, kp);
                for (int g = 0; g < _g; g++)
                {
                    var seg = d.Slice(g * _f + kp * _cg, _cg);
                    if (off < 0) seg.Clear();
                    else src.AsSpan(xOff + off + g * _cg, _cg).CopyTo(seg);
                }
            }
        });
    }
}
