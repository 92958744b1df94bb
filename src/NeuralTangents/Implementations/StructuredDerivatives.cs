using System.Runtime.CompilerServices;
using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Transforms;

namespace NeuralTangents.Implementations;

/// <summary>
/// NTK by structured derivatives (Neural Tangents' <c>STRUCTURED_DERIVATIVES</c>; Novak et al. 2022 §4, docs/conventions.md#implementations).
/// f is linearised (JVP w.r.t. the parameters, then partial evaluation leaves the linear tangent program). For
/// every equation that consumes a parameter tangent w directly, we obtain <c>∂f/∂y</c> (one backward pass over the
/// standard basis of f's output, recording the cotangent of y) and a structure-compressed <c>∂y/∂w</c>: along each
/// constant block-diagonal pair of axes (e.g. a Dense layer's output units) both are trimmed to size 1, so for
/// <c>y = x·W</c> the Jacobian shrinks to the inputs x and for a convolution to its im2col patches; diagonal pairs
/// (a product with a constant tensor) trim only w, broadcast axes (a bias) keep one tile (<see cref="StructureRule"/>,
/// <see cref="CompressedJacobian"/>). Each pair of uses (x1 side, x2 side) of the same w is then one einsum (an MJJMP)
/// contracted in the cheapest order (<see cref="Einsum"/>). Equations without a structure rule fall back to their
/// full Jacobian (correct, slower).
/// </summary>
internal static class StructuredDerivatives
{
    /// <summary>Equation <paramref name="Eqn"/> consumes parameter tangent <paramref name="W"/> as operand <paramref name="Input"/>;
    /// <paramref name="Y"/> is its output shape as the MJJMP sees it (w's shape for a reshape). Its ∂f/∂y is
    /// <paramref name="Factor"/> · ∂f/∂<paramref name="Root"/> (see <see cref="RootOf"/>).</summary>
    internal sealed record Use(int Eqn, int Input, int W, StructureRule Rule, Shape Y, Var Root, double Factor);

    /// <summary>
    /// The immutable plan of one side (x1 or x2): the linear tangent program, the forward graph producing its
    /// residuals (vmapped over examples when batched), the parameter consumers and f's output shape (per example
    /// when batched). Built from types only; <see cref="Evaluate"/> computes the values.
    /// </summary>
    internal sealed class Side
    {
        public required Graph Linear { get; init; }           // (residuals…, tparams…) ↦ ty
        public required Graph Known { get; init; }            // (params…, inputs…) ↦ residuals (per-example stacks (E, …) when batched)
        public required bool JacobianRules { get; init; }     // use primitives' J rules (NT's _j_rules)
        public required IReadOnlyList<Use> Uses { get; init; }
        public required Shape Fx { get; init; }               // output shape (per example when batched)
        public required int NumResiduals { get; init; }
        public required bool[] Batched { get; init; }         // per residual: carries the example axis (else shared by all examples, e.g. a weight)
        public Batching? Batching { get; init; }
        public int Examples => Batching?.Count ?? 0;

        // Graphs derived from this side once (plans are memoised per kernel function, so warm calls reuse them).
        // (Boxed: a reference is written atomically, so two threads never see a torn graph/variables pair.)
        internal StrongBox<(Graph, Var[])>? BackwardGraph;
        internal StrongBox<(Graph, Var[])>?[]? JacobianGraphs;
        internal IReadOnlyDictionary<int, HashSet<int>>? JacobianCompressed;
    }

    /// <summary>The values of one side: ∂f/∂y per use <c>([E,] fx…, y…)</c> and compressed ∂y/∂w per use <c>([E,] y'…, w'…)</c>,
    /// the latter not yet multiplied by the use's <see cref="Use.Factor"/> (<see cref="Ntk"/> scales each term's result).</summary>
    internal sealed record SideValues(Tensor[] A, Tensor[] J);

