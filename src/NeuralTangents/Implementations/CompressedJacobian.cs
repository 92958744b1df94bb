using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Primitives;

namespace NeuralTangents.Implementations;

/// <summary>
/// The structure-compressed Jacobian <c>∂y'/∂w'</c> of one linear equation for one parameter operand w (Neural Tangents' <c>rules.py</c>
/// step 3): shape <c>(y'…, w'…)</c> with <see cref="StructureRule.TrimY"/> and <see cref="StructureRule.TrimW"/>. It is
/// the primitive's own Jacobian rule when it has one for this structure; otherwise a generic Jacobian of the linear
/// map w' ↦ y' (forward over the basis of w', or reverse over the basis of y' when that is smaller), the map built
/// one of two ways:
/// <list type="bullet">
/// <item>on trimmed shapes (only traced axes, and the primitive accepts the trimmed operands): the cheapest;</item>
/// <item>embedded: each basis element of w' is placed at index 0 of the traced axes (zero-padded) and repeated
/// along the diagonal axes, pushed through the primitive at full size, and y is read at index 0 of its traced and
/// broadcast axes. Along a diagonal pair the repetition sums <c>δ_uv·c(u)</c> over v, leaving c(u). This needs no
/// per-primitive shape-parameter rules (NT's "E rules") and covers every structure.</item>
/// </list>
/// </summary>
internal static class CompressedJacobian
{
    /// <summary>
    /// Builds the graph <c>(constants…) ↦ ∂y'/∂w'</c> for operand <paramref name="w"/> of <paramref name="eq"/>.
    /// <paramref name="isConstant"/> tells which variable operands are known values (graph inputs, in operand
    /// order, returned as <c>Constants</c>); the other variable operands are tangents and contribute zero (a tangent
    /// program never adds a constant to a tangent). <paramref name="jacobianRules"/> = false skips the primitive's J
    /// rule (NT's <c>_j_rules=False</c>).
    /// </summary>
    public static (Graph Graph, Var[] Constants) Build(Equation eq, int w, StructureRule active, Func<Var, bool> isConstant, bool jacobianRules = true)
    {
        var types = eq.Inputs.Select(a => a.Type).ToArray();
        var constants = eq.Inputs.Where((a, k) => k != w && a is Var v && isConstant(v)).Cast<Var>().Distinct().ToArray();
        var b = new GraphBuilder();
        var cs = constants.Select(v => b.NewInput(v.Type)).ToArray();
        var j = active.YInWShape
            ? Generic(b, new CopyPrimitive(), new[] { eq.Inputs[w] }, 0, new[] { types[w] }, active, Array.Empty<Tracer>(), Array.Empty<Var>())
            : (jacobianRules ? CustomRule(b, eq, w, active, types, constants, cs) : null) ?? Generic(b, eq.Primitive, eq.Inputs.ToArray(), w, types, active, cs, constants);
        return (b.Build(new[] { j }), constants);
    }

    /// <summary>The primitive's J rule; null without one for this structure or when another operand is a tangent.</summary>
    private static Tracer? CustomRule(GraphBuilder b, Equation eq, int w, StructureRule active, TensorType[] types, Var[] constants, Tracer[] cs)
    {
        var ins = new Tracer?[eq.Inputs.Count];
        for (int k = 0; k < ins.Length; k++)
        {
            if (k == w) continue;
            var a = eq.Inputs[k];
            if (a is Literal l) ins[k] = b.Constant(l.Value);
            else if (a is Var v && Array.IndexOf(constants, v) is var i && i >= 0) ins[k] = cs[i];
            else return null;
        }
        var j = eq.Primitive.Jacobian(b, w, ins, types, active);
        if (j is null) return null;
        var expected = new Shape(active.TrimY(eq.Output.Type.Shape).Concat(active.TrimW(types[w].Shape)));
        if (j.Shape != expected)
            throw new InvalidOperationException($"Jacobian rule of {eq.Primitive.Name} returned shape {j.Shape}, expected {expected} for structure {active}");
        return j;
    }

