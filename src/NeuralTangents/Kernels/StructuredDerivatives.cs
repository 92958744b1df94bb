using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Transforms;

namespace NeuralTangents.Kernels;

/// <summary>
/// NTK by structured derivatives (Neural Tangents' <c>STRUCTURED_DERIVATIVES</c>; Novak et al. 2022 §4, spec §6).
/// f is linearised (JVP w.r.t. the parameters, then partial evaluation leaves the linear tangent program). For
/// every equation that consumes a parameter tangent w directly, we obtain <c>∂f/∂y</c> (one backward pass over the
/// standard basis of f's output, recording the cotangent of y) and a structure-compressed <c>∂y/∂w</c>: along each
/// constant block-diagonal pair of axes (e.g. a Dense layer's output units) both are trimmed to size 1, so for
/// <c>y = x·W</c> the Jacobian shrinks to the inputs x and for a convolution to its im2col patches. Each pair of
/// uses (x1 side, x2 side) of the same w is then one einsum (an MJJMP) contracted in a cost-aware order
/// (<see cref="Einsum"/>). Equations without a structure rule fall back to their full Jacobian (correct, slower).
/// </summary>
internal static class StructuredDerivatives
{
    internal sealed record Use(int Eqn, int Input, int W, StructureRule Rule);

    internal sealed class Side
    {
        public required Graph Linear;           // (residuals…, tparams…) ↦ ty
        public required Lazy<Tensor[]> Residuals; // per-example stacks (E, …) when batched; evaluated on first use
        public required List<Use> Uses;
        public required Shape Fx;               // output shape (per example when batched)
        public required int NumResiduals;
        public int Examples;                     // number of examples when batched
        public Tensor[] A = Array.Empty<Tensor>();   // ∂f/∂y per use: ([E,] fx…, y…)
        public Tensor[] J = Array.Empty<Tensor>();   // trimmed ∂y/∂w per use: ([E,] y'…, w'…)
        public (int Y, int W)[][] Pairs = Array.Empty<(int, int)[]>();
    }

    public static Tensor Ntk(TracedApply f, Params p, Tensor[] x1, Tensor[]? x2, int j, KernelAxes axes, Batching? b1, Batching? b2)
    {
        var s1 = Prepare(f, p, x1, j, b1);
        var s2 = x2 is null ? s1 : Prepare(f, p, x2, j, b2 ?? b1);
        var traced = TracedAxes(s1, s2);
        Compute(s1, p, traced, b1);
        if (!ReferenceEquals(s1, s2)) Compute(s2, p, traced, b2 ?? b1);

        var fx1 = Shape1(s1, x1, b1, j, f, p); var fx2 = Shape1(s2, x2 ?? x1, b2 ?? b1, j, f, p);
        var kShape = axes.KernelShape(fx1, fx2);
        Tensor? total = null;
        for (int a = 0; a < s1.Uses.Count; a++)
            for (int b = 0; b < s2.Uses.Count; b++)
            {
                if (s1.Uses[a].W != s2.Uses[b].W) continue;
                var term = Mjjmp(s1, a, s2, b, axes, b1?.Out[j], b2?.Out[j] ?? b1?.Out[j]);
                total = total is null ? term : Elementwise.Binary(BinaryOp.Add, total, term);
            }
        var dtype = f.OutputTypes(p, x1.Select(TensorType.Of).ToArray())[j].DType;
        if (total is null) return Tensor.Zeros(kShape, dtype);
        double norm = axes.TraceSize(fx1);
        return norm == 1 ? total : Elementwise.Scale(total, 1.0 / norm);
    }

    private static Shape Shape1(Side s, Tensor[] xs, Batching? b, int j, TracedApply f, Params p) =>
        b is null ? s.Fx : f.OutputTypes(p, xs.Select(TensorType.Of).ToArray())[j].Shape;

    /// <summary>Linearises f on this side and finds the equations that consume a parameter tangent.</summary>
    /// <summary>One structure per parameter: the intersection over every use on both sides (uses must agree on trimmed axes).</summary>
    internal static Dictionary<int, HashSet<int>> TracedAxes(Side s1, Side s2)
    {
        var traced = new Dictionary<int, HashSet<int>>();
        foreach (var u in s1.Uses.Concat(s2.Uses))
        {
            var mine = u.Rule.Pairs.Select(pr => pr.W).ToHashSet();
            if (traced.TryGetValue(u.W, out var set)) set.IntersectWith(mine); else traced[u.W] = mine;
        }
        return traced;
    }

