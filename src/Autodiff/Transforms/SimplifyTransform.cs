using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>
/// Algebraic simplification of a graph (the counterpart of XLA's AlgebraicSimplifier, restricted to what the
/// NTK-vector-product graphs need). Rewrites, each value-preserving up to floating-point reassociation:
/// <list type="number">
/// <item><b>Transpose chains</b>: <c>transpose(transpose(x, p), q)</c> → <c>transpose(x, p∘q)</c>; identity
/// permutations are dropped.</item>
/// <item><b>Dot chains</b>: <c>dot_general(C, transpose*(dot_general(A, B)))</c> (either operand order), whose inner
/// product and transposes are read only there, is one three-operand einsum; it is re-emitted in the pairwise order
/// with the fewest FLOPs when that is under <see cref="GainThreshold"/> of the current cost. This is how the
/// VJP-then-JVP through a Dense layer, <c>x1·(x2ᵀ·δ)</c> (a weight-sized cotangent per basis vector and example pair),
/// becomes <c>(x1·x2ᵀ)·δ</c>.</item>
/// <item><b>Transposes into dimension numbers</b>: a transposed operand of a <c>dot_general</c> is read untransposed
/// with remapped contracting/batch dimensions when the output axis order allows it (the transpose only moves
/// contracting or batch axes).</item>
/// <item><b>Uniform scalings into products</b>: <c>transpose*(dot_general(A, B)) · c</c>, c a broadcast scalar literal
/// and the product read only there, scales the smaller of A and B instead (NTK-VP's σ_w/√n on a (block, basis, width)
/// tangent becomes a scaling of a few-element operand).</item>
/// </list>
/// Then common-subexpression and dead-code elimination. Inputs and outputs (count, types, order) are unchanged.
/// </summary>
internal static class SimplifyTransform
{
    /// <summary>A reassociation is taken only when it needs at most this fraction of the current FLOPs.</summary>
    public const double GainThreshold = 0.75;

    public static Graph Apply(Graph g)
    {
        g = DceTransform.Apply(ComposeTransposes(g));
        for (int round = 0; round < 4; round++)
        {
            var (h, changed) = Dots(g);
            g = DceTransform.Apply(ComposeTransposes(DceTransform.Apply(h)));
            if (!changed) break;
        }
        return DceTransform.Apply(CseTransform.Apply(g));
    }

    // ---- transpose chains -------------------------------------------------------------------------------------

    private static Graph ComposeTransposes(Graph g)
    {
        var b = new GraphBuilder();
        var env = new Tracer[g.VarCount];
        foreach (var v in g.Inputs) env[v.Id] = b.NewInput(v.Type);
        var transposeOf = new Dictionary<Atom, (Tracer Src, int[] Perm)>();
        Tracer R(Atom a) => a is Literal l ? b.Constant(l.Value) : env[((Var)a).Id];
        bool changed = false;
        foreach (var e in g.Equations)
        {
            var ins = e.Inputs.Select(R).ToArray();
            Tracer y;
            if (e.Primitive is TransposePrimitive t)
            {
                var (src, perm) = (ins[0], t.Permutation);
                if (transposeOf.TryGetValue(ins[0].Atom, out var inner))
                {
                    // out axis i = inner's axis perm[i] = src axis inner.Perm[perm[i]].
                    (src, perm) = (inner.Src, perm.Select(i => inner.Perm[i]).ToArray());
                    changed = true;
                }
                if (IsIdentity(perm)) changed = true;
                y = Lax.Transpose(src, perm);
                if (!IsIdentity(perm)) transposeOf[y.Atom] = (src, perm);
            }
            else y = b.Emit(e.Primitive, ins);
            env[e.Output.Id] = y;
        }
        return changed ? b.Build(g.Outputs.Select(R)) : g;
    }

    private static bool IsIdentity(int[] perm) => perm.Select((p, i) => p == i).All(x => x);

    // ---- dot chains and transposed dot operands --------------------------------------------------------------

    /// <summary>How a value was defined in the graph being built, and how many times the source graph reads it.</summary>
    private sealed record Def(Primitive Primitive, Tracer[] Inputs, int Uses);

