using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Transforms;

namespace NeuralTangents.Implementations;

/// <summary>
/// NTK from NTK-vector products (Neural Tangents' <c>NTK_VECTOR_PRODUCTS</c>, docs/conventions.md#implementations): the map
/// <c>v ↦ J1·(J2ᵀ·v)</c> is a VJP of f(x2) followed by a JVP of f(x1), never materialising a Jacobian; vmapped
/// over the standard basis of f(x2) it gives the full un-zipped kernel, which is then traced and diagonalised
/// (<see cref="KernelAxes.FromFull"/>). With <c>VmapAxes</c>, blocks are computed per pair of examples under
/// two nested vmaps (over x1 and x2 examples), as in Neural Tangents.
/// </summary>
internal static class NtkVectorProducts
{
    private const int BasisChunk = 256;
    /// <summary>The one unknown input (the cotangent basis) batched at axis 0.</summary>
    private static readonly int?[] OverBasis = { 0 };
    private const int ExampleChunk = 16;
    /// <summary>
    /// Soft cap on one block's peak: larger blocks gained nothing measurable (seed FCN N = 16: 16 × 8 pairs, 173 MiB
    /// estimated, 0.29–0.32 s per warm call; 16 × 16, 326 MiB, 0.27–0.29 s) and cost resident memory.
    /// </summary>
    private const double BlockBytes = 192.0 * (1 << 20);
    /// <summary>Target size of the largest intermediate of one basis chunk (bounds peak memory without VmapAxes).</summary>
    private const double ChunkBytes = 64.0 * (1 << 20);

    /// <summary>Graph (params…, x1…, x2…, ct) ↦ J1·J2ᵀ·ct for output <paramref name="j"/>.</summary>
    public static Graph VpGraph(TracedApply f, Params p, TensorType[] xs1, TensorType[] xs2, int j)
    {
        int np = p.Count;
        var g1 = f.OutputGraph(f.GraphFor(p, xs1), j);
        var g2 = f.OutputGraph(f.GraphFor(p, xs2), j);
        var vjp2 = Ad.VjpGraph(g2, Masks.First(g2.Inputs.Count, np));   // (params, x2…, ct) ↦ (y2, dparams…)
        var jvp1 = Ad.JvpGraph(g1, Masks.First(g1.Inputs.Count, np));   // (params, x1…, tparams…) ↦ (y1, t1)
        var types = g1.InputTypes.Concat(xs2).Append(g2.Outputs[0].Type).ToArray();
        return Ad.Trace(ins =>
        {
            var b = ins[0].Builder;
            var ps = ins[..np];
            var x1 = ins[np..(np + xs1.Length)];
            var x2 = ins[(np + xs1.Length)..^1];
            var grads = Interpreter.Inline(b, vjp2, ps.Concat(x2).Append(ins[^1]).ToArray()).Skip(1);
            return new[] { Interpreter.Inline(b, jvp1, ps.Concat(x1).Concat(grads).ToArray())[1] };
        }, types);
    }

    public static Tensor Ntk(KernelRequest r)
    {
        var full = r.Batching1 is null ? FullKernel(r.F, r.Parameters, r.X1, r.X2, r.Output, r.Backend)
            : FullKernelPerPair(r);
        var k = BufferPool.Run(() => r.Axes.FromFull(full));
        BufferPool.Release(new[] { full }, new[] { k });   // the full kernel is dead unless k is a view of it
        return k;
    }

