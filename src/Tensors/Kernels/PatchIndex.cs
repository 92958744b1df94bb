using System.Numerics;

namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// Index arithmetic of a convolution's patch (im2col) matrix, shared by the CPU kernel (<see cref="Conv"/>) and the
/// CUDA lowering: rows are output positions <c>[n, o1..od]</c>, each row holds (group, kernel position, channel)
/// columns; lhs is contiguous <c>(N, S…, C)</c>. Also the col2im scatter of patch rows back onto lhs.
/// </summary>
internal sealed class PatchIndex
{
    private readonly int _d, _g, _cg, _kp, _f, _sOut, _imageStride;
    private readonly int[] _inSp, _outSp, _strides, _lo, _inStrides;
    private readonly int[][] _kOff;

    /// <summary>Spatial sizes of lhs/output/kernel, lhs channels, groups, strides, low padding and kernel dilation.</summary>
    public PatchIndex(int[] inSp, int c, int[] kSp, int g, int[] outSp, int[] strides, int[] lo, int[] dil)
    {
        _d = strides.Length;
        _g = g; _cg = c / g;
        _inSp = inSp; _outSp = outSp; _strides = strides; _lo = lo;
        _kp = kSp.Aggregate(1, (a, b) => a * b);
        _f = _kp * _cg;
        _sOut = outSp.Aggregate(1, (a, b) => a * b);
        _inStrides = new int[_d];
        int acc = c;
        for (int i = _d - 1; i >= 0; i--) { _inStrides[i] = acc; acc *= inSp[i]; }
        _imageStride = acc;
        _kOff = new int[_kp][];
        var k = new int[_d];
        for (int kp = 0; kp < _kp; kp++)
        {
            Unravel(kp, kSp, k);
            _kOff[kp] = Enumerable.Range(0, _d).Select(i => k[i] * dil[i]).ToArray();
        }
    }

    /// <summary>Element offset in lhs of the channel vector under kernel position kp for row [n, o1..od]; −1 in the padding.</summary>
    public int Offset(int[] row, int kp)
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

    /// <summary>Scatter-adds patch rows r0..r0+cnt (laid out row, group, kernel position, channel) onto contiguous lhs
    /// <paramref name="dx"/>; one thread per image keeps each entry's order of additions fixed (deterministic).</summary>
    public void Col2Im<T>(T[] src, int r0, int cnt, T[] dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int gf = _g * _f;
        ForRows(r0, cnt, perImage: true, (r, row) =>
        {
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

    /// <summary>Runs body(r, [n, o1..od]) for rows r0..r0+cnt: in parallel over images (perImage) or row blocks.</summary>
    public void ForRows(int r0, int cnt, bool perImage, Action<int, int[]> body)
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

    /// <summary>C-order multi-index of <paramref name="flat"/> in <paramref name="dims"/>.</summary>
    public static void Unravel(int flat, int[] dims, int[] idx)
    {
        for (int i = dims.Length - 1; i >= 0; i--) { idx[i] = flat % dims[i]; flat /= dims[i]; }
    }
}
