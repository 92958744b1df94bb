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
        var ops = operands.Select(o =>
        {
            if (o.Ids.Length != o.Value.Rank) throw new ArgumentException($"einsum: {o.Ids.Length} ids for an operand of shape {o.Value.Shape}");
            if (o.Ids.Distinct().Count() != o.Ids.Length) throw new ArgumentException("einsum: repeated id within one operand");
            return o;
        }).ToList();
        var sizes = new Dictionary<int, int>();
        foreach (var o in ops)
            for (int i = 0; i < o.Ids.Length; i++)
            {
                if (sizes.TryGetValue(o.Ids[i], out var s) && s != o.Value.Shape[i])
                    throw new ArgumentException($"einsum: id {o.Ids[i]} has sizes {s} and {o.Value.Shape[i]}");
                sizes[o.Ids[i]] = o.Value.Shape[i];
            }
        for (int k = 0; k < ops.Count; k++) ops[k] = SumPrivate(ops, k, output);
        while (ops.Count > 1)
        {
            int bi = 0, bj = 1; double best = double.PositiveInfinity;
            for (int i = 0; i < ops.Count; i++)
                for (int j = i + 1; j < ops.Count; j++)
                {
                    double cost = ops[i].Ids.Union(ops[j].Ids).Aggregate(1.0, (acc, id) => acc * sizes[id]);
                    if (cost < best) { best = cost; bi = i; bj = j; }
                }
            var a = ops[bi]; var b = ops[bj];
            ops.RemoveAt(bj); ops.RemoveAt(bi);
            var shared = a.Ids.Intersect(b.Ids).ToArray();
            var needed = new HashSet<int>(output.Concat(ops.SelectMany(o => o.Ids)));
            var batch = shared.Where(needed.Contains).ToArray();
            var contract = shared.Where(id => !needed.Contains(id)).ToArray();
            var dims = new DotDimensionNumbers(contract.Select(id => Array.IndexOf(a.Ids, id)).ToArray(), contract.Select(id => Array.IndexOf(b.Ids, id)).ToArray(),
                batch.Select(id => Array.IndexOf(a.Ids, id)).ToArray(), batch.Select(id => Array.IndexOf(b.Ids, id)).ToArray());
            var value = DotGeneral.Compute(a.Value, b.Value, dims);
            var ids = batch.Concat(a.Ids.Where(id => !shared.Contains(id))).Concat(b.Ids.Where(id => !shared.Contains(id))).ToArray();
            ops.Add(new Operand(value, ids));
            ops[^1] = SumPrivate(ops, ops.Count - 1, output);
        }
        var last = ops[0];
        var missing = output.Where(id => !last.Ids.Contains(id)).ToArray();
        if (missing.Length > 0) throw new ArgumentException($"einsum: output ids [{string.Join(", ", missing)}] appear in no operand");
        return last.Value.Transpose(output.Select(id => Array.IndexOf(last.Ids, id)).ToArray()).Contiguous();
    }

    private static Operand SumPrivate(List<Operand> ops, int k, int[] output)
    {
        var o = ops[k];
        var elsewhere = new HashSet<int>(output.Concat(ops.Where((_, i) => i != k).SelectMany(x => x.Ids)));
        var drop = Enumerable.Range(0, o.Ids.Length).Where(i => !elsewhere.Contains(o.Ids[i])).ToArray();
        if (drop.Length == 0) return o;
        return new Operand(Reductions.Sum(o.Value, drop), o.Ids.Where((_, i) => !drop.Contains(i)).ToArray());
    }
}