    /// <summary>An einsum operand: a value whose axis i carries label <c>Labels[i]</c>.</summary>
    private sealed record Operand(Tracer Src, int[] Labels);

    private static (Graph, bool) Dots(Graph g)
    {
        var uses = new int[g.VarCount];
        foreach (var e in g.Equations) foreach (var a in e.Inputs) if (a is Var v) uses[v.Id]++;
        foreach (var o in g.Outputs) if (o is Var v) uses[v.Id]++;
        var b = new GraphBuilder();
        var env = new Tracer[g.VarCount];
        foreach (var v in g.Inputs) env[v.Id] = b.NewInput(v.Type);
        var defs = new Dictionary<Atom, Def>();
        Tracer R(Atom a) => a is Literal l ? b.Constant(l.Value) : env[((Var)a).Id];
        bool changed = false;
        foreach (var e in g.Equations)
        {
            var ins = e.Inputs.Select(R).ToArray();
            Tracer? y = null;
            if (e.Primitive is DotGeneralPrimitive d)
            {
                y = Reassociate(ins, d.Dims, defs) ?? FoldTransposes(ins, d.Dims, defs);
                changed |= y is not null;
            }
            else if (e.Primitive is MulPrimitive)
            {
                y = ScaleIntoDot(ins, e.Inputs, defs);
                changed |= y is not null;
            }
            y ??= b.Emit(e.Primitive, ins);
            env[e.Output.Id] = y;
            if (y.Atom is Var && b.LastEquation is { } last && ReferenceEquals(last.Output, y.Atom))
                defs[y.Atom] = new Def(last.Primitive, last.Inputs.Select(b.Wrap).ToArray(), uses[e.Output.Id]);
        }
        return (changed ? b.Build(g.Outputs.Select(R)) : g, changed);
    }

    /// <summary>
    /// Labels the two operands of <c>dot_general(lhs, rhs, dims)</c> in place (−1 = not yet labelled; contracting and
    /// batch pairs share a label, taken from whichever side has one) and returns the output's labels: batch (lhs
    /// order), lhs free, rhs free.
    /// </summary>
    private static int[] LabelDot(int[] lhs, int[] rhs, DotDimensionNumbers d, Func<int> fresh)
    {
        void Pair(int a, int c)
        {
            if (lhs[a] < 0 && rhs[c] < 0) lhs[a] = fresh();
            if (lhs[a] < 0) lhs[a] = rhs[c]; else rhs[c] = lhs[a];
        }
        for (int k = 0; k < d.LhsContracting.Length; k++) Pair(d.LhsContracting[k], d.RhsContracting[k]);
        for (int k = 0; k < d.LhsBatch.Length; k++) Pair(d.LhsBatch[k], d.RhsBatch[k]);
        for (int a = 0; a < lhs.Length; a++) if (lhs[a] < 0) lhs[a] = fresh();
        for (int a = 0; a < rhs.Length; a++) if (rhs[a] < 0) rhs[a] = fresh();
        var lf = Enumerable.Range(0, lhs.Length).Where(a => !d.LhsContracting.Contains(a) && !d.LhsBatch.Contains(a)).Select(a => lhs[a]);
        var rf = Enumerable.Range(0, rhs.Length).Where(a => !d.RhsContracting.Contains(a) && !d.RhsBatch.Contains(a)).Select(a => rhs[a]);
        return d.LhsBatch.Select(a => lhs[a]).Concat(lf).Concat(rf).ToArray();
    }

    /// <summary>Looks through transposes (only single-use ones when <paramref name="singleUse"/>): the value and the permutation from it to <paramref name="t"/>.</summary>
    private static (Tracer Src, int[] Perm) Untranspose(Tracer t, Dictionary<Atom, Def> defs, bool singleUse)
    {
        var perm = Enumerable.Range(0, t.Rank).ToArray();
        while (defs.TryGetValue(t.Atom, out var def) && def.Primitive is TransposePrimitive tp && (!singleUse || def.Uses == 1))
        {
            perm = perm.Select(i => tp.Permutation[i]).ToArray();
            t = def.Inputs[0];
        }
        return (t, perm);
    }