    private static Tracer Generic(GraphBuilder builder, Primitive prim, Atom[] atoms, int w, TensorType[] types, StructureRule active, Tracer[] cs, Var[] constants)
    {
        var wType = types[w];
        var wTrim = active.TrimW(wType.Shape);
        var yType = prim.InferType(types);
        var yTrim = active.TrimY(yType.Shape);
        // The linear map w' ↦ y'. Forward mode pushes the basis of w' through it; when y' is the smaller side, reverse
        // mode pulls the basis of y' back through its transpose instead (NT: jacrev when |y| ≤ |w|).
        var h = TrimmedMap(prim, atoms, w, types, active, constants) ?? EmbeddedMap(prim, atoms, w, types, active, constants);
        int nc = constants.Length;
        bool reverse = yTrim.Size < wTrim.Size;
        var map = reverse ? Ad.TransposeGraph(h, Masks.Only(nc + 1, nc), new[] { true }) : h;
        var basisShape = reverse ? yTrim : wTrim;
        int n = basisShape.Size;
        var jv = Ad.Vmap(map, InAxes.Only(nc + 1, nc), new[] { 0 }, n);   // (n, other side…)
        var basis = builder.Constant(StandardBasis.Of(basisShape, wType.DType, 0, n));
        var jac = Interpreter.Inline(builder, jv, cs.Append(basis).ToArray())[0];
        if (reverse) return Lax.Reshape(jac, new Shape(yTrim.Concat(wTrim)));
        var full = Lax.Reshape(jac, new Shape(wTrim.Concat(yTrim)));
        int rw = wTrim.Rank, ry = yTrim.Rank;
        return Lax.Transpose(full, Enumerable.Range(rw, ry).Concat(Enumerable.Range(0, rw)).ToArray());
    }

    /// <summary>(constants…, w') ↦ y' evaluated on trimmed operands; null when only a full-size evaluation is valid.</summary>
    private static Graph? TrimmedMap(Primitive prim, Atom[] atoms, int w, TensorType[] types, StructureRule active, Var[] constants)
    {
        if (active.Diagonal.Length > 0 || active.Broadcast.Length > 0) return null;
        var trimAxes = active.Trace.Select(p => p.W).ToHashSet();
        Shape TrimLikeW(Shape s) => new(s.Select((d, a) => trimAxes.Contains(a) ? 1 : d));
        var trimmed = types.Select((t, k) => k == w || (active.SliceOthers && t.Rank == types[w].Rank) ? new TensorType(TrimLikeW(t.Shape), t.DType) : t).ToArray();
        TensorType y;
        try { y = prim.InferType(trimmed); }
        catch (ArgumentException) { return null; }   // shape parameters fixed to the full size (broadcast_in_dim, reshape, …)
        if (y.Shape != active.TrimY(prim.InferType(types).Shape)) return null;
        return Ad.Trace(ins =>
        {
            var b = ins[^1].Builder;
            var args = atoms.Select((a, k) => k == w ? ins[^1] : Operand(b, a, ins, constants, trimmed[k], types[k])).ToArray();
            return new[] { b.Emit(prim, args) };
        }, constants.Select(v => v.Type).Append(new TensorType(active.TrimW(types[w].Shape), types[w].DType)).ToArray());
    }

    /// <summary>(constants…, w') ↦ y' with w' embedded into a full-size tangent and y read at index 0 of its trimmed axes.</summary>
    private static Graph EmbeddedMap(Primitive prim, Atom[] atoms, int w, TensorType[] types, StructureRule active, Var[] constants)
    {
        var wShape = types[w].Shape;
        return Ad.Trace(ins =>
        {
            var b = ins[^1].Builder;
            var t = ins[^1];
            var pad = wShape.Select((d, a) => active.Trace.Any(p => p.W == a) ? (0, d - 1, 0) : (0, 0, 0)).ToArray();
            if (pad.Any(c => c != (0, 0, 0))) t = Lax.Pad(t, 0, pad);
            if (active.Diagonal.Length > 0) t = Lax.BroadcastInDim(t, wShape, Enumerable.Range(0, wShape.Rank).ToArray());
            var args = atoms.Select((a, k) => k == w ? t : Operand(b, a, ins, constants, types[k], types[k])).ToArray();
            var y = b.Emit(prim, args);
            var yTrim = active.TrimY(y.Shape);
            return new[] { yTrim == y.Shape ? y : Lax.Slice(y, new int[y.Rank], yTrim.ToArray()) };
        }, constants.Select(v => v.Type).Append(new TensorType(active.TrimW(wShape), types[w].DType)).ToArray());
    }

    /// <summary>A non-w operand: a literal, a constant input, or a zero tangent; sliced to <paramref name="target"/> when trimmed.</summary>
    private static Tracer Operand(GraphBuilder b, Atom a, Tracer[] ins, Var[] constants, TensorType target, TensorType full)
    {
        Tracer t;
        if (a is Literal l) t = b.Constant(l.Value);
        else if (a is Var v && Array.IndexOf(constants, v) is var i && i >= 0) t = ins[i];
        else return b.Zeros(target);
        return target.Shape == full.Shape ? t : Lax.Slice(t, new int[t.Rank], target.Shape.ToArray());
    }
}
