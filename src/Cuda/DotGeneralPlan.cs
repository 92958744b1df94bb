using NeuralTangents.Tensors;

namespace NeuralTangents.Cuda;

/// <summary>
/// <c>lax.dot_general</c> canonicalised to a row-major batched GEMM: lhs viewed as (B, M, K) = (batch, free,
/// contracting) axes, rhs as (B, K, N) = (batch, contracting, free), output (B, M, N) reshaped to
/// batch ++ lhs free ++ rhs free (free axes in their original order), as JAX orders them.
/// </summary>
internal sealed class DotGeneralPlan
{
    public int[] LhsBatch { get; }
    public int[] LhsContract { get; }
    public int[] LhsFree { get; }
    public int[] RhsBatch { get; }
    public int[] RhsContract { get; }
    public int[] RhsFree { get; }
    public int Batch { get; }
    public int M { get; }
    public int N { get; }
    public int K { get; }
    public Shape OutputShape { get; }

    private DotGeneralPlan(Shape lhs, Shape rhs, int[] lb, int[] lc, int[] rb, int[] rc)
    {
        LhsBatch = lb; LhsContract = lc; RhsBatch = rb; RhsContract = rc;
        LhsFree = Enumerable.Range(0, lhs.Rank).Except(lb).Except(lc).ToArray();
        RhsFree = Enumerable.Range(0, rhs.Rank).Except(rb).Except(rc).ToArray();
        Batch = Product(lhs, lb);
        K = Product(lhs, lc);
        M = Product(lhs, LhsFree);
        N = Product(rhs, RhsFree);
        OutputShape = new Shape(lb.Select(i => lhs[i]).Concat(LhsFree.Select(i => lhs[i])).Concat(RhsFree.Select(i => rhs[i])));
    }

    /// <summary>Validates the dimension numbers (negative axes allowed) against the shapes.</summary>
    /// <exception cref="ArgumentException">Mismatched counts, repeated axes or differing sizes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis is outside the operand's rank.</exception>
    public static DotGeneralPlan Create(Shape lhs, Shape rhs, int[] lhsContract, int[] rhsContract, int[] lhsBatch, int[] rhsBatch)
    {
        ArgumentNullException.ThrowIfNull(lhsContract);
        ArgumentNullException.ThrowIfNull(rhsContract);
        ArgumentNullException.ThrowIfNull(lhsBatch);
        ArgumentNullException.ThrowIfNull(rhsBatch);
        if (lhsContract.Length != rhsContract.Length)
            throw new ArgumentException($"dot_general: lhs has {lhsContract.Length} contracting dims [{Join(lhsContract)}] but rhs has {rhsContract.Length} [{Join(rhsContract)}]", nameof(rhsContract));
        if (lhsBatch.Length != rhsBatch.Length)
            throw new ArgumentException($"dot_general: lhs has {lhsBatch.Length} batch dims [{Join(lhsBatch)}] but rhs has {rhsBatch.Length} [{Join(rhsBatch)}]", nameof(rhsBatch));
        var lc = lhsContract.Select(a => lhs.NormalizeAxis(a, nameof(lhsContract))).ToArray();
        var rc = rhsContract.Select(a => rhs.NormalizeAxis(a, nameof(rhsContract))).ToArray();
        var lb = lhsBatch.Select(a => lhs.NormalizeAxis(a, nameof(lhsBatch))).ToArray();
        var rb = rhsBatch.Select(a => rhs.NormalizeAxis(a, nameof(rhsBatch))).ToArray();
        CheckDistinct(lb.Concat(lc), lhs, "lhs", nameof(lhsContract));
        CheckDistinct(rb.Concat(rc), rhs, "rhs", nameof(rhsContract));
        for (int i = 0; i < lc.Length; i++)
            if (lhs[lc[i]] != rhs[rc[i]])
                throw new ArgumentException($"dot_general: contracting dim pair {i} has lhs axis {lc[i]} of size {lhs[lc[i]]} (shape {lhs}) but rhs axis {rc[i]} of size {rhs[rc[i]]} (shape {rhs})", nameof(rhsContract));
        for (int i = 0; i < lb.Length; i++)
            if (lhs[lb[i]] != rhs[rb[i]])
                throw new ArgumentException($"dot_general: batch dim pair {i} has lhs axis {lb[i]} of size {lhs[lb[i]]} (shape {lhs}) but rhs axis {rb[i]} of size {rhs[rb[i]]} (shape {rhs})", nameof(rhsBatch));
        return new DotGeneralPlan(lhs, rhs, lb, lc, rb, rc);
    }

    /// <summary>
    /// lhs as contiguous row-major matrices, either (B, M, K) or, when that layout is already in memory without a
    /// copy, (B, K, M) with <c>Trans</c> set.
    /// </summary>
    public (Tensor Data, bool Trans) PrepareLhs(Tensor lhs) => Prepare(lhs, [.. LhsBatch, .. LhsFree, .. LhsContract], [.. LhsBatch, .. LhsContract, .. LhsFree]);

    /// <summary>rhs as contiguous (B, K, N), or (B, N, K) with <c>Trans</c> set when that needs no copy.</summary>
    public (Tensor Data, bool Trans) PrepareRhs(Tensor rhs) => Prepare(rhs, [.. RhsBatch, .. RhsContract, .. RhsFree], [.. RhsBatch, .. RhsFree, .. RhsContract]);

    private static (Tensor, bool) Prepare(Tensor t, int[] plain, int[] transposed)
    {
        var p = t.Transpose(plain);
        if (p.IsContiguous) return (p, false);
        var q = t.Transpose(transposed);
        return q.IsContiguous ? (q, true) : (p.Contiguous(), false);
    }

    private static int Product(Shape s, int[] axes)
    {
        long p = 1;
        foreach (var a in axes) p *= s[a];
        return checked((int)p);
    }

    private static void CheckDistinct(IEnumerable<int> axes, Shape shape, string side, string param)
    {
        var list = axes.ToList();
        var dup = list.GroupBy(a => a).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
            throw new ArgumentException($"dot_general: {side} axis {dup.Key} of shape {shape} appears more than once among batch and contracting dims", param);
    }

    private static string Join(int[] a) => string.Join(", ", a);
}