    /// <summary>One operand of an MJJMP einsum: its shape and ids, and which value it is (∂f/∂y or ∂y/∂w of a use of
    /// a side). The key makes the einsum compute a repeated pairwise step once (with x2 = null both sides are the
    /// same <see cref="Side"/>).</summary>
    internal sealed record Operand(Shape Shape, int[] Ids, Side Side, int Use, bool Jacobian)
    {
        /// <summary>∂f/∂y is keyed by its root and the shape it is read in: uses meeting at one sum (a Dense layer's W
        /// and b) share it, and the einsum session computes its Gram once.</summary>
        public object Key => Jacobian ? (Side, Use, 1) : (Side, Side.Uses[Use].Root, Shape);
    }

    /// <summary>One MJJMP: use <paramref name="A"/> of side 1 and use <paramref name="B"/> of side 2 (of the same
    /// parameter), its four operands and the output ids in kernel layout.</summary>
    internal sealed record Term(int A, int B, Operand[] Operands, int[] Output);

    /// <summary>
    /// The immutable plan of one request: both sides (the same object when x2 is x1), the compressed axes of each
    /// parameter and every MJJMP's einsum. AUTO's estimate reads it; <see cref="Ntk"/> evaluates it.
    /// </summary>
    internal sealed class Plan
    {
        public required Side Side1 { get; init; }
        public required Side Side2 { get; init; }
        public required IReadOnlyDictionary<int, HashSet<int>> Compressed { get; init; }
        public required IReadOnlyList<Term> Terms { get; init; }
        /// <summary>Every MJJMP planned in a template session (<see cref="Einsum.Session.Fresh"/>), once per plan.</summary>
        public (Einsum.Session Template, Einsum.Planned[] Plans) Einsums => _einsums.Value;
        private readonly Lazy<(Einsum.Session, Einsum.Planned[])> _einsums;

        public Plan() => _einsums = new(() => { var s = new Einsum.Session(); return (s, Plans(s, this)); });
    }

    /// <summary>Plans the request from types only: linearises f on each side, finds the parameter consumers, intersects
    /// their compressed axes and lays out every MJJMP.</summary>
    internal static Plan PlanFor(KernelRequest r) => r.F.Memo("sd|" + r.Key, () => NewPlan(r));

    private static Plan NewPlan(KernelRequest r)
    {
        var s1 = Prepare(r.F, r.Parameters, r.X1, r.Output, r.Batching1, r.Rules);
        var s2 = r.SameInputs ? s1 : Prepare(r.F, r.Parameters, r.X2, r.Output, r.Batching2, r.Rules);
        var compressed = CompressedAxes(s1, s2);
        var terms = UsePairs(s1, s2).Select(t => Operands(s1, t.A, s2, t.B, r.Axes, r.OutAxis1, r.OutAxis2, compressed)).ToArray();
        return new Plan { Side1 = s1, Side2 = s2, Compressed = compressed, Terms = terms };
    }

    public static Tensor Ntk(KernelRequest r)
    {
        var plan = PlanFor(r);
        var p = r.Parameters;
        var v1 = Evaluate(plan.Side1, p, r.X1, plan.Compressed, r.Backend);
        var v2 = ReferenceEquals(plan.Side1, plan.Side2) ? v1 : Evaluate(plan.Side2, p, r.X2, plan.Compressed, r.Backend);
        Tensor Value(Operand o)
        {
            var v = ReferenceEquals(o.Side, plan.Side1) ? v1 : v2;
            return (o.Jacobian ? v.J : v.A)[o.Use];
        }

        // Every MJJMP planned first in one session (a step shared by several, e.g. the Gram of a Dense layer's ∂f/∂y for
        // its W and b, is computed once and freed after its last reader), each added into one kernel-sized buffer.
        var kShape = r.Axes.KernelShape(r.Out1.Shape, r.Out2.Shape);
        var (template, plans) = plan.Einsums;
        var session = template.Fresh(r.Backend);
        var total = Tensor.Zeros(kShape, r.Out1.DType);
        for (int t = 0; t < plan.Terms.Count; t++)
        {
            if (plans[t].OutShape != kShape) throw new InvalidOperationException($"MJJMP gives shape {plans[t].OutShape}, kernel is {kShape}");
            // Each use's factor (folded ±c of its ∂f/∂y root, see RootOf) scales the term's kernel-sized result, not the
            // Jacobian (the im2col patches of a convolution: 4.5 M elements on the seed CNN).
            var term = plan.Terms[t];
            double scale = plan.Side1.Uses[term.A].Factor * plan.Side2.Uses[term.B].Factor;
            session.Contract(plans[t], term.Operands.Select(Value).ToArray(), total, scale);
        }
        double norm = r.Axes.TraceSize(r.Out1.Shape);
        if (norm != 1) Einsum.ScaleInPlace(total, 1.0 / norm);
        // The ∂f/∂y and Jacobians are dead: their storage goes back to the kernel function's pool, if any.
        BufferPool.Release(v1.A.Concat(v1.J).Concat(v2.A).Concat(v2.J), new[] { total });
        return total;
    }

