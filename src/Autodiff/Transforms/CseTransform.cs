using System.Globalization;
using System.Text;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>
/// Common-subexpression elimination: an equation with the same primitive (CLR type, <c>Name</c>,
/// <c>ParamsText()</c>), the same output type and the same operands as an earlier one is dropped and its output
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
        var seen = new Dictionary<string, Var>(StringComparer.Ordinal);
        var literalIds = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        var keep = new List<Equation>(g.Equations.Count);
        var sb = new StringBuilder();
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
            var key = Key(sb, e.Primitive, ins, e.Output.Type, literalIds);
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

    private static string Key(StringBuilder sb, Primitive p, Atom[] ins, TensorType outType, Dictionary<Tensor, int> literalIds)
    {
        sb.Clear();
        sb.Append(p.GetType().FullName).Append('|').Append(p.Name).Append('[').Append(p.ParamsText()).Append("]|").Append(outType).Append('|');
        var keys = ins.Select(a => AtomKey(a, literalIds)).ToArray();
        if (keys.Length == 2 && (p is AddPrimitive or MulPrimitive) && string.CompareOrdinal(keys[0], keys[1]) > 0)
            (keys[0], keys[1]) = (keys[1], keys[0]);
        sb.AppendJoin(' ', keys);
        return sb.ToString();
    }

    private static string AtomKey(Atom a, Dictionary<Tensor, int> literalIds)
    {
        if (a is Var v) return "v" + v.Id.ToString(CultureInfo.InvariantCulture);
        var t = ((Literal)a).Value;
        if (UniformValue(t) is { } bits) return $"c{a.Type}={bits:x}";
        if (!literalIds.TryGetValue(t, out int id))
        {
            id = literalIds.Count;
            literalIds.Add(t, id);
        }
        return "L" + id.ToString(CultureInfo.InvariantCulture);
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
}