    internal static Side Prepare(TracedApply f, Params p, Tensor[] xs, int j, Batching? b)
    {
        int np = p.Count;
        var g = f.OutputGraph(f.GraphFor(p, b?.ExampleTypes(xs) ?? xs.Select(TensorType.Of).ToArray()), j);
        var jvp = Ad.JvpGraph(g, Enumerable.Range(0, g.Inputs.Count).Select(i => i < np).ToArray());
        // Keep only the output tangent; a parameter that is itself the output gets an explicit copy as its consumer.
        var tangent = Ad.Trace(ins =>
        {
            var outs = Interpreter.Inline(ins[0].Builder, jvp, ins);
            var t = outs[1];
            if (ins[^np..].Any(x => ReferenceEquals(x, t))) t = ins[0].Builder.Emit(new CopyPrimitive(), t);
            return new[] { t };
        }, jvp.InputTypes);
        var unknown = Enumerable.Range(0, tangent.Inputs.Count).Select(i => i >= tangent.Inputs.Count - np).ToArray();
        var (known, linear) = PartialEval.Split(tangent, unknown);
        int nr = linear.Inputs.Count - np;
        var residuals = new Lazy<Tensor[]>(() => b is null
            ? Interpreter.Evaluate(known, TracedApply.Inputs(p, xs))
            : Interpreter.Evaluate(Ad.Vmap(known, Enumerable.Repeat((int?)null, np).Concat(b.StackAxes).ToArray(), Enumerable.Repeat(0, known.Outputs.Count).ToArray(), b.Count),
                TracedApply.Inputs(p, b.Stack(xs, 0, b.Count))));
        var tparams = linear.Inputs.Skip(nr).ToArray();
        var uses = new List<Use>();
        for (int e = 0; e < linear.Equations.Count; e++)
        {
            var eq = linear.Equations[e];
            for (int k = 0; k < eq.Inputs.Count; k++)
                if (eq.Inputs[k] is Var v && Array.IndexOf(tparams, v) is var w && w >= 0)
                    uses.Add(new Use(e, k, w, eq.Primitive.Structure(k, eq.Inputs.Select(a => a.Type).ToArray(), eq.Inputs.ToArray())));
        }
        return new Side { Linear = linear, Residuals = residuals, Uses = uses, Fx = g.Outputs[0].Type.Shape, NumResiduals = nr, Examples = b?.Count ?? 0 };
    }

    /// <summary>∂f/∂y (recorded cotangents over the output basis) and trimmed ∂y/∂w for every use on this side.</summary>
    private static void Compute(Side s, Params p, Dictionary<int, HashSet<int>> traced, Batching? b)
    {
        int nr = s.NumResiduals, np = p.Count;
        var L = s.Linear;
        var record = s.Uses.Select(u => L.Equations[u.Eqn].Output).Distinct().ToArray();
        var back = TransposeTransform.Apply(L, Enumerable.Range(0, L.Inputs.Count).Select(i => i >= nr).ToArray(), new[] { true }, record);
        back = DceTransform.Apply(new Graph(back.Inputs, back.Equations, back.Outputs.Skip(np).ToArray(), back.VarCount));
        int m = s.Fx.Size;
        var basis = StandardBasis.Of(s.Fx, L.Outputs[0].Type.DType, 0, s.Fx.Size);
        var vb = Ad.Vmap(back, Enumerable.Range(0, nr + 1).Select(i => i == nr ? (int?)0 : null).ToArray(), Enumerable.Repeat(0, record.Length).ToArray(), m);
        Tensor[] cts = b is null
            ? Interpreter.Evaluate(vb, s.Residuals.Value.Append(basis).ToArray())
            : Interpreter.Evaluate(Ad.Vmap(vb, Enumerable.Range(0, nr + 1).Select(i => i == nr ? (int?)null : 0).ToArray(), Enumerable.Repeat(0, record.Length).ToArray(), b.Count),
                s.Residuals.Value.Append(basis).ToArray());
        s.A = new Tensor[s.Uses.Count]; s.J = new Tensor[s.Uses.Count]; s.Pairs = new (int, int)[s.Uses.Count][];
        for (int u = 0; u < s.Uses.Count; u++)
        {
            var use = s.Uses[u];
            var eq = L.Equations[use.Eqn];
            var ct = cts[Array.IndexOf(record, eq.Output)];
            var lead = b is null ? Array.Empty<int>() : new[] { b.Count };
            s.A[u] = ct.Reshape(new Shape(lead.Concat(s.Fx).Concat(eq.Output.Type.Shape)));
            var pairs = use.Rule.Pairs.Where(pr => traced[use.W].Contains(pr.W)).ToArray();
            (s.J[u], s.Pairs[u]) = TrimmedJacobian(eq, use, pairs, s, b);
        }
    }

