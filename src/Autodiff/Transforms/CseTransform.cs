using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>
/// Common-subexpression elimination: an equation with the same primitive (<see cref="Primitive.Equals(Primitive?)"/>:
/// CLR type and value-equal parameters), the same output type and the same operands as an earlier one is dropped and its output
/// replaced by the earlier variable. Operands are the same when they are the same variable (after earlier
/// merges), the same non-uniform literal tensor (reference), or uniform literals (a scalar, or a broadcast of one
/// value) of equal type and bit-identical value. The operands of <c>add</c> and <c>mul</c> are compared as an
/// unordered pair (IEEE addition and multiplication are commutative bit for bit).
/// <para>
/// Why: nested JVPs along one direction re-derive the same terms at every level (e.g. <c>∂₁a·∂₂b</c> and
/// <c>∂₂a·∂₁b</c> once <c>∂₁ = ∂₂</c>); merging them keeps Taylor graphs polynomial in the degree.
/// All primitives are pure, so merging never changes a result.
/// </para>
/// </summary>
internal static class CseTransform
{
    public static Graph Apply(Graph g)
    {
        var subst = new Atom?[g.VarCount];
        var seen = new Dictionary<EquationKey, Var>();
        var literalIds = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        var keep = new List<Equation>(g.Equations.Count);
        Atom Map(Atom a) => a is Var v && subst[v.Id] is { } r ? r : a;

        foreach (var e in g.Equations)
        {
            var ins = new Atom[e.Inputs.Count];
            bool changed = false;
            for (int i = 0; i < ins.Length; i++)
            {
                ins[i] = Map(e.Inputs[i]);
                changed |= !ReferenceEquals(ins[i], e.Inputs[i]);
            }
            var key = Key(e.Primitive, ins, e.Output.Type, literalIds);
            if (seen.TryGetValue(key, out var earlier))
            {
                subst[e.Output.Id] = earlier;
                continue;
            }
            seen.Add(key, e.Output);
            keep.Add(changed ? new Equation(e.Primitive, ins, e.Output) : e);
        }
        if (keep.Count == g.Equations.Count) return g;
        return new Graph(g.Inputs, keep, g.Outputs.Select(Map).ToArray(), g.VarCount);
    }

    private static EquationKey Key(Primitive p, Atom[] ins, TensorType outType, Dictionary<Tensor, int> literalIds)
    {
        var keys = new OperandKey[ins.Length];
        for (int i = 0; i < ins.Length; i++) keys[i] = OperandOf(ins[i], literalIds);
        if (keys.Length == 2 && (p is AddPrimitive or MulPrimitive) && keys[0].CompareTo(keys[1]) > 0)
            (keys[0], keys[1]) = (keys[1], keys[0]);
        return new EquationKey(p, outType, keys);
    }

    private static OperandKey OperandOf(Atom a, Dictionary<Tensor, int> literalIds)
    {
        if (a is Var v) return new OperandKey(OperandKind.Var, v.Id, null);
        var t = ((Literal)a).Value;
        if (UniformValue(t) is { } bits) return new OperandKey(OperandKind.Uniform, bits, a.Type);
        if (!literalIds.TryGetValue(t, out int id))
        {
            id = literalIds.Count;
            literalIds.Add(t, id);
        }
        return new OperandKey(OperandKind.Literal, id, null);
    }

    /// <summary>Bit pattern of the single value of a scalar or broadcast literal (every stride 0); null otherwise.</summary>
    private static long? UniformValue(Tensor t)
    {
        if (t.Size == 0) return 0;
        for (int d = 0; d < t.Rank; d++)
            if (t.Shape[d] != 1 && t.Strides[d] != 0) return null;
        return t.Storage switch
        {
            double[] d => BitConverter.DoubleToInt64Bits(d[t.Offset]),
            float[] f => BitConverter.SingleToInt32Bits(f[t.Offset]),
            _ => null,
        };
    }

    private enum OperandKind : byte { Var, Uniform, Literal }

    /// <summary>
    /// An operand up to CSE identity: a variable (by id), a uniform literal (type and value bits) or another literal
    /// (by reference, numbered in order of appearance).
    /// </summary>
    private readonly record struct OperandKey(OperandKind Kind, long Value, TensorType? Type) : IComparable<OperandKey>
    {
        /// <summary>Any total order will do: it only puts the operands of commutative primitives in a canonical order.</summary>
        public int CompareTo(OperandKey o)
        {
            int c = Kind.CompareTo(o.Kind);
            if (c == 0) c = Value.CompareTo(o.Value);
            if (c == 0 && Type is not null && o.Type is not null)
            {
                c = Type.DType.CompareTo(o.Type.DType);
                if (c == 0) c = Type.Shape.Rank.CompareTo(o.Type.Shape.Rank);
                for (int d = 0; c == 0 && d < Type.Shape.Rank; d++) c = Type.Shape[d].CompareTo(o.Type.Shape[d]);
            }
            return c;
        }
    }

    /// <summary>The identity of an equation for CSE: primitive (value equality), output type and operands.</summary>
    private readonly struct EquationKey(Primitive primitive, TensorType output, OperandKey[] operands) : IEquatable<EquationKey>
    {
        public bool Equals(EquationKey o) =>
            primitive.Equals(o.Primitive) && output.Equals(o.Output) && operands.AsSpan().SequenceEqual(o.Operands);
        public override bool Equals(object? obj) => obj is EquationKey k && Equals(k);
        public override int GetHashCode()
        {
            var h = new HashCode();
            h.Add(primitive);
            h.Add(output);
            foreach (var k in operands) h.Add(k);
            return h.ToHashCode();
        }
        private Primitive Primitive => primitive;
        private TensorType Output => output;
        private OperandKey[] Operands => operands;
    }
}