    /// <summary>Every MJJMP's einsum planned in <paramref name="session"/>, in term order.</summary>
    private static Einsum.Planned[] Plans(Einsum.Session session, Plan plan) =>
        plan.Terms.Select(t => session.Add(t.Operands.Select(o => (o.Ids, o.Shape, (object?)o.Key)).ToArray(), t.Output)).ToArray();

    /// <summary>FLOPs of the passes and the MJJMP einsums (paths planned on shapes), and the bytes held at once.</summary>
    public static (double Flops, double Bytes) Estimate(KernelRequest r)
    {
        var plan = PlanFor(r);
        var (s1, s2, compressed) = (plan.Side1, plan.Side2, plan.Compressed);
        var (macs, largest) = ContractionPlan(plan);
        double einsum = 2 * macs;
        // Forward pass, ∂f/∂y pass (one backward pass per output element that stops at the parameter consumers) and
        // the compressed Jacobians, from the very graphs SD evaluates.
        double passes = PassFlops(s1, r.Parameters, compressed) + (r.SameInputs ? 0 : PassFlops(s2, r.Parameters, compressed));
        double kernelBytes = r.Axes.KernelShape(r.Out1.Shape, r.Out2.Shape).LongSize * (double)r.Out1.DType.SizeOf();
        return (passes + einsum, PeakBytes(plan, r.Parameters, kernelBytes));
    }

    /// <summary>
    /// Peak bytes held while <see cref="Ntk"/> runs (the kernel itself excluded: the caller counts it), in two phases.
    /// Each side's passes: the forward pass, then the ∂f/∂y pass with the residuals as inputs, each by its liveness
    /// peak (<see cref="GraphCost.PeakBytes"/> of the very graph), while the other side's values are held. Then the contraction: every ∂f/∂y
    /// (one per root) and compressed ∂y/∂w, plus the einsum session's pairwise results by their lifetimes (a Gram
    /// shared by W and b held until its last reader) and the operand copies of a pairwise step. Garbage the GC has not
    /// yet collected is not counted (see <see cref="MemoryBudget.GarbageAllowance"/>).
    /// </summary>
    private static double PeakBytes(Plan plan, Params p, double kernelBytes)
    {
        double size = plan.Side1.Linear.Outputs[0].Type.DType.SizeOf();
        static double Bytes(TensorType t) => t.Shape.Elements * t.DType.SizeOf();
        double ValueBytes(Side s)
        {
            double lead = Math.Max(1, s.Examples);
            double a = s.Uses.Select(u => (u.Root, u.Y)).Distinct().Sum(x => lead * s.Fx.Size * (double)x.Y.Size * size);
            double j = s.Uses.Select((u, k) => Bytes(JacobianGraph(s, k, plan.Compressed).Item1.Outputs[0].Type)).Sum();
            return a + j;
        }
        // The ∂f/∂y graph's inputs are the residuals and the basis, so its peak includes them.
        double PassBytes(Side s) => Math.Max(GraphCost.PeakBytes(s.Known), GraphCost.PeakBytes(Backward(s, p.Count).Item1));
        var sides = ReferenceEquals(plan.Side1, plan.Side2) ? new[] { plan.Side1 } : new[] { plan.Side1, plan.Side2 };
        double held = 0, peak = 0;
        foreach (var s in sides)
        {
            peak = Math.Max(peak, held + PassBytes(s));
            held += ValueBytes(s);
        }
        var session = new Einsum.Session();
        var plans = Plans(session, plan);
        // A pairwise step copies its operands into GEMM order (transposed ∂f/∂y made contiguous) while the step runs:
        // two copies of the largest ∂f/∂y (measured: without them the 5,620-example digits FCN held ~400 MB more than
        // estimated, 1,183 MiB peak RSS for a 741 MiB estimate). With x2 = x1 the big steps are Grams of one ∂f/∂y
        // (SymmetricDot from 256 rows: one copy, read by Blas.Gram in place); counting two there over-estimated a
        // 1,000-example float64 FCN by 26 % (211 MiB for 168 measured).
        double largest = sides.SelectMany(s => s.Uses.Select(u => Math.Max(1, s.Examples) * s.Fx.Size * (double)u.Y.Size * size)).DefaultIfEmpty(0).Max();
        int copies = sides.Length == 1 && plan.Side1.Examples >= 256 ? 1 : 2;
        double contraction = held + session.PeakElements(plans) * size + copies * largest;
        // The MJJMP results are kernel-sized and die one after another; the pacer collects only after the allocation
        // that crossed its allowance, so when one result is larger than the allowance a dead one can still be resident
        // beside the next (measured: the 5,620-example digits FCN, 126 MB per result, peaked ~300 MiB over the estimate
        // without this term).
        if (kernelBytes > MemoryBudget.GarbageAllowance(contraction)) contraction += kernelBytes;
        return Math.Max(peak, contraction);
    }

