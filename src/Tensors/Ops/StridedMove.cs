using System.Runtime.CompilerServices;
namespace NeuralTangents.Tensors.Ops;

/// <summary>Copies between two strided layouts of the same dims (used to write blocks into pad/concatenate outputs).</summary>
internal static class StridedMove
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 (see Blas.Tile)
    public static void Copy<T>(T[] src, int srcOffset, int[] srcStrides, T[] dst, int dstOffset, int[] dstStrides, int[] dims)
    {
        int rank = dims.Length;
        foreach (var d in dims) if (d == 0) return;
        if (rank == 0) { dst[dstOffset] = src[srcOffset]; return; }
        int inner = dims[rank - 1], si = srcStrides[rank - 1], di = dstStrides[rank - 1];
        var idx = new int[rank];
        int so = srcOffset, dOff = dstOffset;
        while (true)
        {
            if (si == 1 && di == 1) src.AsSpan(so, inner).CopyTo(dst.AsSpan(dOff, inner));
            else
                for (int k = 0, p = so, q = dOff; k < inner; k++, p += si, q += di) dst[q] = src[p];
            int ax = rank - 2;
            for (; ax >= 0; ax--)
            {
                so += srcStrides[ax];
                dOff += dstStrides[ax];
                if (++idx[ax] < dims[ax]) break;
                so -= srcStrides[ax] * dims[ax];
                dOff -= dstStrides[ax] * dims[ax];
                idx[ax] = 0;
            }
            if (ax < 0) return;
        }
    }
}
