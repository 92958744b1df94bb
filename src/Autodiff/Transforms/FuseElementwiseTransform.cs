using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>
/// Loop fusion of element-wise chains (XLA's instruction fusion, restricted to element-wise ops): every maximal tree of
/// element-wise operations with the same number of elements, each intermediate read only by the next, becomes one
/// <see cref="FusedElementwisePrimitive"/> evaluated in one pass with one output buffer. Its leaves are read through
/// the views above them (broadcast_in_dim, transpose, reshapes that only add or drop size-1 axes), so broadcast masks
/// and scalings are never materialised. A <c>dot_general</c> whose contraction has size 1 (an outer product, e.g. the
/// K = 1 products NTK-VP's reassociation leaves) is a product of two broadcasts and joins the chain instead of running
/// as a GEMM. Chains are never extended through a broadcast that grows the element count (that would recompute the
/// smaller operand per output element). Values are those of the unfused graph, computed by the same span kernels in
/// the same order (bit for bit, up to the sign of a zero product where a size-1 contraction summed it with +0).
/// Inputs and outputs are unchanged; run it last, just before evaluation (the fused primitive supports JVP and vmap
/// by re-emitting its operations, not transposition).
/// </summary>
internal static class FuseElementwiseTransform
{
    public static Graph Apply(Graph g)
    {
        var eqns = g.Equations;
        var defOf = new int[g.VarCount];
        Array.Fill(defOf, -1);
        for (int k = 0; k < eqns.Count; k++) defOf[eqns[k].Output.Id] = k;
        var uses = new int[g.VarCount];
        foreach (var e in eqns) foreach (var a in e.Inputs) if (a is Var v) uses[v.Id]++;
        foreach (var o in g.Outputs) if (o is Var v) uses[v.Id]++;

        var absorbed = new bool[eqns.Count];
        var groups = new Dictionary<int, Group>();
        for (int k = eqns.Count - 1; k >= 0; k--)
        {
            if (absorbed[k] || !IsCompute(eqns[k])) continue;
            var grp = new Group(eqns, defOf, uses, eqns[k].Output.Type);
            grp.Root(k);
            if (grp.Steps.Count >= 2 || grp.HasOuterProduct)
            {
                groups[k] = grp;
                foreach (var m in grp.Members) absorbed[m] = true;
            }
        }
        if (groups.Count == 0) return g;

        var b = new GraphBuilder();
        var env = new Tracer[g.VarCount];
        foreach (var v in g.Inputs) env[v.Id] = b.NewInput(v.Type);
        Tracer R(Atom a) => a is Literal l ? b.Constant(l.Value) : env[((Var)a).Id];
        for (int k = 0; k < eqns.Count; k++)
        {
            var e = eqns[k];
            if (absorbed[k]) continue;
            if (groups.TryGetValue(k, out var grp))
            {
                var prim = new FusedElementwisePrimitive(e.Output.Type, grp.Leaves.Select(l => l.Map).ToArray(), grp.Steps.ToArray(), grp.Flops);
                env[e.Output.Id] = b.Emit(prim, grp.Leaves.Select(l => R(l.Atom)).ToArray());
            }
            else env[e.Output.Id] = b.Emit(e.Primitive, e.Inputs.Select(R).ToArray());
        }
        return DceTransform.Apply(b.Build(g.Outputs.Select(R)));
    }

    /// <summary>An element-wise operation (output shape = every operand's shape) or a size-1 contraction.</summary>
    private static bool IsCompute(Equation e) =>
        FusedElementwisePrimitive.TryStep(e.Primitive, out _, out _) || IsOuterProduct(e);

    private static bool IsOuterProduct(Equation e) =>
        e.Primitive is DotGeneralPrimitive d && d.Dims.LhsContracting.All(a => e.Inputs[0].Type.Shape[a] == 1);

    private sealed record Leaf(Atom Atom, int[] Map);

    /// <summary>One fusion group being collected from its root backwards.</summary>
    private sealed class Group(IReadOnlyList<Equation> eqns, int[] defOf, int[] uses, TensorType root)
    {
        public readonly List<FusedStep> Steps = new();
        public readonly List<Leaf> Leaves = new();
        public readonly List<int> Members = new();
        public bool HasOuterProduct;
        public double Flops;

        public void Root(int k)
        {
            var map = Enumerable.Range(0, root.Rank).ToArray();
            Compute(k, map);
        }

        /// <summary>Adds equation k (an absorbed compute node, its output read through <paramref name="map"/>) as steps.</summary>
        private FusedArg Compute(int k, int[] map)
        {
            var e = eqns[k];
            Flops += e.Primitive.Flops(e.Inputs.Select(a => a.Type).ToArray(), e.Output.Type);
            if (e.Primitive is DotGeneralPrimitive d)
            {
                HasOuterProduct = true;
                var (ml, mr) = OuterMaps(d.Dims, e.Inputs[0].Type.Shape, e.Inputs[1].Type.Shape, map);
                var l = Visit(e.Inputs[0], ml);
                var r = Visit(e.Inputs[1], mr);
                return Add(new FusedStep(FusedStepKind.Binary, (int)BinaryOp.Mul, l, r));
            }
            FusedElementwisePrimitive.TryStep(e.Primitive, out var kind, out var op);
            var a = Visit(e.Inputs[0], map);
            var bArg = e.Inputs.Count > 1 ? Visit(e.Inputs[1], map) : default;
            return Add(new FusedStep(kind, op, a, bArg));
        }