    /// <summary>∂y/∂w of one equation with the traced axes of y and w trimmed to size 1: ([E,] y'…, w'…).</summary>
    private static (Tensor, (int, int)[]) TrimmedJacobian(Equation eq, Use use, (int Y, int W)[] pairs, Side s, Batching? b)
    {
        var wType = eq.Inputs[use.Input].Type;
        var trimW = pairs.Select(pr => pr.W).ToHashSet();
        var wShape = new Shape(wType.Shape.Select((d, a) => trimW.Contains(a) ? 1 : d));
        var constInputs = new List<int>();   // residual indices fed to the Jacobian graph
        var builder = new GraphBuilder();
        var ins = new Tracer[eq.Inputs.Count];
        Tracer Trim(Tracer t) => use.Rule.SliceSameShapeConstants && t.Shape == wType.Shape && trimW.Count > 0
            ? Lax.Slice(t, new int[t.Rank], t.Shape.Select((d, a) => trimW.Contains(a) ? 1 : d).ToArray()) : t;
        for (int k = 0; k < eq.Inputs.Count; k++)
        {
            if (k == use.Input) continue;
            var a = eq.Inputs[k];
            int ri = a is Var v ? IndexOf(s.Linear.Inputs, v, s.NumResiduals) : -1;
            if (a is Literal l) ins[k] = Trim(builder.Constant(l.Value));
            else if (ri >= 0) { constInputs.Add(ri); ins[k] = Trim(builder.NewInput(a.Type)); }
            else ins[k] = builder.Zeros(use.Rule.SliceSameShapeConstants && a.Type.Shape == wType.Shape ? new TensorType(wShape, a.Type.DType) : a.Type);
        }
        // A custom Jacobian rule when the primitive has one (dot_general, conv): no basis to vmap over.
        var custom = new GraphBuilder();
        var cins = new Tracer?[eq.Inputs.Count];
        var cconsts = new List<int>();
        for (int k = 0; k < eq.Inputs.Count; k++)
        {
            if (k == use.Input) continue;
            var a = eq.Inputs[k];
            int ri = a is Var v ? IndexOf(s.Linear.Inputs, v, s.NumResiduals) : -1;
            if (a is Literal l) cins[k] = custom.Constant(l.Value);
            else if (ri >= 0) { cconsts.Add(ri); cins[k] = custom.NewInput(a.Type); }
        }
        var jr = cins.Where((t, k) => k != use.Input).All(t => t is not null)
            ? eq.Primitive.Jacobian(custom, use.Input, cins, eq.Inputs.Select(a => a.Type).ToArray(), pairs) : null;
        int lead = b is null ? 0 : 1;
        if (jr is not null)
        {
            var jg = custom.Build(new[] { jr });
            var cvals = cconsts.Select(i => s.Residuals.Value[i]).ToArray();
            var jv = b is null ? Interpreter.Evaluate(jg, cvals)[0]
                : Interpreter.Evaluate(Ad.Vmap(jg, cconsts.Select(_ => (int?)0).ToArray(), new[] { 0 }, b.Count), cvals)[0];
            return (jv, pairs.Select(pr => (pr.Y, pr.W)).ToArray());
        }
        ins[use.Input] = builder.NewInput(new TensorType(wShape, wType.DType));
        var y = builder.Emit(eq.Primitive, ins);
        if (pairs.Any(pr => y.Shape[pr.Y] != 1)) throw new InvalidOperationException($"structure rule of {eq.Primitive.Name} does not trim its output as claimed");
        var h = builder.Build(new[] { y });
        int nc = constInputs.Count, pw = wShape.Size;
        var jw = Ad.Vmap(h, Enumerable.Range(0, nc + 1).Select(i => i == nc ? (int?)0 : null).ToArray(), new[] { 0 }, pw);   // (|w'|, y'…)
        var consts = constInputs.Select(i => s.Residuals.Value[i]).ToList();
        var basis = StandardBasis.Of(wShape, wType.DType, 0, wShape.Size);
        Tensor jac;
        if (b is null) jac = Interpreter.Evaluate(jw, consts.Append(basis).ToArray())[0];
        else jac = Interpreter.Evaluate(Ad.Vmap(jw, Enumerable.Range(0, nc + 1).Select(i => i == nc ? (int?)null : 0).ToArray(), new[] { 0 }, b.Count),
            consts.Append(basis).ToArray())[0];                                                                       // (E, |w'|, y'…)
        var full = jac.Reshape(new Shape(jac.Shape.Take(lead).Concat(wShape).Concat(y.Shape)));
        int rw = wShape.Rank, ry = y.Rank;
        var perm = Enumerable.Range(0, lead).Concat(Enumerable.Range(lead + rw, ry)).Concat(Enumerable.Range(lead, rw)).ToArray();
        return (full.Transpose(perm), pairs.Select(pr => (pr.Y, pr.W)).ToArray());
    }

    private static int IndexOf(IReadOnlyList<Var> inputs, Var v, int count)
    {
        for (int i = 0; i < count; i++) if (ReferenceEquals(inputs[i], v)) return i;
        return -1;
    }

