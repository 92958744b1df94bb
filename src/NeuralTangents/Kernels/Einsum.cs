namespace NeuralTangents.Kernels;

/// <summary>
/// Einstein summation over integer index ids with an explicit, cost-aware contraction order: operands are
/// contracted pairwise with <c>dot_general</c>, always choosing next the pair whose contraction costs the fewest
/// multiply-adds (the product of the sizes of every id the two operands touch). Ids shared by the pair that are
/// still needed by another operand or by the output become batch dimensions; the others are contracted. Ids
/// private to one operand and absent from the output are summed out first. This is the contraction engine of the
/// structured-derivatives NTK (paper §4: each MJJMP is one such einsum).
/// </summary>
internal static class Einsum
{
    public sealed record Operand(Tensor Value, int[] Ids);

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
        while (ops.Count > 1)
        {
            var (bi, bj, _) = CheapestPair(ops.Select(o => o.Ids).ToList(), sizes);
            var a = ops[bi]; var b = ops[bj];
            ops.RemoveAt(bj); ops.RemoveAt(bi);
            var (batch, contract) = Split(a.Ids, b.Ids, output, ops.Select(o => o.Ids));
            var dims = new DotDimensionNumbers(contract.Select(id => Array.IndexOf(a.Ids, id)).ToArray(), contract.Select(id => Array.IndexOf(b.Ids, id)).ToArray(),
                batch.Select(id => Array.IndexOf(a.Ids, id)).ToArray(), batch.Select(id => Array.IndexOf(b.Ids, id)).ToArray());
            ops.Add(new Operand(ComputeBackend.Current.DotGeneral(a.Value, b.Value, dims), ResultIds(a.Ids, b.Ids, batch)));
            ops[^1] = SumPrivate(ops, ops.Count - 1, output);
        }
        var last = ops[0];
        var missing = output.Where(id => !last.Ids.Contains(id)).ToArray();
        if (missing.Length > 0) throw new ArgumentException($"einsum: output ids [{string.Join(", ", missing)}] appear in no operand");
        return last.Value.Transpose(output.Select(id => Array.IndexOf(last.Ids, id)).ToArray()).Contiguous();
    }

    /// <summary>Multiply-adds the same contraction order would spend, from shapes only (for the AUTO cost model).</summary>
    public static double Cost(IReadOnlyList<(int[] Ids, Shape Shape)> operands, int[] output)
    {
        var sizes = Sizes(operands);
        var ids = operands.Select(o => o.Ids).ToList();
        double total = 0;
        for (int k = 0; k < ids.Count; k++) ids[k] = ids[k].Where(id => output.Contains(id) || ids.Where((_, i) => i != k).Any(x => x.Contains(id))).ToArray();
        while (ids.Count > 1)
        {
            var (bi, bj, cost) = CheapestPair(ids, sizes);
            var a = ids[bi]; var b = ids[bj];
            ids.RemoveAt(bj); ids.RemoveAt(bi);
            var (batch, _) = Split(a, b, output, ids);
            var r = ResultIds(a, b, batch);
            ids.Add(r.Where(id => output.Contains(id) || ids.Any(x => x.Contains(id))).ToArray());
            total += cost;
        }
        return total;
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