        private FusedArg Add(FusedStep s)
        {
            Steps.Add(s);
            return FusedArg.Step(Steps.Count - 1);
        }

        /// <summary>
        /// The argument for <paramref name="atom"/> read through <paramref name="map"/>: a constant, a fused computation
        /// (single-use, same element count, reached through single-use views only) or a leaf.
        /// </summary>
        private FusedArg Visit(Atom atom, int[] map)
        {
            if (atom is Literal lit && OpChecks.IsBroadcastScalar(lit.Value)) return FusedArg.Constant(lit.Value[new int[lit.Value.Rank]]);
            var views = new List<int>();
            var (src, m) = (atom, map);
            bool single = true;
            while (src is Var v && defOf[v.Id] >= 0 && ViewMap(eqns[defOf[v.Id]], m) is { } inner)
            {
                single &= uses[v.Id] == 1;
                views.Add(defOf[v.Id]);
                (src, m) = (eqns[defOf[v.Id]].Inputs[0], inner);
            }
            if (src is Literal l2 && OpChecks.IsBroadcastScalar(l2.Value)) return FusedArg.Constant(l2.Value[new int[l2.Value.Rank]]);
            if (src is Var sv && defOf[sv.Id] >= 0 && single && uses[sv.Id] == 1 && sv.Type.Shape.Size == root.Shape.Size
                && IsCompute(eqns[defOf[sv.Id]]))
            {
                Members.Add(defOf[sv.Id]);
                Members.AddRange(views);
                return Compute(defOf[sv.Id], m);
            }
            // A leaf: normalise size-1 axes to −1 so equal reads share one operand.
            var norm = m.Select((a, j) => src.Type.Shape[j] == 1 ? -1 : a).ToArray();
            int idx = Leaves.FindIndex(x => ReferenceEquals(x.Atom, src) && x.Map.AsSpan().SequenceEqual(norm));
            if (idx < 0) { Leaves.Add(new Leaf(src, norm)); idx = Leaves.Count - 1; }
            return FusedArg.Leaf(idx);
        }
    }

    /// <summary>For a view equation (broadcast_in_dim, transpose, size-1 reshape) whose output is read through
    /// <paramref name="map"/>: the map of its operand; null for any other equation.</summary>
    private static int[]? ViewMap(Equation e, int[] map)
    {
        var x = e.Inputs[0].Type.Shape;
        switch (e.Primitive)
        {
            case TransposePrimitive t:
            {
                var m = new int[x.Rank];
                for (int i = 0; i < t.Permutation.Length; i++) m[t.Permutation[i]] = map[i];
                return m;
            }
            case BroadcastInDimPrimitive bc:
                return Enumerable.Range(0, x.Rank).Select(j => x[j] == 1 ? -1 : map[bc.Dimensions[j]]).ToArray();
            case ReshapePrimitive r:
            {
                var src = Enumerable.Range(0, x.Rank).Where(j => x[j] != 1).ToArray();
                var dst = Enumerable.Range(0, r.Shape.Rank).Where(j => r.Shape[j] != 1).ToArray();
                if (src.Length != dst.Length || src.Where((j, i) => x[j] != r.Shape[dst[i]]).Any()) return null;
                var m = Enumerable.Repeat(-1, x.Rank).ToArray();
                for (int i = 0; i < src.Length; i++) m[src[i]] = map[dst[i]];
                return m;
            }
            default: return null;
        }
    }

    /// <summary>Maps of a size-1 contraction's operands: output = batch axes, lhs free axes, rhs free axes.</summary>
    private static (int[] L, int[] R) OuterMaps(DotDimensionNumbers d, Shape lhs, Shape rhs, int[] map)
    {
        var ml = Enumerable.Repeat(-1, lhs.Rank).ToArray();
        var mr = Enumerable.Repeat(-1, rhs.Rank).ToArray();
        int o = 0;
        for (int k = 0; k < d.LhsBatch.Length; k++, o++) { ml[d.LhsBatch[k]] = map[o]; mr[d.RhsBatch[k]] = map[o]; }
        for (int j = 0; j < lhs.Rank; j++) if (!d.LhsContracting.Contains(j) && !d.LhsBatch.Contains(j)) ml[j] = map[o++];
        for (int j = 0; j < rhs.Rank; j++) if (!d.RhsContracting.Contains(j) && !d.RhsBatch.Contains(j)) mr[j] = map[o++];
        return (ml, mr);
    }
}