    /// <summary>One MJJMP: <c>Σ ∂f1/∂y_a · ∂y_a/∂w · ∂y_b/∂w · ∂f2/∂y_b</c> laid out as the kernel (not yet divided by |T|).</summary>
    private static Tensor Mjjmp(Side s1, int a, Side s2, int b, KernelAxes axes, int? out1, int? out2)
    {
        var (ops, output) = Operands(s1, a, s2, b, axes, out1, out2);
        return Einsum.Contract(ops.Select(o => new Einsum.Operand(o.Value!, o.Ids)).ToArray(), output);
    }

    /// <summary>Multiply-adds of every MJJMP einsum, from shapes only (the AUTO cost model).</summary>
    internal static double ContractionCost(Side s1, Side s2, KernelAxes axes, int? out1, int? out2, Dictionary<int, HashSet<int>> traced)
    {
        double total = 0;
        for (int a = 0; a < s1.Uses.Count; a++)
            for (int b = 0; b < s2.Uses.Count; b++)
            {
                if (s1.Uses[a].W != s2.Uses[b].W) continue;
                var (ops, output) = Operands(s1, a, s2, b, axes, out1, out2, traced);
                total += Einsum.Cost(ops.Select(o => (o.Ids, o.Shape)).ToArray(), output);
            }
        return total;
    }

    /// <summary>The four MJJMP operands with their einsum ids (values when computed, shapes always) and the output ids.</summary>
    private static (List<(Tensor? Value, Shape Shape, int[] Ids)>, int[]) Operands(Side s1, int a, Side s2, int b, KernelAxes axes, int? out1, int? out2,
        Dictionary<int, HashSet<int>>? traced = null)
    {
        int next = 0;
        int r = axes.Rank;
        var id1 = new int[r]; var id2 = new int[r];
        var output = new List<int>();
        for (int ax = 0; ax < r; ax++)
        {
            if (axes.Trace.Contains(ax) || axes.Diagonal.Contains(ax)) id1[ax] = id2[ax] = next++;
            else { id1[ax] = next++; id2[ax] = next++; }
            if (axes.Trace.Contains(ax)) continue;
            output.Add(id1[ax]);
            if (!axes.Diagonal.Contains(ax)) output.Add(id2[ax]);
        }
        var traceId = new Dictionary<int, int>();   // w axis → shared summed id between the two ∂f/∂y factors
        var wIds = new Dictionary<int, int>();      // untraced w axis → id shared by the two Jacobians
        var ops = new List<(Tensor?, Shape, int[])>();
        void AddSide(Side s, int u, int[] ids, int? outAxis, int examples)
        {
            var eq = s.Linear.Equations[s.Uses[u].Eqn];
            var yShape = eq.Output.Type.Shape; var wShape = eq.Inputs[s.Uses[u].Input].Type.Shape;
            int ry = yShape.Rank, rw = wShape.Rank;
            var pairs = traced is null ? s.Pairs[u] : s.Uses[u].Rule.Pairs.Where(pr => traced[s.Uses[u].W].Contains(pr.W)).ToArray();
            var yId = new int[ry];
            for (int y = 0; y < ry; y++)
            {
                int w = Array.FindIndex(pairs, pr => pr.Y == y);
                yId[y] = w >= 0 ? (traceId.TryGetValue(pairs[w].W, out var t) ? t : traceId[pairs[w].W] = next++) : next++;
            }
            var fx = new List<int>();
            var jac = new List<int>();
            var lead = outAxis is null ? Array.Empty<int>() : new[] { examples };
            if (outAxis is { } o) { fx.Add(ids[o]); jac.Add(ids[o]); }
            for (int ax = 0; ax < r; ax++) fx.Add(outAxis == ax ? next++ : ids[ax]);
            fx.AddRange(yId);
            for (int y = 0; y < ry; y++) jac.Add(pairs.Any(pr => pr.Y == y) ? next++ : yId[y]);
            for (int w = 0; w < rw; w++)
                jac.Add(pairs.Any(pr => pr.W == w) ? next++ : (wIds.TryGetValue(w, out var id) ? id : wIds[w] = next++));
            var aShape = new Shape(lead.Concat(s.Fx).Concat(yShape));
            var jShape = new Shape(lead.Concat(yShape.Select((d, y) => pairs.Any(pr => pr.Y == y) ? 1 : d)).Concat(wShape.Select((d, w) => pairs.Any(pr => pr.W == w) ? 1 : d)));
            ops.Add((s.A.Length > u ? s.A[u] : null, aShape, fx.ToArray()));
            ops.Add((s.J.Length > u ? s.J[u] : null, jShape, jac.ToArray()));
        }
        AddSide(s1, a, id1, out1, s1.Examples);
        AddSide(s2, b, id2, out2, s2.Examples);
        return (ops, output.ToArray());
    }
}
