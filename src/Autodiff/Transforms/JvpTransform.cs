using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>
/// Forward mode as a graph transform: <c>(primals, tangents) ↦ (outputs, output tangents)</c>. Tangents that are
/// structurally zero are skipped (symbolic zeros), so only inputs flagged in <c>withTangent</c> get tangent inputs.
/// </summary>
internal static class JvpTransform
{
    public static Graph Apply(Graph g, bool[] withTangent)
    {
        if (withTangent.Length != g.Inputs.Count)
            throw new ArgumentException($"jvp: {withTangent.Length} tangent flags for {g.Inputs.Count} inputs", nameof(withTangent));
        var b = new GraphBuilder();
        var primal = new Tracer?[g.VarCount];
        var tangent = new Tracer?[g.VarCount];
        foreach (var v in g.Inputs) primal[v.Id] = b.NewInput(v.Type);
        for (int i = 0; i < g.Inputs.Count; i++)
            if (withTangent[i]) tangent[g.Inputs[i].Id] = b.NewInput(g.Inputs[i].Type);
        Tracer P(Atom a) => a is Literal l ? b.Constant(l.Value) : primal[((Var)a).Id]!;
        Tracer? T(Atom a) => a is Var v ? tangent[v.Id] : null;

        foreach (var e in g.Equations)
        {
            var ps = e.Inputs.Select(P).ToArray();
            var y = b.Emit(e.Primitive, ps);
            primal[e.Output.Id] = y;
            var ts = e.Inputs.Select(T).ToArray();
            if (ts.Any(t => t is not null))
                tangent[e.Output.Id] = e.Primitive.Jvp(b, ps, ts, y);
        }
        var outs = g.Outputs.Select(P).ToList();
        outs.AddRange(g.Outputs.Select(o => T(o) ?? b.Zeros(o.Type)));
        return DceTransform.Apply(b.Build(outs));
    }
}
