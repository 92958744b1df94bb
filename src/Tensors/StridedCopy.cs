using System.Runtime.CompilerServices;
namespace NeuralTangents.Tensors;

/// <summary>Copies a strided view into contiguous C-ordered memory; the innermost axis is a tight loop.</summary>
internal static class StridedCopy
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 (see Blas.Tile)
    public static void Copy<T>(T[] src, int offset, int[] strides, int[] dims, Span<T> dst)
    {
        int rank = dims.Length;
        int total = 1;
        foreach (var d in dims) total *= d;
        if (total == 0) return;
        if (rank == 0) { dst[0] = src[offset]; return; }
        int inner = dims[rank - 1], innerStride = strides[rank - 1];
        var idx = new int[rank];
        int o = offset, w = 0;
        int outer = total / inner;
        for (int r = 0; r < outer; r++)
        {
            if (innerStride == 1) src.AsSpan(o, inner).CopyTo(dst.Slice(w, inner));
            else if (innerStride == 0) dst.Slice(w, inner).Fill(src[o]);
            else
            {
                int p = o;
                for (int k = 0; k < inner; k++, p += innerStride) dst[w + k] = src[p];
            }
            w += inner;
            for (int ax = rank - 2; ax >= 0; ax--)
            {
                idx[ax]++;
                o += strides[ax];
                if (idx[ax] < dims[ax]) break;
                o -= strides[ax] * dims[ax];
                idx[ax] = 0;
            }
        }
    }
}
