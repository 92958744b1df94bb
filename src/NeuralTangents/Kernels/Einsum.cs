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
/// </summary>
internal static class Einsum
{
    public sealed record Operand(Tensor Value, int[] Ids);

    /// <summary>Largest operand count whose contraction order is searched exhaustively (n = 5: 180 sequences).</summary>
    public const int ExhaustiveLimit = 5;

    public static Tensor Contract(IReadOnlyList<Operand> operands, int[] output)
    {
        foreach (var o in operands)
        {
            if (o.Ids.Length != o.Value.Rank) throw new ArgumentException($"einsum: {o.Ids.Length} ids for an operand of shape {o.Value.Shape}");
            if (o.Ids.Distinct().Count() != o.Ids.Length) throw new ArgumentException("einsum: repeated id within one operand");
        }
        var sizes = Sizes(operands.Select(o => (o.Ids, o.Value.Shape)));
        var ops = operands.ToList();
        for (int k = 0; k < ops.Count; k++) ops[k] = SumPrivate(ops, k, output);
        var order = Order(ops.Select(o => o.Ids).ToList(), sizes, output).Steps;
        foreach (var (bi, bj) in order)
        {
            var a = ops[bi]; var b = ops[bj];
            ops.RemoveAt(bj); ops.RemoveAt(bi);
            var (batch, contract) = Split(a.Ids, b.Ids, output, ops.Select(o => o.Ids));
            ops.Add(new Operand(Pair(a, b, batch, contract), ResultIds(a.Ids, b.Ids, batch)));
            ops[^1] = SumPrivate(ops, ops.Count - 1, output);
        }
        var last = ops[0];
        var missing = output.Where(id => !last.Ids.Contains(id)).ToArray();
        if (missing.Length > 0) throw new ArgumentException($"einsum: output ids [{string.Join(", ", missing)}] appear in no operand");
        return last.Value.Transpose(output.Select(id => Array.IndexOf(last.Ids, id)).ToArray()).Contiguous();
    }

    /// <summary>One pairwise step: a <c>dot_general</c>, or an element-wise product when nothing is contracted and both
    /// operands carry the same ids (a batched 1×1 GEMM per element would be far slower).</summary>
    private static Tensor Pair(Operand a, Operand b, int[] batch, int[] contract)
    {
        if (contract.Length == 0 && a.Ids.Length == b.Ids.Length && batch.Length == a.Ids.Length)
        {
            // Result ids are `batch` (in a's order, as Split keeps it): align b to a and multiply.
            var bt = b.Value.Transpose(a.Ids.Select(id => Array.IndexOf(b.Ids, id)).ToArray());
            return Elementwise.Binary(BinaryOp.Mul, a.Value, bt);
        }
        var dims = new DotDimensionNumbers(contract.Select(id => Array.IndexOf(a.Ids, id)).ToArray(), contract.Select(id => Array.IndexOf(b.Ids, id)).ToArray(),
            batch.Select(id => Array.IndexOf(a.Ids, id)).ToArray(), batch.Select(id => Array.IndexOf(b.Ids, id)).ToArray());
        return SymmetricDot.TryDotGeneral(a.Value, b.Value, dims) ?? ComputeBackend.Current.DotGeneral(a.Value, b.Value, dims);
    }

    /// <summary>Multiply-adds the same contraction order would spend, from shapes only (for the AUTO cost model).</summary>
    public static double Cost(IReadOnlyList<(int[] Ids, Shape Shape)> operands, int[] output)
    {
        var sizes = Sizes(operands);
        var ids = operands.Select(o => o.Ids).ToList();
        for (int k = 0; k < ids.Count; k++) ids[k] = ids[k].Where(id => output.Contains(id) || ids.Where((_, i) => i != k).Any(x => x.Contains(id))).ToArray();
        return Order(ids, sizes, output).Cost;
    }

    /// <summary>The pairwise contraction sequence (indices into the shrinking operand list; the result is appended)
    /// and its total multiply-adds: optimal up to <see cref="ExhaustiveLimit"/> operands, greedy beyond.</summary>
    private static (List<(int, int)> Steps, double Cost) Order(List<int[]> ids, Dictionary<int, int> sizes, int[] output)
    {
        if (ids.Count <= 1) return (new List<(int, int)>(), 0);
        if (ids.Count <= ExhaustiveLimit)
        {
            (List<(int, int)>, double) best = (new List<(int, int)>(), double.PositiveInfinity);
            for (int i = 0; i < ids.Count; i++)
                for (int j = i + 1; j < ids.Count; j++)
                {
                    var (rest, cost) = Step(ids, i, j, sizes, output);
                    var (steps, tail) = Order(rest, sizes, output);
                    if (cost + tail < best.Item2) best = (steps.Prepend((i, j)).ToList(), cost + tail);
                }
            return best;
        }
        var (bi, bj, _) = CheapestPair(ids, sizes);
        var (next, c) = Step(ids, bi, bj, sizes, output);
        var (more, t) = Order(next, sizes, output);
        return (more.Prepend((bi, bj)).ToList(), c + t);
    }

    /// <summary>The operand ids after contracting pair (i, j) (private ids of the result dropped) and the pair's cost.</summary>
    private static (List<int[]>, double) Step(List<int[]> ids, int i, int j, Dictionary<int, int> sizes, int[] output)
    {
        var rest = ids.Where((_, k) => k != i && k != j).ToList();
        double cost = ids[i].Union(ids[j]).Aggregate(1.0, (acc, id) => acc * sizes[id]);
        var (batch, _) = Split(ids[i], ids[j], output, rest);
        var r = ResultIds(ids[i], ids[j], batch);
        rest.Add(r.Where(id => output.Contains(id) || rest.Any(x => x.Contains(id))).ToArray());
        return (rest, cost);
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

    /// <summary>The pair whose contraction touches the smallest product of id sizes.</summary>
    private static (int, int, double) CheapestPair(IReadOnlyList<int[]> ids, Dictionary<int, int> sizes)
    {
        int bi = 0, bj = 1; double best = double.PositiveInfinity;
        for (int i = 0; i < ids.Count; i++)
            for (int j = i + 1; j < ids.Count; j++)
            {
                double cost = ids[i].Union(ids[j]).Aggregate(1.0, (acc, id) => acc * sizes[id]);
                if (cost < best) { best = cost; bi = i; bj = j; }
            }
        return (bi, bj, best);
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

    private static Operand SumPrivate(List<Operand> ops, int k, int[] output)
    {
        var o = ops[k];
        var elsewhere = new HashSet<int>(output.Concat(ops.Where((_, i) => i != k).SelectMany(x => x.Ids)));
        var drop = Enumerable.Range(0, o.Ids.Length).Where(i => !elsewhere.Contains(o.Ids[i])).ToArray();
        if (drop.Length == 0) return o;
        var kept = o.Ids.Where((_, i) => !drop.Contains(i)).ToArray();
        // Size-1 axes (trimmed structure axes) are dropped as a view; only real sums touch the data.
        var ones = drop.Where(i => o.Value.Shape[i] == 1).ToArray();
        var v = ones.Length > 0 ? o.Value.Squeeze(ones) : o.Value;
        var rest = drop.Where(i => o.Value.Shape[i] != 1).Select(i => i - ones.Count(j => j < i)).ToArray();
        return new Operand(rest.Length > 0 ? Reductions.Sum(v, rest) : v, kept);
    }
}
