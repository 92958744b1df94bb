namespace NeuralTangents.Kernels;

/// <summary>
/// Einstein summation over integer index ids with an explicit, cost-aware contraction order: operands are
/// contracted pairwise with <c>dot_general</c>; a pair costs the product of the sizes of every id it touches
/// (multiply-adds). Up to <see cref="ExhaustiveLimit"/> operands (an MJJMP has four) the order with the smallest
/// total cost is found by trying every pairwise sequence — greedy "cheapest pair first" can pick a cheap first
/// step that forces a huge second one (e.g. ∂f/∂y·∂y/∂w before the Gram of ∂y/∂w in a Dense layer's MJJMP: 80× more
/// work on the digits FCN); beyond that, greedy. Ids shared by the pair that are still needed by another operand or
/// by the output become batch dimensions; the others are contracted. Ids private to one operand and absent from
/// the output are summed out first. This is the contraction engine of the structured-derivatives NTK (paper §4:
/// each MJJMP is one such einsum).
/// <para>Operands with equal <see cref="Operand.Key"/>s hold the same values. A pairwise step whose operands and
/// layout repeat an earlier step (the x1 and x2 sides of a train-train MJJMP: <c>∂f/∂y·∂y/∂w</c> twice) is computed
/// once and costs nothing the second time, in the order search too.</para>
/// </summary>
internal static class Einsum
{
    /// <summary>An operand; <paramref name="Key"/> (default: the tensor itself) identifies equal values.</summary>
    public sealed record Operand(Tensor Value, int[] Ids, object? Key = null);

    /// <summary>Largest operand count whose contraction order is searched exhaustively (n = 5: 180 sequences).</summary>
    public const int ExhaustiveLimit = 5;

    /// <summary>An operand during planning: its ids and a signature of how its values were produced.</summary>
    private readonly record struct Node(int[] Ids, string Sig);

    public static Tensor Contract(IReadOnlyList<Operand> operands, int[] output)
    {
        foreach (var o in operands)
        {
            if (o.Ids.Length != o.Value.Rank) throw new ArgumentException($"einsum: {o.Ids.Length} ids for an operand of shape {o.Value.Shape}");
            if (o.Ids.Distinct().Count() != o.Ids.Length) throw new ArgumentException("einsum: repeated id within one operand");
        }
        var sizes = Sizes(operands.Select(o => (o.Ids, o.Value.Shape)));
        var nodes = Leaves(operands.Select(o => (o.Ids, o.Key ?? o.Value)).ToList(), output);
        // One tensor object per signature: equal operands stay reference-equal after their private ids are dropped,
        // so a Gram of two of them takes SymmetricDot's path.
        var bySig = new Dictionary<string, Tensor>();
        Tensor Shared(string sig, Func<Tensor> make) => bySig.TryGetValue(sig, out var t) ? t : bySig[sig] = make();
        var values = operands.Select((o, k) => Shared(nodes[k].Sig, () => Drop(o.Value, o.Ids, nodes[k].Ids))).ToList();
        var memo = new Dictionary<string, Tensor>();
        foreach (var (bi, bj) in Order(nodes, sizes, output, new HashSet<string>()).Steps)
        {
            var (a, b, va, vb) = Canonical(nodes[bi], nodes[bj], values[bi], values[bj]);
            nodes.RemoveAt(bj); nodes.RemoveAt(bi); values.RemoveAt(bj); values.RemoveAt(bi);
            var (batch, contract, pairSig, result) = PlanPair(a, b, nodes, output);
            if (!memo.TryGetValue(pairSig, out var r)) memo[pairSig] = r = Pair(a.Ids, va, b.Ids, vb, batch, contract);
            var ids = ResultIds(a.Ids, b.Ids, batch);
            nodes.Add(result);
            values.Add(Shared(result.Sig, () => Drop(r, ids, result.Ids)));
        }
        var last = nodes[0];
        var missing = output.Where(id => !last.Ids.Contains(id)).ToArray();
        if (missing.Length > 0) throw new ArgumentException($"einsum: output ids [{string.Join(", ", missing)}] appear in no operand");
        return values[0].Transpose(output.Select(id => Array.IndexOf(last.Ids, id)).ToArray()).Contiguous();
    }

    /// <summary>Multiply-adds the same contraction order would spend, from shapes only (for the AUTO cost model);
    /// <c>Key</c>s as in <see cref="Operand"/> (null: every operand distinct).</summary>
    public static double Cost(IReadOnlyList<(int[] Ids, Shape Shape, object? Key)> operands, int[] output) => Plan(operands, output).Cost;

