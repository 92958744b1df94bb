using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>
/// Moves uniform scalings onto the smaller operand of a bilinear product (a convolution, its adjoints, a
/// <c>dot_general</c>): the 'ntk' parameterisation's σ_w/√fan_in multiplies a layer's output in the forward pass and
/// the layer's cotangent in a backward pass, each time one pass over (and one fresh buffer of) the activation-sized
/// tensor, e.g. (examples, basis, 28, 28, 32) in structured derivatives' ∂f/∂y pass. Scaling the weight instead
/// costs a pass over its few elements. Two rewrites, each value-preserving up to rounding (the product of the same
/// factors, associated differently):
/// <list type="number">
/// <item><c>reshape*(P(A, B)) · c</c> → <c>reshape*(P(A, c·B))</c> (or c·A), when P's result and the reshapes are
/// read only there;</item>
/// <item><c>P(reshape*(X · c), B)</c> → <c>P(reshape*(X), c·B)</c> (either operand), when the scaled value and the
/// reshapes are read only there,</item>
/// </list>
/// where c is a literal whose elements are all one value, and the scaled operand is smaller than the tensor
/// the original scaling pass runs over. Inputs and outputs (count, types, order) are unchanged.
/// </summary>
internal static class ScaleFoldTransform
{
    public static Graph Apply(Graph g)
    {
        var uses = new int[g.VarCount];
        foreach (var e in g.Equations) foreach (var a in e.Inputs) if (a is Var v) uses[v.Id]++;
        foreach (var o in g.Outputs) if (o is Var v) uses[v.Id]++;
        var producer = new Dictionary<int, int>();
        for (int k = 0; k < g.Equations.Count; k++) producer[g.Equations[k].Output.Id] = k;

        // Equation k of a bilinear product gets its operand ScaleSide[k] multiplied by Factor[k]; a skipped scaling
        // equation's output is its scaled operand.
        var scaleSide = new Dictionary<int, (int Side, double Factor)>();
        var skip = new Dictionary<int, Atom>();   // mul equation index → the unscaled operand that replaces its output

        // The equation whose output reaches `v` through single-use reshapes only (v itself included), with all of
        // them (and that output) read once.
        int? Through(Atom a)
        {
            if (a is not Var v) return null;
            while (producer.TryGetValue(v.Id, out var k))
            {
                var e = g.Equations[k];
                if (e.Primitive is not ReshapePrimitive) return k;
                if (e.Inputs[0] is not Var src || uses[src.Id] != 1) return null;
                v = src;
            }
            return null;
        }

        for (int k = 0; k < g.Equations.Count; k++)
        {
            var e = g.Equations[k];
            if (e.Primitive is MulPrimitive && UniformScale(e) is var (scaled, c) && scaled is Var)
            {
                // Rewrite 1: the scaling reads a single-use product.
                if (uses[((Var)scaled).Id] == 1 && Through(scaled) is int p && g.Equations[p].Primitive is BilinearPrimitive
                    && uses[g.Equations[p].Output.Id] == 1 && !scaleSide.ContainsKey(p))
                {
                    var pe = g.Equations[p];
                    int side = pe.Inputs[0].Type.Shape.Size <= pe.Inputs[1].Type.Shape.Size ? 0 : 1;
                    if (pe.Inputs[side].Type.Shape.Size < e.Output.Type.Shape.Size && pe.Inputs[side].Type.DType == e.Output.Type.DType)
                    {
                        scaleSide[p] = (side, c);
                        skip[k] = scaled;
                    }
                }
            }
            if (e.Primitive is BilinearPrimitive && !scaleSide.ContainsKey(k))
            {
                // Rewrite 2: an operand is a single-use scaling (through single-use reshapes).
                for (int side = 0; side < 2; side++)
                {
                    if (e.Inputs[side] is not Var operand || uses[operand.Id] != 1) continue;
                    if (Through(operand) is not int m || skip.ContainsKey(m) || g.Equations[m].Primitive is not MulPrimitive) continue;
                    var me = g.Equations[m];
                    if (uses[me.Output.Id] != 1 || UniformScale(me) is not var (x, factor) || x is not Var) continue;
                    var other = e.Inputs[1 - side];
                    if (other.Type.Shape.Size >= me.Output.Type.Shape.Size || other.Type.DType != me.Output.Type.DType) continue;
                    scaleSide[k] = (1 - side, factor);
                    skip[m] = x;
                    break;
                }
            }
        }
        if (scaleSide.Count == 0) return g;

        var b = new GraphBuilder();
        var env = new Tracer[g.VarCount];
        foreach (var v in g.Inputs) env[v.Id] = b.NewInput(v.Type);
        Tracer R(Atom a) => a is Literal l ? b.Constant(l.Value) : env[((Var)a).Id];
        for (int k = 0; k < g.Equations.Count; k++)
        {
            var e = g.Equations[k];
            if (skip.TryGetValue(k, out var keep)) { env[e.Output.Id] = R(keep); continue; }
            var ins = e.Inputs.Select(R).ToArray();
            if (scaleSide.TryGetValue(k, out var s))
            {
                var op = ins[s.Side];
                ins[s.Side] = Lax.Mul(op, b.Constant(Tensor.Scalar(s.Factor, op.DType).BroadcastTo(op.Shape)));
            }
            env[e.Output.Id] = b.Emit(e.Primitive, ins);
        }
        return DceTransform.Apply(b.Build(g.Outputs.Select(R)));
    }

    /// <summary>For <c>x · c</c> (either order) with c a literal of one repeated value: x and that value; else null.</summary>
    private static (Atom X, double C)? UniformScale(Equation e)
    {
        int li = e.Inputs[1] is Literal ? 1 : e.Inputs[0] is Literal ? 0 : -1;
        if (li < 0 || e.Inputs[1 - li] is not Var) return null;
        var c = ((Literal)e.Inputs[li]).Value;
        if (c.Size == 0 || !OpChecks.IsBroadcastScalar(c)) return null;
        return (e.Inputs[1 - li], c[new int[c.Rank]]);
    }
}