    /// <summary>Full kernel (fx1.shape + fx2.shape) from one vmapped graph over chunks of the fx2 basis.</summary>
    private static Tensor FullKernel(TracedApply f, Params p, Tensor[] x1, Tensor[] x2, int j, ComputeBackend backend)
    {
        var t1 = x1.Select(TensorType.Of).ToArray();
        var t2 = x2.Select(TensorType.Of).ToArray();
        var vp = VpGraph(f, p, t1, t2, j);
        var out1 = vp.Outputs[0].Type;
        var out2 = vp.Inputs[^1].Type;
        // Known part (forward passes, residuals) once; the linear part once per basis chunk.
        var staged = Ad.Linearize(vp, Masks.Only(vp.Inputs.Count, vp.Inputs.Count - 1));
        var residuals = staged.Bind(TracedApply.Inputs(p, x1.Concat(x2).ToArray()), backend);
        int m2 = out2.Shape.Size;
        // Each basis vector carries whole-batch activations through the VJP and JVP: bound the chunk by memory.
        var one = Ad.Simplify(staged.Vmapped(OverBasis, 1));
        int chunk = (int)Math.Clamp(ChunkBytes / Math.Max(1.0, GraphCost.LargestBytes(one)), 1, BasisChunk);
        var parts = new List<Tensor>();
        var cache = new Dictionary<int, Graph>();
        for (int s = 0; s < m2; s += chunk)
        {
            int c = Math.Min(chunk, m2 - s);
            if (!cache.TryGetValue(c, out var vg))
                cache[c] = vg = Ad.Fuse(Ad.Simplify(staged.Vmapped(OverBasis, c)));
            parts.Add(Interpreter.Evaluate(vg, residuals.Append(StandardBasis.Of(out2.Shape, out2.DType, s, c)).ToArray(), backend)[0]);
        }
        var rows = parts.Count == 1 ? parts[0] : Joined(parts, 0);     // (M2, fx1…)
        var byShape = rows.Reshape(out2.Shape.Concat(out1.Shape));                        // (fx2…, fx1…)
        int r2 = out2.Rank, r1 = out1.Rank;
        return byShape.Transpose(Enumerable.Range(r2, r1).Concat(Enumerable.Range(0, r2)).ToArray());
    }

    /// <summary>The blocks concatenated along <paramref name="axis"/>; the blocks (interpreter outputs) are dead after the
    /// copy, so their storage goes back to the kernel function's pool, if any.</summary>
    private static Tensor Joined(List<Tensor> blocks, int axis)
    {
        var joined = BufferPool.Run(() => Structural.Concatenate(blocks, axis));
        BufferPool.Release(blocks, new[] { joined });
        return joined;
    }

    /// <summary>Full kernel assembled from per-example-pair blocks (vmap over the basis, x2 examples, x1 examples).</summary>
    private static Tensor FullKernelPerPair(KernelRequest r)
    {
        var (p, x1, x2, b1, b2) = (r.Parameters, r.X1, r.X2, r.Batching1!, r.Batching2!);
        var plan = PlanPairs(r);
        var (out1, out2) = (plan.Out1, plan.Out2);
        int m2 = out2.Shape.Size;
        int o1 = b1.Out[r.Output], o2 = b2.Out[r.Output];
        if (out1.Shape[o1] != 1 || out2.Shape[o2] != 1)
            throw new ArgumentException($"vmap_axes: output axis {o1} of f on one example has size {out1.Shape[o1]}, expected 1 (output shape {out1.Shape})", "vmapAxes");
        // Costs and plans use the simplified graph; evaluation runs it fused (Ad.Fuse: same values, fewer passes) and
        // staged: the part that depends only on the parameters and the x1 block (x1's forward pass and ReLU masks) runs
        // once per x1 block, not once per x2 example and basis chunk.
        StagedGraph For(int c1, int c2, int cb) => r.F.Memo($"vp-staged {c1} {c2} {cb}|{r.Key}", () =>
            Ad.Linearize(Ad.Fuse((c1, c2, cb) == (plan.C1, plan.C2, plan.Cb) ? plan.Graph
                : PairGraph(plan.Vp, p.Count, x1.Length, x2.Length, b1, b2, c1, c2, cb)), Masks.From(plan.Graph.Inputs.Count, p.Count + x1.Length)));
        var rowsOf1 = new List<Tensor>();
        for (int s1 = 0; s1 < b1.Count; s1 += plan.C1)
        {
            int c1 = Math.Min(plan.C1, b1.Count - s1);
            var a1 = b1.Stack(x1, s1, c1);
            var residuals = new Dictionary<StagedGraph, Tensor[]>();
            Tensor[] Residuals(StagedGraph sg) => residuals.TryGetValue(sg, out var res) ? res : residuals[sg] = sg.Bind(p.Values.Concat(a1).ToArray(), r.Backend);
            var cols = new List<Tensor>();
            for (int s2 = 0; s2 < b2.Count; s2 += plan.C2)
            {
                int c2 = Math.Min(plan.C2, b2.Count - s2);
                var a2 = b2.Stack(x2, s2, c2);
                // Basis chunks only when one block of pairs with the whole basis does not fit the budget.
                var parts = new List<Tensor>();
                for (int sb = 0; sb < m2; sb += plan.Cb)
                {
                    int cb = Math.Min(plan.Cb, m2 - sb);
                    var sg = For(c1, c2, cb);
                    parts.Add(sg.Apply(r.Backend, Residuals(sg), a2.Append(StandardBasis.Of(out2.Shape, out2.DType, sb, cb)).ToArray())[0]);   // (c1, c2, cb, out1e…)
                }
                cols.Add(parts.Count == 1 ? parts[0] : Joined(parts, 2));
            }
            rowsOf1.Add(cols.Count == 1 ? cols[0] : Joined(cols, 1));
        }
        var blocks = rowsOf1.Count == 1 ? rowsOf1[0] : Joined(rowsOf1, 0);    // (N1, N2, M2e, out1e…)
        int r1 = out1.Rank, r2 = out2.Rank;
        var shaped = blocks.Reshape(new Shape(new[] { b1.Count, b2.Count }.Concat(out2.Shape).Concat(out1.Shape)));
        // → (N1, out1e…, N2, out2e…), then fold each example axis into its size-1 output axis.
        var perm = new[] { 0 }.Concat(Enumerable.Range(2 + r2, r1)).Append(1).Concat(Enumerable.Range(2, r2)).ToArray();
        var t = shaped.Transpose(perm);
        t = Batching.Fold(t, 0, 1 + o1);                 // (fx1…, N2, out2e…)
        return Batching.Fold(t, r1, r1 + 1 + o2);        // (fx1…, fx2…)
    }