    /// <summary>The compressed axes of each parameter: the intersection over every use on both sides (NT's cache
    /// structure), so that all uses trim the same w axes and their Jacobians share w's remaining indices.</summary>
    private static Dictionary<int, HashSet<int>> CompressedAxes(Side s1, Side s2)
    {
        var compressed = new Dictionary<int, HashSet<int>>();
        foreach (var u in s1.Uses.Concat(s2.Uses))
        {
            var mine = u.Rule.CompressedW.ToHashSet();
            if (compressed.TryGetValue(u.W, out var set)) set.IntersectWith(mine); else compressed[u.W] = mine;
        }
        return compressed;
    }

    /// <summary>Linearises f on this side and finds the equations that consume a parameter tangent.</summary>
    private static Side Prepare(TracedApply f, Params p, Tensor[] xs, int j, Batching? b, SdRules rules)
    {
        int np = p.Count;
        var g = f.OutputGraph(f.GraphFor(p, b?.ExampleTypes(xs) ?? xs.Select(TensorType.Of).ToArray()), j);
        var jvp = Ad.JvpGraph(g, Masks.First(g.Inputs.Count, np));
        // Keep only the output tangent; a parameter that is itself the output gets an explicit copy as its consumer.
        var tangent = Ad.Trace(ins =>
        {
            var outs = Interpreter.Inline(ins[0].Builder, jvp, ins);
            var t = outs[1];
            if (ins[^np..].Any(x => ReferenceEquals(x, t))) t = ins[0].Builder.Emit(new CopyPrimitive(), t);
            return new[] { t };
        }, jvp.InputTypes);
        var staged = Ad.Linearize(tangent, Masks.From(tangent.Inputs.Count, tangent.Inputs.Count - np));
        var (known, linear) = (staged.Known, staged.Unknown);
        int nr = linear.Inputs.Count - np;
        // Residuals that do not depend on the examples (the weights a backward pass multiplies by) stay unbatched
        // (vmap out_axes=None): broadcast per example they turned one GEMM of the ∂f/∂y pass into E small ones.
        var inAxes = b is null ? null : InAxes.Concat(InAxes.None(np), b.StackAxes);
        var batched = b is null ? new bool[nr] : VmapTransform.BatchedOutputs(known, inAxes!);
        var knownBatched = b is null ? known : Ad.Vmap(known, inAxes!, batched.Select(x => x ? (int?)0 : null).ToArray(), b.Count);
        var tparams = linear.Inputs.Skip(nr).ToArray();
        var readers = Readers(linear);
        var uses = new List<Use>();
        for (int e = 0; e < linear.Equations.Count; e++)
        {
            var eq = linear.Equations[e];
            for (int k = 0; k < eq.Inputs.Count; k++)
                if (eq.Inputs[k] is Var v && Array.IndexOf(tparams, v) is var w && w >= 0)
                {
                    var rule = !rules.Structure ? StructureRule.None : eq.Primitive.Structure(k, eq.Inputs.Select(a => a.Type).ToArray(), eq.Inputs.ToArray());
                    var (root, factor) = rules.ShareCotangents ? RootOf(linear, eq.Output, readers) : (eq.Output, 1.0);
                    var use = new Use(e, k, w, rule, rule.YInWShape ? v.Type.Shape : eq.Output.Type.Shape, root, factor);
                    CheckRule(eq, use, v.Type.Shape);
                    uses.Add(use);
                }
        }
        return new Side { JacobianRules = rules.Jacobian, Linear = linear, Known = ScaleFoldTransform.Apply(knownBatched), Uses = uses, Fx = g.Outputs[0].Type.Shape, NumResiduals = nr, Batched = batched, Batching = b };
    }

