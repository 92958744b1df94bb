using System.Numerics;

namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// <c>lax.dot_general</c> on the CPU: operands are viewed as (batch, free, contract) matrices — as strided views when
/// their layout allows, otherwise as contiguous copies — and multiplied by one batched GEMM.
/// </summary>
internal static class DotGeneral
{
    /// <summary>Output shape: batch sizes, then lhs free sizes, then rhs free sizes.</summary>
    /// <exception cref="ArgumentException">The dimension numbers do not fit the shapes.</exception>
    internal static Shape InferShape(Shape lhs, Shape rhs, DotDimensionNumbers d)
    {
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(d.LhsContracting, nameof(d));
        ArgumentNullException.ThrowIfNull(d.RhsContracting, nameof(d));
        ArgumentNullException.ThrowIfNull(d.LhsBatch, nameof(d));
        ArgumentNullException.ThrowIfNull(d.RhsBatch, nameof(d));
        if (d.LhsContracting.Length != d.RhsContracting.Length)
            throw new ArgumentException($"dot_general: lhs and rhs must have the same number of contracting dimensions, got {A(d.LhsContracting)} and {A(d.RhsContracting)}", nameof(d));
        if (d.LhsBatch.Length != d.RhsBatch.Length)
            throw new ArgumentException($"dot_general: lhs and rhs must have the same number of batch dimensions, got {A(d.LhsBatch)} and {A(d.RhsBatch)}", nameof(d));
        CheckAxes("lhs", lhs, d.LhsBatch, d.LhsContracting);
        CheckAxes("rhs", rhs, d.RhsBatch, d.RhsContracting);
        for (int i = 0; i < d.LhsBatch.Length; i++)
            if (lhs[d.LhsBatch[i]] != rhs[d.RhsBatch[i]])
                throw new ArgumentException($"dot_general: batch dimensions must have equal sizes, got {lhs} axes {A(d.LhsBatch)} and {rhs} axes {A(d.RhsBatch)}", nameof(d));
        for (int i = 0; i < d.LhsContracting.Length; i++)
            if (lhs[d.LhsContracting[i]] != rhs[d.RhsContracting[i]])
                throw new ArgumentException($"dot_general: contracting dimensions must have equal sizes, got {lhs} axes {A(d.LhsContracting)} and {rhs} axes {A(d.RhsContracting)}", nameof(d));
        var dims = d.LhsBatch.Select(a => lhs[a])
            .Concat(Free(lhs.Rank, d.LhsBatch, d.LhsContracting).Select(a => lhs[a]))
            .Concat(Free(rhs.Rank, d.RhsBatch, d.RhsContracting).Select(a => rhs[a]));
        return new Shape(dims);
    }

    private static string A(int[] axes) => DotDimensionNumbers.Axes(axes);

    private static void CheckAxes(string side, Shape s, int[] batch, int[] contract)
    {
        foreach (var (kind, axes) in new[] { ("batch", batch), ("contracting", contract) })
            foreach (var a in axes)
                if (a < 0 || a >= s.Rank)
                    throw new ArgumentException($"dot_general: {side} {kind} axis {a} is out of range for shape {s} of rank {s.Rank}", "d");
        var all = batch.Concat(contract).ToArray();
        if (all.Distinct().Count() != all.Length)
            throw new ArgumentException($"dot_general: {side} axes must not repeat, got batch {A(batch)} and contracting {A(contract)} for shape {s}", "d");
    }

    private static int[] Free(int rank, int[] batch, int[] contract) =>
        Enumerable.Range(0, rank).Where(a => !batch.Contains(a) && !contract.Contains(a)).ToArray();

    /// <summary><c>lax.dot_general(lhs, rhs, d)</c>; a rank-0 result is a scalar tensor.</summary>
    /// <exception cref="ArgumentException">Dtypes differ or the dimension numbers do not fit the shapes.</exception>
    internal static Tensor Compute(Tensor lhs, Tensor rhs, DotDimensionNumbers d)
    {
        ArgumentNullException.ThrowIfNull(lhs);
        ArgumentNullException.ThrowIfNull(rhs);
        var outShape = InferShape(lhs.Shape, rhs.Shape, d);
        if (lhs.DType != rhs.DType)
            throw new ArgumentException($"dot_general: operands must have the same dtype, got lhs {lhs.DType.Name()}{lhs.Shape} and rhs {rhs.DType.Name()}{rhs.Shape}", nameof(rhs));
        return lhs.DType == DType.Float32 ? Compute<float>(lhs, rhs, d, outShape) : Compute<double>(lhs, rhs, d, outShape);
    }