    /// <summary>Rewrite 2: the cheapest pairwise order of <c>C · transpose*(A · B)</c>, or null to keep the graph.</summary>
    private static Tracer? Reassociate(Tracer[] ins, DotDimensionNumbers d, Dictionary<Atom, Def> defs)
    {
        (Operand X, Operand Y, Operand Z, int[] Out)? best = null;
        double bestGain = GainThreshold;
        for (int side = 0; side < 2; side++)
        {
            var (inner, perm) = Untranspose(ins[side], defs, singleUse: true);
            if (!defs.TryGetValue(inner.Atom, out var def) || def.Primitive is not DotGeneralPrimitive id || def.Uses != 1) continue;
            int next = 0;
            int Fresh() => next++;
            // Inner product A·B, then the outer product with its transposed result D′ as operand `side`.
            var la = Enumerable.Repeat(-1, def.Inputs[0].Rank).ToArray();
            var lb = Enumerable.Repeat(-1, def.Inputs[1].Rank).ToArray();
            var ld = LabelDot(la, lb, id.Dims, Fresh);
            var ldp = perm.Select(i => ld[i]).ToArray();
            var lc = Enumerable.Repeat(-1, ins[1 - side].Rank).ToArray();
            var lout = side == 0 ? LabelDot(ldp, lc, d, Fresh) : LabelDot(lc, ldp, d, Fresh);
            var a = new Operand(def.Inputs[0], la);
            var bb = new Operand(def.Inputs[1], lb);
            var c = new Operand(ins[1 - side], lc);
            var sizes = new Dictionary<int, long>();
            foreach (var op in new[] { a, bb, c })
                for (int i = 0; i < op.Labels.Length; i++) sizes[op.Labels[i]] = op.Src.Shape[i];
            double current = PairCost(la, lb, new HashSet<int>(ld), sizes, out _) + PairCost(ldp, lc, new HashSet<int>(lout), sizes, out _);
            foreach (var (x, yy, z) in new[] { (a, c, bb), (bb, c, a) })
            {
                var keep = new HashSet<int>(z.Labels.Concat(lout));
                var fx = PairCost(x.Labels, yy.Labels, keep, sizes, out var lxy);
                var fz = PairCost(lxy, z.Labels, new HashSet<int>(lout), sizes, out _);
                double gain = (fx + fz) / current;
                if (double.IsNaN(gain) || gain >= bestGain) continue;
                bestGain = gain;
                best = (x, yy, z, lout);
            }
        }
        if (best is not { } o) return null;
        var xy = Contract(o.X, o.Y, new HashSet<int>(o.Z.Labels.Concat(o.Out)));
        var xyz = Contract(xy, o.Z, new HashSet<int>(o.Out));
        return Lax.Transpose(xyz.Src, o.Out.Select(l => Array.IndexOf(xyz.Labels, l)).ToArray());
    }

    private static double Product(IEnumerable<int> labels, Dictionary<int, long> sizes) => labels.Aggregate(1.0, (p, l) => p * sizes[l]);

    /// <summary>FLOPs of contracting x and y keeping <paramref name="keep"/>; NaN when a label would need a reduction over one operand.</summary>
    private static double PairCost(int[] x, int[] y, HashSet<int> keep, Dictionary<int, long> sizes, out int[] outLabels)
    {
        var common = x.Intersect(y).ToArray();
        var batch = common.Where(keep.Contains).ToArray();
        var contract = common.Where(l => !keep.Contains(l)).ToArray();
        outLabels = batch.Concat(x.Where(l => !common.Contains(l))).Concat(y.Where(l => !common.Contains(l))).ToArray();
        if (outLabels.Any(l => !keep.Contains(l))) return double.NaN;
        return 2.0 * Product(outLabels, sizes) * Product(contract, sizes);
    }