    /// <summary>Where each variable of <paramref name="g"/> is read: (equation, operand) pairs; a graph output counts as a reader.</summary>
    private static Dictionary<Var, List<(int Eqn, int Input)>> Readers(Graph g)
    {
        var readers = new Dictionary<Var, List<(int, int)>>();
        void Add(Atom a, int e, int i) { if (a is Var v) (readers.TryGetValue(v, out var l) ? l : readers[v] = new()).Add((e, i)); }
        for (int e = 0; e < g.Equations.Count; e++)
            for (int i = 0; i < g.Equations[e].Inputs.Count; i++) Add(g.Equations[e].Inputs[i], e, i);
        foreach (var o in g.Outputs) Add(o, -1, -1);
        return readers;
    }

    /// <summary>
    /// The latest value whose ∂f/∂ gives ∂f/∂<paramref name="y"/>, and the factor between them: while y's only reader
    /// is a sum, a difference, a negation or a product with a uniform constant c (same type), ∂f/∂y = ±c·∂f/∂(its
    /// output). A Dense layer's W (σ_w/√n · x·W) and b (σ_b · b) meet at their sum, so both uses read the same ∂f/∂y,
    /// whose Gram — the most expensive step of their MJJMPs — is then computed once (the factors are folded into the
    /// compressed Jacobians, which are far smaller). A bias broadcast before the sum (a batch without vmap axes, or a
    /// convolution's) keeps its own ∂f/∂y.
    /// </summary>
    private static (Var Root, double Factor) RootOf(Graph g, Var y, Dictionary<Var, List<(int Eqn, int Input)>> readers)
    {
        double factor = 1;
        while (readers.TryGetValue(y, out var r) && r.Count == 1 && r[0].Eqn >= 0)
        {
            var (k, i) = r[0];
            var e = g.Equations[k];
            if (e.Output.Type != y.Type) break;
            switch (e.Primitive)
            {
                case AddPrimitive: break;
                case SubPrimitive: if (i == 1) factor = -factor; break;
                case NegPrimitive: factor = -factor; break;
                case MulPrimitive when e.Inputs[1 - i] is Literal l && Uniform(l.Value) is { } c: factor *= c; break;
                default: return (y, factor);
            }
            y = e.Output;
        }
        return (y, factor);
    }

    /// <summary>The value of every element when they are all equal (a broadcast scalar), else null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double? Uniform(Tensor t)
    {
        if (t.Size == 0 || t.Size > 1 << 20) return null;
        // The literals met here are broadcast scalars (every stride 0): one element, no copy. Materialising them cost
        // the seed CNN 3 MB of large-object garbage per call and a loop that ran as tier-0/OSR code in warm calls.
        bool broadcast = true;
        for (int i = 0; i < t.Rank; i++) broadcast &= t.Strides[i] == 0 || t.Shape[i] == 1;
        if (broadcast) return t[new int[t.Rank]];
        var v = t.ToDoubleArray();
        foreach (var x in v) if (x != v[0]) return null;
        return v[0];
    }