    private static Tensor Compute<T>(Tensor lhs, Tensor rhs, DotDimensionNumbers d, Shape outShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = BufferPool.Rent<T>(outShape.Size);   // accumulate: false overwrites (cleared when k = 0)
        Multiply(lhs, rhs, d, c, accumulate: false, upperOnly: false);
        return Tensor.Wrap(c, outShape);
    }

    /// <summary>
    /// <c>c (+)= dot_general(lhs, rhs, d)</c> into a contiguous buffer of the output shape (batch, lhs free, rhs free).
    /// <paramref name="upperOnly"/> (lhs and rhs the same tensor with the same axes, so every batch is a Gram
    /// <c>X·Xᵀ</c>): the entries on and above each batch's diagonal are computed, one GEMM per row block against
    /// the columns from that block on (about (nb+1)/(2nb) of the multiply-adds); below the diagonal, entries inside the
    /// diagonal blocks are computed too and the others left as they were: the caller mirrors. An element's value
    /// does not depend on the blocking (each is reduced over k in the same order).
    /// </summary>
    /// <exception cref="ArgumentException">Dtypes or dimension numbers do not fit, or the buffer has the wrong length.</exception>
    internal static void Multiply<T>(Tensor lhs, Tensor rhs, DotDimensionNumbers d, T[] c, bool accumulate, bool upperOnly)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var outShape = InferShape(lhs.Shape, rhs.Shape, d);
        if (lhs.DType != rhs.DType || lhs.Storage is not T[])
            throw new ArgumentException($"dot_general: operands must both have the buffer's dtype, got lhs {lhs.DType.Name()}{lhs.Shape} and rhs {rhs.DType.Name()}{rhs.Shape}", nameof(rhs));
        if (c.Length != outShape.Size) throw new ArgumentException($"dot_general: output buffer has {c.Length} elements, expected {outShape.Size} for {outShape}", nameof(c));
        var lFree = Free(lhs.Rank, d.LhsBatch, d.LhsContracting);
        var rFree = Free(rhs.Rank, d.RhsBatch, d.RhsContracting);
        int bs = Prod(lhs, d.LhsBatch), m = Prod(lhs, lFree), n = Prod(rhs, rFree), k = Prod(lhs, d.LhsContracting);
        if (upperOnly && m != n) throw new ArgumentException($"dot_general: upperOnly needs a square result per batch, got {m}x{n}", nameof(upperOnly));
        if (c.Length == 0 || k == 0)
        {
            if (!accumulate) Array.Clear(c);
            return;
        }

