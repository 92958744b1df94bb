using System.Numerics;

namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// <c>dot_general</c> for the per-example weight gradients of structured derivatives: one operand's free axes split
/// into outer axes and a narrow contiguous inner block (a ∂f/∂y laid out (E, basis, H, W, O), O ≤ 64) that
/// <see cref="DotGeneral"/> would copy into GEMM order (the contraction axes H, W sit between basis and O). Here it
/// stays in place: for every batch and outer index one unpacked GEMM (<see cref="Blas.GemmDirect"/>) with the
/// narrow block as B and the other operand (the im2col patches, (E, H, W, K…, C)) as A, written as
/// (batch, outer, other free, inner) and returned as a view in dot_general's axis order. Every element is reduced
/// over the contraction in the same order and with the same float32 KC-block / float64 combine numerics as the
/// packed GEMM, by exactly one thread.
/// </summary>
internal static class NarrowDot
{
    /// <summary>Widest inner block (B columns) the unpacked GEMM takes.</summary>
    private const int MaxN = 64;

    /// <summary>The result of <c>dot_general(x, y, d)</c> by the loop above, or null when the layout does not fit (or
    /// when <see cref="DotGeneral"/> would not copy anything).</summary>
    public static Tensor? TryCompute(Tensor x, Tensor y, DotDimensionNumbers d)
    {
        if (x.DType != y.DType || x.Size == 0 || y.Size == 0) return null;
        if (Merges(x, Free(x, d.LhsBatch, d.LhsContracting)) && Merges(x, d.LhsContracting)
            && Merges(y, Free(y, d.RhsBatch, d.RhsContracting)) && Merges(y, d.RhsContracting)) return null;
        return Try(x, d.LhsBatch, d.LhsContracting, y, d.RhsBatch, d.RhsContracting, narrowIsX: false)
            ?? Try(y, d.RhsBatch, d.RhsContracting, x, d.LhsBatch, d.LhsContracting, narrowIsX: true);
    }

    /// <summary>m = the free axes of <paramref name="mt"/> (merged), n = a narrow contiguous trailing block of the free axes of
    /// <paramref name="nt"/>, looping over the batch and the rest of nt's free axes.</summary>
    private static Tensor? Try(Tensor mt, int[] mBatch, int[] mContract, Tensor nt, int[] nBatch, int[] nContract, bool narrowIsX)
    {
        var mFree = Free(mt, mBatch, mContract);
        var nFree = Free(nt, nBatch, nContract);
        if (!DotGeneral.Merge(mt, mFree, out int sfm) || !DotGeneral.Merge(mt, mContract, out int skm)
            || !DotGeneral.Merge(nt, nContract, out int skn)) return null;
        // The inner block: the longest suffix of nt's free axes that is C-contiguous with unit stride and at most MaxN long.
        int split = nFree.Length, n = 1;
        while (split > 0)
        {
            int ax = nFree[split - 1], size = nt.Shape[ax];
            if (size != 1 && nt.Strides[ax] != n) break;
            if ((long)n * size > MaxN) break;
            n *= size;
            split--;
        }
        while (split < nFree.Length && nt.Shape[nFree[split]] == 1) split++;   // size-1 axes go with the outer loop
        if (n < 8 || split == nFree.Length) return null;
        var outer = nFree[..split];
        var inner = nFree[split..];
        int m = Prod(mt, mFree), k = Prod(mt, mContract), loops = Prod(nt, nBatch) * Prod(nt, outer);
        if (m < Blas.MR || k < 16) return null;
        // Z: (batch…, outer…, m free…, inner…), contiguous.
        var zDims = nBatch.Select(a => nt.Shape[a]).Concat(outer.Select(a => nt.Shape[a])).Concat(mFree.Select(a => mt.Shape[a])).Concat(inner.Select(a => nt.Shape[a])).ToArray();
        var loopAxes = nBatch.Concat(outer).ToArray();
        var loopDims = loopAxes.Select(a => nt.Shape[a]).ToArray();
        var nLoopStrides = loopAxes.Select(a => nt.Strides[a]).ToArray();
        // mt has only the batch axes among the loop axes (stride 0 along outer).
        var mLoopStrides = mBatch.Select(a => mt.Strides[a]).Concat(outer.Select(_ => 0)).ToArray();
        var z = nt.DType == DType.Float32
            ? Tensor.Wrap(Run<float>(mt, nt, loops, loopDims, mLoopStrides, nLoopStrides, m, n, k, sfm, skm, skn), new Shape(zDims))
            : Tensor.Wrap(Run<double>(mt, nt, loops, loopDims, mLoopStrides, nLoopStrides, m, n, k, sfm, skm, skn), new Shape(zDims));
        // dot_general's order: batch, x free, y free.
        int nb = nBatch.Length, no = outer.Length, nm = mFree.Length, ni = inner.Length;
        var b = Enumerable.Range(0, nb);
        var o = Enumerable.Range(nb, no);
        var mm = Enumerable.Range(nb + no, nm);
        var ii = Enumerable.Range(nb + no + nm, ni);
        var perm = narrowIsX ? b.Concat(o).Concat(ii).Concat(mm) : b.Concat(mm).Concat(o).Concat(ii);
        return z.Transpose(perm.ToArray());
    }

    private static T[] Run<T>(Tensor mt, Tensor nt, int loops, int[] loopDims, int[] mStrides, int[] nStrides,
        int m, int n, int k, int sfm, int skm, int skn) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Every (loop, m, n) block is written by a GEMM without accumulation.
        var z = BufferPool.Rent<T>((long)loops * m * n > int.MaxValue ? throw new ArgumentException("dot_general: result too large") : loops * m * n);
        T[] a = (T[])mt.Storage, b = (T[])nt.Storage;
        int dop = Blas.MaxDegreeOfParallelism;
        void One(int l, int maxDop)
        {
            int offA = mt.Offset, offB = nt.Offset, r = l;
            for (int i = loopDims.Length - 1; i >= 0; i--)
            {
                int idx = r % loopDims[i];
                r /= loopDims[i];
                offA += idx * mStrides[i];
                offB += idx * nStrides[i];
            }
            Blas.GemmDirect<T>(m, n, k, a.AsSpan(offA), sfm, skm, b.AsSpan(offB), skn, z.AsSpan(l * m * n, m * n), n, false, maxDop);
        }
        double flops = 2.0 * loops * m * n * k;
        if (dop > 1 && loops >= 2 * dop && flops >= 1 << 21)
        {
            var isa = Blas.ForceIsa;
            Parallel.For(0, loops, new ParallelOptions { MaxDegreeOfParallelism = dop }, () =>
            {
                var saved = Blas.ForceIsa;
                Blas.ForceIsa = isa;
                return saved;
            }, (l, _, saved) => { One(l, 1); return saved; }, saved => Blas.ForceIsa = saved);
        }
        else
            for (int l = 0; l < loops; l++) One(l, dop);
        return z;
    }

    private static int[] Free(Tensor t, int[] batch, int[] contract) =>
        Enumerable.Range(0, t.Rank).Where(a => !batch.Contains(a) && !contract.Contains(a)).ToArray();

    private static int Prod(Tensor t, int[] axes) => axes.Aggregate(1, (p, a) => p * t.Shape[a]);

    private static bool Merges(Tensor t, int[] axes) => DotGeneral.Merge(t, axes, out _);
}