    /// <summary>NT's <c>get_structure</c> sanity checks (Neural Tangents' <c>rules.py</c>): a faulty rule is a bug of ours, reported as such
    /// rather than as an einsum size mismatch that would look like bad input.</summary>
    private static void CheckRule(Equation eq, Use use, Shape w)
    {
        var r = use.Rule;
        foreach (var (y, x) in r.Trace.Concat(r.Diagonal))
            if (y < 0 || y >= use.Y.Rank || x < 0 || x >= w.Rank || use.Y[y] != w[x])
                throw new InvalidOperationException($"structure rule of {eq.Primitive} pairs y axis {y} of {use.Y} with w axis {x} of {w}");
        if (r.CompressedW.Distinct().Count() != r.CompressedW.Count() || r.Broadcast.Any(a => a < 0 || a >= use.Y.Rank))
            throw new InvalidOperationException($"structure rule of {eq.Primitive} is malformed: {r}");
    }

    /// <summary>The values of one side planned by <paramref name="s"/> for inputs <paramref name="xs"/>: the forward pass
    /// (residuals), then ∂f/∂y (recorded cotangents over the output basis) and compressed ∂y/∂w for every use.</summary>
    private static SideValues Evaluate(Side s, Params p, Tensor[] xs, IReadOnlyDictionary<int, HashSet<int>> compressed, ComputeBackend backend)
    {
        int nr = s.NumResiduals;
        var L = s.Linear;
        var b = s.Batching;
        var (back, record) = Backward(s, p.Count);
        var residuals = Interpreter.Evaluate(s.Known, TracedApply.Inputs(p, b is null ? xs : b.Stack(xs, 0, b.Count)), backend);
        var basis = StandardBasis.Of(s.Fx, L.Outputs[0].Type.DType, 0, s.Fx.Size);
        var cts = Interpreter.Evaluate(back, residuals.Append(basis).ToArray(), backend);
        var A = new Tensor[s.Uses.Count]; var J = new Tensor[s.Uses.Count];
        var lead = b is null ? Array.Empty<int>() : new[] { b.Count };
        var byRoot = new Dictionary<(Var, Shape), Tensor>();   // uses with one root share one ∂f/∂y tensor
        for (int u = 0; u < s.Uses.Count; u++)
        {
            var use = s.Uses[u];
            var shape = new Shape(lead.Concat(s.Fx).Concat(use.Y));
            A[u] = byRoot.TryGetValue((use.Root, shape), out var a) ? a : byRoot[(use.Root, shape)] = ReshapeView(cts[Array.IndexOf(record, use.Root)], shape);
            var (jg, consts) = JacobianGraph(s, u, compressed);
            var values = consts.Select(v => residuals[IndexOf(L.Inputs, v, nr)]).ToArray();
            var jac = Interpreter.Evaluate(jg, values, backend)[0];
            J[u] = jac;   // unscaled: Ntk multiplies each term's result by its uses' factors
        }
        // Residuals and the cotangents no use reads are dead (a Jacobian or ∂f/∂y may be one of them, or a view: kept).
        BufferPool.Release(residuals.Concat(cts), A.Concat(J));
        return new SideValues(A, J);
    }

    /// <summary><paramref name="t"/> reshaped to <paramref name="shape"/>, as a view when only size-1 axes differ: a ∂f/∂y
    /// that the examples share (the last layer's, broadcast over the example axis) stays a broadcast instead of being
    /// copied to full size, (examples, basis, 26, 26, 32) on the seed CNN. Otherwise <see cref="Tensor.Reshape(Shape)"/>.</summary>
    internal static Tensor ReshapeView(Tensor t, Shape shape)
    {
        if (t.IsContiguous || t.Shape == shape) return t.Reshape(shape);
        var dims = shape.ToArray();
        if (!t.Shape.Where(d => d != 1).SequenceEqual(dims.Where(d => d != 1))) return t.Reshape(shape);
        var v = t.Squeeze(Enumerable.Range(0, t.Rank).Where(a => t.Shape[a] == 1).ToArray());
        for (int a = 0; a < dims.Length; a++) if (dims[a] == 1) v = v.ExpandDims(a);
        return v;
    }

    /// <summary>The ∂f/∂y pass: the linear program transposed once, recording the cotangent of every parameter
    /// consumer's output, vmapped over the output basis (and over examples when batched):
    /// (residuals…, basis) ↦ (recorded cotangents…).</summary>
    private static (Graph, Var[] Record) Backward(Side s, int np) => (s.BackwardGraph ??= new(MakeBackward(s, np))).Value;