    private static Operand Contract(Operand x, Operand y, HashSet<int> keep)
    {
        var common = x.Labels.Intersect(y.Labels).ToArray();
        var batch = common.Where(keep.Contains).ToArray();
        var contract = common.Where(l => !keep.Contains(l)).ToArray();
        int[] Axes(Operand o, int[] ls) => ls.Select(l => Array.IndexOf(o.Labels, l)).ToArray();
        var dims = new DotDimensionNumbers(Axes(x, contract), Axes(y, contract), Axes(x, batch), Axes(y, batch));
        var labels = batch.Concat(x.Labels.Where(l => !common.Contains(l))).Concat(y.Labels.Where(l => !common.Contains(l))).ToArray();
        return new Operand(Lax.DotGeneral(x.Src, y.Src, dims), labels);
    }

    /// <summary>
    /// Rewrite 4: <c>transpose*(dot_general(A, B)) · c</c> with c a uniform literal (a scalar such as σ_w/√n broadcast
    /// to the product's shape) and the product and its transposes read only there → <c>transpose*(dot_general(c·A, B))</c>,
    /// scaling the smaller operand, when it is smaller than the product: one element-wise pass (and one product-sized
    /// buffer) over the few elements of an operand instead of the many of the product. Null to keep the graph.
    /// </summary>
    private static Tracer? ScaleIntoDot(Tracer[] ins, IReadOnlyList<Atom> atoms, Dictionary<Atom, Def> defs)
    {
        int li = atoms[1] is Literal ? 1 : atoms[0] is Literal ? 0 : -1;
        if (li < 0 || atoms[1 - li] is not Var) return null;
        var c = ((Literal)atoms[li]).Value;
        if (c.Size == 0 || !OpChecks.IsBroadcastScalar(c)) return null;
        var (src, perm) = Untranspose(ins[1 - li], defs, singleUse: true);
        if (!defs.TryGetValue(src.Atom, out var def) || def.Primitive is not DotGeneralPrimitive dot || def.Uses != 1) return null;
        var (a, b) = (def.Inputs[0], def.Inputs[1]);
        int side = a.Shape.Size <= b.Shape.Size ? 0 : 1;
        var op = side == 0 ? a : b;
        if (op.Shape.Size >= src.Shape.Size || op.DType != c.DType) return null;
        double value = c[new int[c.Rank]];
        var scaled = Lax.Mul(op, op.Builder.Constant(Tensor.Scalar(value, c.DType).BroadcastTo(op.Shape)));
        var y = op.Builder.Emit(dot, side == 0 ? [scaled, b] : [a, scaled]);
        return IsIdentity(perm) ? y : Lax.Transpose(y, perm);
    }

    /// <summary>Rewrite 3: reads transposed operands untransposed when the output order is unchanged; null otherwise.</summary>
    private static Tracer? FoldTransposes(Tracer[] ins, DotDimensionNumbers d, Dictionary<Atom, Def> defs)
    {
        var (s0, p0) = Untranspose(ins[0], defs, singleUse: false);
        var (s1, p1) = Untranspose(ins[1], defs, singleUse: false);
        if (ReferenceEquals(s0, ins[0]) && ReferenceEquals(s1, ins[1])) return null;
        // Operand axis a of the transposed value is axis p[a] of the source.
        var dims = new DotDimensionNumbers(d.LhsContracting.Select(a => p0[a]).ToArray(), d.RhsContracting.Select(a => p1[a]).ToArray(),
            d.LhsBatch.Select(a => p0[a]).ToArray(), d.RhsBatch.Select(a => p1[a]).ToArray());
        // Free axes keep their relative order only if the permutation restricted to them is increasing.
        static bool FreeOrderKept(int[] p, int[] contract, int[] batch)
        {
            var free = Enumerable.Range(0, p.Length).Where(a => !contract.Contains(a) && !batch.Contains(a)).Select(a => p[a]).ToArray();
            for (int i = 1; i < free.Length; i++) if (free[i] < free[i - 1]) return false;
            return true;
        }
        if (!FreeOrderKept(p0, d.LhsContracting, d.LhsBatch) || !FreeOrderKept(p1, d.RhsContracting, d.RhsBatch)) return null;
        return Lax.DotGeneral(s0, s1, dims);
    }
}