    /// <summary>The multiply-adds of the chosen order and the elements of its largest pairwise result.</summary>
    public static (double Cost, double LargestElements) Plan(IReadOnlyList<(int[] Ids, Shape Shape, object? Key)> operands, int[] output)
    {
        var sizes = Sizes(operands.Select(o => (o.Ids, o.Shape)));
        var nodes = Leaves(operands.Select((o, k) => (o.Ids, o.Key ?? (object)k)).ToList(), output);
        var (steps, cost) = Order(nodes, sizes, output, new HashSet<string>());
        double largest = 0;
        foreach (var (i, j) in steps)
        {
            var (a, b, _, _) = Canonical(nodes[i], nodes[j], 0, 0);
            nodes.RemoveAt(j); nodes.RemoveAt(i);
            var (batch, _, _, result) = PlanPair(a, b, nodes, output);
            largest = Math.Max(largest, ResultIds(a.Ids, b.Ids, batch).Aggregate(1.0, (acc, id) => acc * sizes[id]));
            nodes.Add(result);
        }
        return (cost, largest);
    }

    /// <summary>Leaf nodes: private ids not in the output are summed out first; equal keys share a signature.</summary>
    private static List<Node> Leaves(List<(int[] Ids, object Key)> ops, int[] output)
    {
        var keys = new List<object>();
        var nodes = new List<Node>();
        for (int k = 0; k < ops.Count; k++)
        {
            int ki = keys.FindIndex(x => Equals(x, ops[k].Key));
            if (ki < 0) { keys.Add(ops[k].Key); ki = keys.Count - 1; }
            var kept = Kept(ops[k].Ids, output, ops.Where((_, i) => i != k).Select(o => o.Ids));
            nodes.Add(new Node(kept, $"#{ki}/{string.Join(",", kept.Select(id => Array.IndexOf(ops[k].Ids, id)))}"));
        }
        return nodes;
    }

    /// <summary>The ids of <paramref name="ids"/> still needed by the output or another operand.</summary>
    private static int[] Kept(int[] ids, int[] output, IEnumerable<int[]> others)
    {
        var needed = new HashSet<int>(output.Concat(others.SelectMany(o => o)));
        return ids.Where(needed.Contains).ToArray();
    }

    /// <summary>Sums <paramref name="value"/> (ids <paramref name="ids"/>) down to <paramref name="kept"/>; size-1
    /// axes (trimmed structure axes) are dropped as views, only real sums touch the data.</summary>
    private static Tensor Drop(Tensor value, int[] ids, int[] kept)
    {
        var drop = Enumerable.Range(0, ids.Length).Where(i => !kept.Contains(ids[i])).ToArray();
        if (drop.Length == 0) return value;
        var ones = drop.Where(i => value.Shape[i] == 1).ToArray();
        var v = ones.Length > 0 ? value.Squeeze(ones) : value;
        var rest = drop.Where(i => value.Shape[i] != 1).Select(i => i - ones.Count(j => j < i)).ToArray();
        return rest.Length > 0 ? Reductions.Sum(v, rest) : v;
    }

    /// <summary>The pair in canonical order (smaller signature first), so that a repeated step has one layout.</summary>
    private static (Node, Node, T, T) Canonical<T>(Node a, Node b, T va, T vb) =>
        string.CompareOrdinal(b.Sig, a.Sig) < 0 ? (b, a, vb, va) : (a, b, va, vb);

    /// <summary>Batch and contracted ids of a pair, its signature, and the node of its result (private ids dropped).</summary>
    private static (int[] Batch, int[] Contract, string PairSig, Node Result) PlanPair(Node a, Node b, List<Node> rest, int[] output)
    {
        var (batch, contract) = Split(a.Ids, b.Ids, output, rest.Select(n => n.Ids));
        string Pos(int[] ids, int[] of) => string.Join(",", ids.Select(id => Array.IndexOf(of, id)));
        var pairSig = $"({a.Sig}*{b.Sig}:{Pos(contract, a.Ids)};{Pos(contract, b.Ids)};{Pos(batch, a.Ids)};{Pos(batch, b.Ids)})";
        var ids = ResultIds(a.Ids, b.Ids, batch);
        var kept = Kept(ids, output, rest.Select(n => n.Ids));
        return (batch, contract, pairSig, new Node(kept, $"{pairSig}/{Pos(kept, ids)}"));
    }