    private static (Graph, Var[] Record) MakeBackward(Side s, int np)
    {
        var b = s.Batching;
        int nr = s.NumResiduals;
        var L = s.Linear;
        var record = s.Uses.Select(u => u.Root).Distinct().ToArray();
        var back = TransposeTransform.Apply(L, Masks.From(L.Inputs.Count, nr), new[] { true }, record);
        back = DceTransform.Apply(new Graph(back.Inputs, back.Equations, back.Outputs.Skip(np).ToArray(), back.VarCount));
        var vb = Ad.Vmap(back, InAxes.Only(nr + 1, nr), InAxes.Out(record.Length), s.Fx.Size);
        var full = b is null ? vb : Ad.Vmap(vb, InAxes.Concat(s.Batched.Select(x => x ? (int?)0 : null).ToArray(), InAxes.None(1)), InAxes.Out(record.Length), b.Count);
        // σ_w/√n scales each layer's (examples, basis, …) cotangent before the layer's adjoint: scale its weight instead.
        return (ScaleFoldTransform.Apply(full), record);
    }

    /// <summary>The compressed ∂y/∂w graph of use <paramref name="u"/> (vmapped over examples when batched).</summary>
    private static (Graph, Var[]) JacobianGraph(Side s, int u, IReadOnlyDictionary<int, HashSet<int>> compressed)
    {
        // Cached per side for the plan's compressed axes (a side belongs to one plan; another dictionary starts over).
        var cache = s.JacobianGraphs;
        if (cache is null || !ReferenceEquals(s.JacobianCompressed, compressed))
        {
            cache = new StrongBox<(Graph, Var[])>?[s.Uses.Count];
            s.JacobianCompressed = compressed;
            s.JacobianGraphs = cache;
        }
        return (cache[u] ??= new(MakeJacobianGraph(s, u, compressed))).Value;
    }

    private static (Graph, Var[]) MakeJacobianGraph(Side s, int u, IReadOnlyDictionary<int, HashSet<int>> compressed)
    {
        var b = s.Batching;
        var use = s.Uses[u];
        var (jg, consts) = CompressedJacobian.Build(s.Linear.Equations[use.Eqn], use.Input, use.Rule.Restrict(compressed[use.W]),
            v => IndexOf(s.Linear.Inputs, v, s.NumResiduals) >= 0, s.JacobianRules);
        return (b is null ? jg : Ad.Vmap(jg, consts.Select(v => s.Batched[IndexOf(s.Linear.Inputs, v, s.NumResiduals)] ? (int?)0 : null).ToArray(), new[] { 0 }, b.Count), consts);
    }

    /// <summary>FLOPs of everything but the MJJMP einsums on this side (the AUTO cost model): the forward pass that
    /// produces the residuals, the ∂f/∂y pass and the compressed Jacobians.</summary>
    private static double PassFlops(Side s, Params p, IReadOnlyDictionary<int, HashSet<int>> compressed) =>
        GraphCost.Flops(s.Known) + GraphCost.Flops(Backward(s, p.Count).Item1)
        + Enumerable.Range(0, s.Uses.Count).Sum(u => GraphCost.Flops(JacobianGraph(s, u, compressed).Item1));

    private static int IndexOf(IReadOnlyList<Var> inputs, Var v, int count)
    {
        for (int i = 0; i < count; i++) if (ReferenceEquals(inputs[i], v)) return i;
        return -1;
    }

    /// <summary>The einsum plans of every MJJMP from shapes only (the AUTO cost model): total multiply-adds (a step
    /// shared between MJJMPs counted once, as it is computed) and the elements of the largest intermediate.</summary>
    private static (double Cost, double LargestElements) ContractionPlan(Plan plan)
    {
        var plans = Plans(new Einsum.Session(), plan);
        return (plans.Sum(p => p.Cost), plans.Select(p => p.LargestElements).DefaultIfEmpty(0).Max());
    }

    /// <summary>Every pair of uses (x1 side, x2 side) of the same parameter: one MJJMP each.</summary>
    private static IEnumerable<(int A, int B)> UsePairs(Side s1, Side s2) =>
        from a in Enumerable.Range(0, s1.Uses.Count) from b in Enumerable.Range(0, s2.Uses.Count) where s1.Uses[a].W == s2.Uses[b].W select (a, b);