    /// <summary>
    /// How the per-pair path evaluates: blocks of <see cref="C1"/> × <see cref="C2"/> example pairs, the fx2 basis in
    /// chunks of <see cref="Cb"/>, with <see cref="Graph"/> the graph of one full block and <see cref="PeakBytes"/> its
    /// liveness peak (inputs included).
    /// </summary>
    internal sealed record PairPlan(Graph Vp, TensorType Out1, TensorType Out2, int C1, int C2, int Cb, Graph Graph, double PeakBytes, double KernelBytes);

    /// <summary>
    /// The largest blocks that fit the budget together with the kernel being assembled (held twice while its blocks are
    /// concatenated) and whose own peak stays under <see cref="BlockBytes"/>: up to <see cref="ExampleChunk"/> x1 examples
    /// against up to <see cref="ExampleChunk"/> x2 examples with the whole basis; halving the x2 block first (x1's forward
    /// pass is staged once per x1 block, so a large x1 block is cheaper to keep), then the x1 block, down to one pair, then
    /// the basis chunk (issue 11: basis chunking inside one example pair), the latter only for the budget. Several x2
    /// examples per block turn the x2-side forward and VJP GEMVs (memory-bound: each streams a whole weight matrix) into
    /// GEMMs and make the per-pair GEMMs taller (seed FCN, x (5,32,32,3): 1 → 5 x2 examples per block, warm call
    /// 0.043–0.052 s → 0.036–0.042 s). When even one pair with one basis vector does not fit, that plan is returned and
    /// the caller's estimate exceeds the budget.
    /// </summary>
    internal static PairPlan PlanPairs(KernelRequest r) => r.F.Memo("vp-pairs|" + r.Key, () => NewPlan(r));

    private static PairPlan NewPlan(KernelRequest r)
    {
        var (b1, b2) = (r.Batching1!, r.Batching2!);
        var vp = VpGraph(r.F, r.Parameters, b1.ExampleTypes(r.X1), b2.ExampleTypes(r.X2), r.Output);
        var out1 = vp.Outputs[0].Type; var out2 = vp.Inputs[^1].Type;
        int m2 = out2.Shape.Size;
        double kernel = 2.0 * out1.Shape.Size * m2 * b1.Count * b2.Count * out1.DType.SizeOf();
        int c1 = Math.Min(ExampleChunk, b1.Count), c2 = Math.Min(ExampleChunk, b2.Count), cb = m2;
        double held = r.Parameters.Values.Sum(t => (double)t.Size * t.DType.SizeOf());
        while (true)
        {
            var g = PairGraph(vp, r.Parameters.Count, r.X1.Length, r.X2.Length, b1, b2, c1, c2, cb);
            // The parameters are graph inputs but held by the caller throughout (counted with the inputs, not here).
            // Evaluation runs the block fused and staged: x1's residuals stay held while every x2 block runs (seed CNN:
            // 166 MiB staged vs 110 MiB unstaged). Fusion can make the staged figure the smaller one (seed FCN: 24 vs
            // 33 MiB), and the kernel function's buffer pool is capped at the estimate: counting the larger keeps
            // the pool from churning (0.7 vs 17 MB allocated per warm call).
            double staged = GraphCost.StagedPeakBytes(Ad.Linearize(Ad.Fuse(g), Masks.From(g.Inputs.Count, r.Parameters.Count + r.X1.Length)));
            double peak = Math.Max(staged, GraphCost.PeakBytes(g)) - held;
            bool fits = peak + kernel <= r.Budget;
            if ((fits && peak <= BlockBytes) || (c1 == 1 && c2 == 1 && (fits || cb == 1)))
                return new PairPlan(vp, out1, out2, c1, c2, cb, g, peak, kernel);
            if (c2 > 1 && c2 >= c1) c2 = (c2 + 1) / 2;
            else if (c1 > 1) c1 = (c1 + 1) / 2;
            else cb = (cb + 1) / 2;
        }
    }