        var (lm, rm, blc, brc, split) = Choose(lhs, rhs, d, lFree, rFree);
        if (split is { } sp)
        {
            // Outer contracting axes looped over, the inner ones one GEMM each: no operand copy.
            var idx = new int[sp.Lhs.Length];
            int count = sp.Lhs.Aggregate(1, (a, ax) => a * lhs.Shape[ax]);
            for (int it = 0; it < count; it++)
            {
                int lo = lhs.Offset, ro = rhs.Offset;
                for (int j = 0; j < idx.Length; j++) { lo += idx[j] * lhs.Strides[sp.Lhs[j]]; ro += idx[j] * rhs.Strides[sp.Rhs[j]]; }
                var l = lm with { Source = new Tensor(lhs.Storage, lhs.Shape, lhs.Strides, lo) };
                var r = rm with { Source = new Tensor(rhs.Storage, rhs.Shape, rhs.Strides, ro) };
                Gemm(l, r, bs, m, n, Prod(lhs, blc), c, accumulate || it > 0, upperOnly);
                for (int j = idx.Length - 1; j >= 0; j--)
                {
                    if (++idx[j] < lhs.Shape[sp.Lhs[j]]) break;
                    idx[j] = 0;
                }
            }
            return;
        }
        bool lCopied = !lm.Ok;
        if (lCopied) lm = Matrix.Copy(lhs, d.LhsBatch, lFree, blc, rowsFirst: true);
        if (!rm.Ok)
            rm = lCopied && ReferenceEquals(lhs, rhs) && d.LhsBatch.SequenceEqual(d.RhsBatch) && blc.SequenceEqual(brc)
                ? lm with { Trans = true }   // a Gram X·Xᵀ: the (batch, free, contract) copy read transposed is op(B)
                : Matrix.Copy(rhs, d.RhsBatch, rFree, brc, rowsFirst: false);
        Gemm(lm, rm, bs, m, n, k, c, accumulate, upperOnly);
    }

    /// <summary>An operand copy at least this large is avoided, where the layout allows, by looping over the outer
    /// contracting axes (<see cref="Split"/>): a JacobianContraction leaf whose example axis sits between its
    /// contracting axes (the seed CNN's Dense(10) Jacobian, 165 MiB) was copied whole for one GEMM.</summary>
    internal const long MinSplitCopyBytes = 4L << 20;

    /// <summary>Inner contraction depth a split needs, so each of its GEMMs still runs at GEMM rate.</summary>
    internal const int MinSplitDepth = 1024;

    /// <summary>Contracting axes looped over (outer), per side, in the same order.</summary>
    private sealed record Split(int[] Lhs, int[] Rhs);

    /// <summary>
    /// How the operands are read: as strided views when a joint order of the contracting axes allows; else, when the
    /// copy would be large, with the outer contracting axes looped over and the inner ones viewed (a split); else
    /// copies (a Matrix with Ok false is copied by the caller). Returns the contracting axes the matrices span.
    /// </summary>
    private static (Matrix L, Matrix R, int[] Lc, int[] Rc, Split? Split) Choose(Tensor lhs, Tensor rhs, DotDimensionNumbers d, int[] lFree, int[] rFree)
    {
        // Contracting pairs may be reordered jointly; try orders that let both sides stay views.
        int nc = d.LhsContracting.Length;
        var orders = new List<int[]>
        {
            Enumerable.Range(0, nc).ToArray(),
            Enumerable.Range(0, nc).OrderByDescending(i => lhs.Strides[d.LhsContracting[i]]).ToArray(),
            Enumerable.Range(0, nc).OrderByDescending(i => rhs.Strides[d.RhsContracting[i]]).ToArray(),
        };
        // Copies are made only for the best order (a rejected order's copy would be a wasted operand-sized buffer).
        Matrix lm = default, rm = default;
        int[] blc = d.LhsContracting, brc = d.RhsContracting;
        int bestCopies = int.MaxValue;
        foreach (var ord in orders)
        {
            var lc = ord.Select(i => d.LhsContracting[i]).ToArray();
            var rc = ord.Select(i => d.RhsContracting[i]).ToArray();
            var l = Matrix.View(lhs, d.LhsBatch, lFree, lc, rowsFirst: true);
            var r = Matrix.View(rhs, d.RhsBatch, rFree, rc, rowsFirst: false);
            int copies = (l.Ok ? 0 : 1) + (r.Ok ? 0 : 1);
            if (copies < bestCopies) { bestCopies = copies; lm = l; rm = r; blc = lc; brc = rc; }
            if (copies == 0) break;
        }
        if (bestCopies == 0 || CopyElements(lhs, rhs, d, lm, rm, blc, brc) * lhs.DType.SizeOf() < MinSplitCopyBytes)
            return (lm, rm, blc, brc, null);
        (Matrix L, Matrix R, int[] Lc, int[] Rc, Split S)? best = null;
        int bestCount = int.MaxValue;
        foreach (var ord in orders)
            for (int s = 1; s < nc; s++)
            {
                var lc = ord[s..].Select(i => d.LhsContracting[i]).ToArray();
                int depth = Prod(lhs, lc);
                if (depth < MinSplitDepth) break;   // deeper splits only get shallower
                var rc = ord[s..].Select(i => d.RhsContracting[i]).ToArray();
                var l = Matrix.View(lhs, d.LhsBatch, lFree, lc, rowsFirst: true);
                var r = Matrix.View(rhs, d.RhsBatch, rFree, rc, rowsFirst: false);
                if (!l.Ok || !r.Ok) continue;
                int count = Prod(lhs, d.LhsContracting) / Math.Max(1, depth);
                if (count < bestCount)
                {
                    bestCount = count;
                    best = (l, r, lc, rc, new Split(ord[..s].Select(i => d.LhsContracting[i]).ToArray(), ord[..s].Select(i => d.RhsContracting[i]).ToArray()));
                }
                break;
            }
        return best is { } b ? (b.L, b.R, b.Lc, b.Rc, b.S) : (lm, rm, blc, brc, null);
    }

    /// <summary>Elements the copies of <see cref="Multiply{T}"/> hold (a Gram's one copy serves both sides).</summary>
    private static long CopyElements(Tensor lhs, Tensor rhs, DotDimensionNumbers d, Matrix lm, Matrix rm, int[] blc, int[] brc) =>
        (lm.Ok ? 0L : lhs.Shape.Size) +
        (rm.Ok || (!lm.Ok && ReferenceEquals(lhs, rhs) && d.LhsBatch.SequenceEqual(d.RhsBatch) && blc.SequenceEqual(brc)) ? 0L : rhs.Shape.Size);

    /// <summary>
    /// Bytes of the operand copies <see cref="Multiply{T}"/> makes for these operands (their shapes and strides only
    /// are read: memory estimates pass tensors over empty storage laid out as the real ones will be); 0 when both are
    /// read as views, directly or split.
    /// </summary>
    internal static double OperandCopyBytes(Tensor lhs, Tensor rhs, DotDimensionNumbers d)
    {
        var lFree = Free(lhs.Rank, d.LhsBatch, d.LhsContracting);
        var rFree = Free(rhs.Rank, d.RhsBatch, d.RhsContracting);
        var (lm, rm, blc, brc, split) = Choose(lhs, rhs, d, lFree, rFree);
        return split is not null ? 0 : (double)CopyElements(lhs, rhs, d, lm, rm, blc, brc) * lhs.DType.SizeOf();
    }

    /// <summary>The batched GEMM of <paramref name="lm"/>·<paramref name="rm"/> into c (upper triangles only when asked).</summary>
    private static void Gemm<T>(Matrix lm, Matrix rm, int bs, int m, int n, int k, T[] c, bool accumulate, bool upperOnly)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var la = (T[])lm.Source.Storage;
        var ra = (T[])rm.Source.Storage;
        if (!upperOnly)
        {
            Blas.BatchedGemm<T>(bs, m, n, k,
                la.AsSpan(lm.Source.Offset), lm.Ld, lm.BatchStride, lm.Trans,
                ra.AsSpan(rm.Source.Offset), rm.Ld, rm.BatchStride, rm.Trans,
                c, n, m * n, accumulate);
            return;
        }
        // Row blocks of at least ~128 rows (GEMM-efficient), at most 8.
        int nb = Math.Clamp(m / 128, 1, 8), rows = (m + nb - 1) / nb;
        for (int i0 = 0; i0 < m; i0 += rows)
        {
            int mi = Math.Min(rows, m - i0);
            // Row i0 of op(A): offset i0·ld (stored as op(A)) or i0 (stored transposed); column i0 of op(B) likewise.
            int aOff = lm.Source.Offset + (lm.Trans ? i0 : i0 * lm.Ld), bOff = rm.Source.Offset + (rm.Trans ? i0 * rm.Ld : i0);
            Blas.BatchedGemm<T>(bs, mi, n - i0, k,
                la.AsSpan(aOff), lm.Ld, lm.BatchStride, lm.Trans,
                ra.AsSpan(bOff), rm.Ld, rm.BatchStride, rm.Trans,
                c.AsSpan(i0 * n + i0), n, m * n, accumulate);
        }
    }

    private static int Prod(Tensor t, int[] axes)
    {
        int p = 1;
        foreach (var a in axes) p *= t.Shape[a];
        return p;
    }

    /// <summary>
    /// A tensor seen as a batch of matrices. Rows are the free axes for lhs (op(A) is free×contract) and the contracting
    /// axes for rhs (op(B) is contract×free). <see cref="Trans"/> says whether the stored matrix is op(X)ᵀ.
    /// </summary>
    private readonly record struct Matrix(bool Ok, Tensor Source, int BatchStride, int Ld, bool Trans)
    {
        public static Matrix View(Tensor t, int[] batch, int[] free, int[] contract, bool rowsFirst)
        {
            if (!Merge(t, batch, out var sb) || !Merge(t, free, out var sf) || !Merge(t, contract, out var sc))
                return default;
            int rows = rowsFirst ? Prod(t, free) : Prod(t, contract), cols = rowsFirst ? Prod(t, contract) : Prod(t, free);
            int sr = rowsFirst ? sf : sc, scol = rowsFirst ? sc : sf;
            if (Prod(t, batch) == 1) sb = 0;
            // Stored as op(X) (row stride = ld, unit column stride) or as op(X)ᵀ (unit row stride).
            if (scol == 1 || cols == 1) return new Matrix(true, t, sb, rows == 1 ? 0 : sr, false);
            if (sr == 1 || rows == 1) return new Matrix(true, t, sb, cols == 1 ? 0 : scol, true);
            return default;
        }

        public static Matrix Copy(Tensor t, int[] batch, int[] free, int[] contract, bool rowsFirst)
        {
            var perm = batch.Concat(rowsFirst ? free : contract).Concat(rowsFirst ? contract : free).ToArray();
            var c = t.Transpose(perm).Contiguous();
            int rows = rowsFirst ? Prod(t, free) : Prod(t, contract), cols = rowsFirst ? Prod(t, contract) : Prod(t, free);
            return new Matrix(true, c, rows * cols, cols, false);
        }

    }

    /// <summary>Whether the axes (in this order) form one uniformly strided axis; its stride when they do (size-1 axes
    /// ignored). Shared with <see cref="NarrowDot"/>.</summary>
    internal static bool Merge(Tensor t, int[] axes, out int stride)
    {
        stride = 0;
        int expected = -1;
        for (int i = axes.Length - 1; i >= 0; i--)
        {
            int size = t.Shape[axes[i]], s = t.Strides[axes[i]];
            if (size == 1) continue;
            if (s < 0) return false;
            if (expected < 0) stride = s;
            else if (s != expected) return false;
            expected = s * size;
        }
        return true;
    }
}