    /// <summary>One MJJMP <c>Σ ∂f1/∂y_a · ∂y_a/∂w · ∂y_b/∂w · ∂f2/∂y_b</c> laid out as the kernel (not yet divided by |T|):
    /// the four operands with their einsum ids and the output ids
    /// (Neural Tangents' <c>_get_ntk_structured</c>): a traced or diagonal y axis takes an id keyed by its w axis, shared by both ∂f/∂y factors
    /// (and, when diagonal, by both Jacobians); a broadcast y axis of ∂f/∂y is summed on its own side.</summary>
    private static Term Operands(Side s1, int a, Side s2, int b, KernelAxes axes, int? out1, int? out2,
        IReadOnlyDictionary<int, HashSet<int>> compressed)
    {
        int next = 0;
        int r = axes.Rank;
        var id1 = new int[r]; var id2 = new int[r];
        var output = new List<int>();
        foreach (var x in axes.Layout.Axes)
        {
            int ax = x.Axis;
            if (x.Kind == KernelAxisKind.Free) { id1[ax] = next++; id2[ax] = next++; }
            else id1[ax] = id2[ax] = next++;
            if (x.Kind == KernelAxisKind.Trace) continue;
            output.Add(id1[ax]);
            if (x.Kind == KernelAxisKind.Free) output.Add(id2[ax]);
        }
        var pairId = new Dictionary<int, int>();   // compressed w axis → the y index shared across sides
        var wIds = new Dictionary<int, int>();     // uncompressed w axis → id shared by the two Jacobians
        var ops = new List<Operand>();
        void AddSide(Side s, int u, int[] ids, int? outAxis, int examples)
        {
            var use = s.Uses[u];
            var rule = use.Rule.Restrict(compressed[use.W]);
            var wShape = s.Linear.Equations[use.Eqn].Inputs[use.Input].Type.Shape;
            var yShape = use.Y;
            int ry = yShape.Rank, rw = wShape.Rank;
            var fx = new List<int>();
            var jac = new List<int>();
            var lead = outAxis is null ? Array.Empty<int>() : new[] { examples };
            if (outAxis is { } o) { fx.Add(ids[o]); jac.Add(ids[o]); }
            for (int ax = 0; ax < r; ax++) fx.Add(outAxis == ax ? next++ : ids[ax]);
            int Shared(int w) => pairId.TryGetValue(w, out var t) ? t : pairId[w] = next++;
            for (int y = 0; y < ry; y++)
            {
                var tr = Array.FindIndex(rule.Trace, p => p.Y == y);
                var dg = Array.FindIndex(rule.Diagonal, p => p.Y == y);
                if (tr >= 0) { fx.Add(Shared(rule.Trace[tr].W)); jac.Add(next++); }
                else if (dg >= 0) { var id = Shared(rule.Diagonal[dg].W); fx.Add(id); jac.Add(id); }
                else if (rule.Broadcast.Contains(y)) { fx.Add(next++); jac.Add(next++); }
                else { fx.Add(next); jac.Add(next++); }
            }
            var trimmed = rule.CompressedW.ToHashSet();
            for (int w = 0; w < rw; w++)
                jac.Add(trimmed.Contains(w) ? next++ : (wIds.TryGetValue(w, out var id) ? id : wIds[w] = next++));
            var aShape = new Shape(lead.Concat(s.Fx).Concat(yShape));
            var jShape = new Shape(lead.Concat(rule.TrimY(yShape)).Concat(rule.TrimW(wShape)));
            // Keys: with x2 = null both sides are the same Side, so the einsum computes ∂f/∂y·∂y/∂w once.
            ops.Add(new Operand(aShape, fx.ToArray(), s, u, Jacobian: false));
            ops.Add(new Operand(jShape, jac.ToArray(), s, u, Jacobian: true));
        }
        AddSide(s1, a, id1, out1, s1.Examples);
        AddSide(s2, b, id2, out2, s2.Examples);
        return new Term(a, b, ops.ToArray(), output.ToArray());
    }
}