    /// <summary>
    /// The graph one evaluation of a block of example pairs runs: (params…, c1 stacked x1 examples…, c2 stacked x2
    /// examples…, basis chunk (cb, out2e…)) ↦ (c1, c2, cb, out1e…), i.e. <paramref name="vp"/> vmapped over the basis
    /// chunk, the x2 examples and the x1 examples, simplified (<see cref="Ad.Simplify"/>) before and after each vmap: the
    /// raw VJP-then-JVP carries one weight-sized cotangent per basis vector and pair, which under all three vmaps could
    /// exceed what one tensor can hold (seed FCN, 16 × 16 pairs: 5·10⁹ elements) before a single final pass removed it.
    /// </summary>
    internal static Graph PairGraph(Graph vp, int np, int k1, int k2, Batching b1, Batching b2, int c1, int c2, int cb, bool simplify = true)
    {
        Graph S(Graph x) => simplify ? Ad.Simplify(x) : x;
        var g = S(Ad.Vmap(S(vp), InAxes.Only(vp.Inputs.Count, vp.Inputs.Count - 1), new[] { 0 }, cb));   // (cb, out1e…)
        var over2 = S(Ad.Vmap(g, InAxes.Concat(InAxes.None(np + k1), b2.StackAxes, InAxes.None(1)), new[] { 0 }, c2));
        return S(Ad.Vmap(over2, InAxes.Concat(InAxes.None(np), b1.StackAxes, InAxes.None(k2 + 1)), new[] { 0 }, c1));
    }

    /// <summary>Debugging/perf: the simplified (or not) pair graph of <paramref name="f"/> for one block of pairs.</summary>
    internal static Graph DebugPairGraph(ApplyFn f, Params p, Tensor[] x, int j, bool simplify, bool fuse = false, int c2 = 1)
    {
        var t = new TracedApply(f);
        var b = Batching.Resolve(0, x, t.OutputTypes(p, x.Select(TensorType.Of).ToArray()))!;
        var e = b.ExampleTypes(x);
        var vp = VpGraph(t, p, e, e, j);
        var g = PairGraph(vp, p.Count, x.Length, x.Length, b, b, Math.Min(ExampleChunk, b.Count), c2, vp.Inputs[^1].Type.Shape.Size, simplify);
        return fuse ? Ad.Fuse(g) : g;
    }

    /// <summary>Estimated FLOPs (from the graphs this implementation would evaluate) and the bytes of the full kernel it builds.</summary>
    public static (double Flops, double Bytes) Estimate(KernelRequest r)
    {
        var (f, p, x1, xs2, j, b1) = (r.F, r.Parameters, r.X1, r.X2, r.Output, r.Batching1);
        if (b1 is null)
        {
            var vp = VpGraph(f, p, x1.Select(TensorType.Of).ToArray(), xs2.Select(TensorType.Of).ToArray(), j);
            var staged = Ad.Linearize(vp, Masks.Only(vp.Inputs.Count, vp.Inputs.Count - 1));
            int m2 = vp.Inputs[^1].Type.Shape.Size, c = Math.Max(1, Math.Min(BasisChunk, m2));
            var vg = Ad.Simplify(staged.Vmapped(OverBasis, c));
            double bytes = (double)vp.Outputs[0].Type.Shape.Size * m2 * vp.Outputs[0].Type.DType.SizeOf();
            return (GraphCost.Flops(staged.Known) + GraphCost.Flops(vg) * Math.Ceiling((double)m2 / c), 2 * bytes + GraphCost.LargestBytes(vg));
        }
        var plan = PlanPairs(r);
        double blocks = Math.Ceiling((double)b1.Count / plan.C1) * Math.Ceiling((double)r.Batching2!.Count / plan.C2)
            * Math.Ceiling((double)plan.Out2.Shape.Size / plan.Cb);
        return (GraphCost.Flops(plan.Graph) * blocks, plan.KernelBytes + plan.PeakBytes);
    }
}