    /// <summary>One pairwise step: a <c>dot_general</c>, or an element-wise product when nothing is contracted and both
    /// operands carry the same ids (a batched 1×1 GEMM per element would be far slower).</summary>
    private static Tensor Pair(int[] aIds, Tensor a, int[] bIds, Tensor b, int[] batch, int[] contract)
    {
        if (contract.Length == 0 && aIds.Length == bIds.Length && batch.Length == aIds.Length)
        {
            // Result ids are `batch` (in a's order, as Split keeps it): align b to a and multiply.
            var bt = b.Transpose(aIds.Select(id => Array.IndexOf(bIds, id)).ToArray());
            return Elementwise.Binary(BinaryOp.Mul, a, bt);
        }
        var dims = new DotDimensionNumbers(contract.Select(id => Array.IndexOf(aIds, id)).ToArray(), contract.Select(id => Array.IndexOf(bIds, id)).ToArray(),
            batch.Select(id => Array.IndexOf(aIds, id)).ToArray(), batch.Select(id => Array.IndexOf(bIds, id)).ToArray());
        return SymmetricDot.TryDotGeneral(a, b, dims) ?? ComputeBackend.Current.DotGeneral(a, b, dims);
    }

    /// <summary>The pairwise contraction sequence (indices into the shrinking operand list; the result is appended)
    /// and its total multiply-adds, a step already in <paramref name="done"/> costing nothing: optimal up to
    /// <see cref="ExhaustiveLimit"/> operands, greedy beyond.</summary>
    private static (List<(int, int)> Steps, double Cost) Order(List<Node> nodes, Dictionary<int, int> sizes, int[] output, HashSet<string> done)
    {
        if (nodes.Count <= 1) return (new List<(int, int)>(), 0);
        (List<(int, int)> Steps, double Cost) best = (new List<(int, int)>(), double.PositiveInfinity);
        var candidates = nodes.Count <= ExhaustiveLimit
            ? Enumerable.Range(0, nodes.Count).SelectMany(i => Enumerable.Range(i + 1, nodes.Count - i - 1).Select(j => (i, j))).ToList()
            : new List<(int, int)> { CheapestPair(nodes, sizes, done, output) };
        foreach (var (i, j) in candidates)
        {
            var (rest, cost, sig) = Step(nodes, i, j, sizes, output, done);
            var seen = new HashSet<string>(done) { sig };
            var (steps, tail) = Order(rest, sizes, output, seen);
            if (cost + tail < best.Cost) best = (steps.Prepend((i, j)).ToList(), cost + tail);
        }
        return best;
    }

    /// <summary>The operands after contracting pair (i, j), the pair's cost (0 when already done) and its signature.</summary>
    private static (List<Node>, double, string) Step(List<Node> nodes, int i, int j, Dictionary<int, int> sizes, int[] output, HashSet<string> done)
    {
        var rest = nodes.Where((_, k) => k != i && k != j).ToList();
        var (a, b, _, _) = Canonical(nodes[i], nodes[j], 0, 0);
        var (_, _, sig, result) = PlanPair(a, b, rest, output);
        double cost = done.Contains(sig) ? 0 : a.Ids.Union(b.Ids).Aggregate(1.0, (acc, id) => acc * sizes[id]);
        rest.Add(result);
        return (rest, cost, sig);
    }

    private static Dictionary<int, int> Sizes(IEnumerable<(int[] Ids, Shape Shape)> operands)
    {
        var sizes = new Dictionary<int, int>();
        foreach (var (ids, shape) in operands)
            for (int i = 0; i < ids.Length; i++)
            {
                if (sizes.TryGetValue(ids[i], out var s) && s != shape[i])
                    throw new ArgumentException($"einsum: id {ids[i]} has sizes {s} and {shape[i]}");
                sizes[ids[i]] = shape[i];
            }
        return sizes;
    }

    /// <summary>The pair whose contraction touches the smallest product of id sizes (greedy, beyond the exhaustive limit).</summary>
    private static (int, int) CheapestPair(List<Node> nodes, Dictionary<int, int> sizes, HashSet<string> done, int[] output)
    {
        int bi = 0, bj = 1; double best = double.PositiveInfinity;
        for (int i = 0; i < nodes.Count; i++)
            for (int j = i + 1; j < nodes.Count; j++)
            {
                double cost = Step(nodes, i, j, sizes, output, done).Item2;
                if (cost < best) { best = cost; bi = i; bj = j; }
            }
        return (bi, bj);
    }

    /// <summary>Shared ids still needed elsewhere are batch dimensions; the others are contracted.</summary>
    private static (int[] Batch, int[] Contract) Split(int[] a, int[] b, int[] output, IEnumerable<int[]> others)
    {
        var shared = a.Intersect(b).ToArray();
        var needed = new HashSet<int>(output.Concat(others.SelectMany(o => o)));
        return (shared.Where(needed.Contains).ToArray(), shared.Where(id => !needed.Contains(id)).ToArray());
    }

    private static int[] ResultIds(int[] a, int[] b, int[] batch)
    {
        var shared = a.Intersect(b).ToHashSet();
        return batch.Concat(a.Where(id => !shared.Contains(id))).Concat(b.Where(id => !shared.Contains(id))).ToArray();
    }
}
