using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>
/// Transposes a graph that is linear in some inputs (and affine-free in them): the non-linear part is re-emitted
/// forward, then linear equations are walked backwards accumulating cotangents. Applied to a JVP graph this is
/// reverse mode (linearize, then transpose), as in JAX.
/// Result graph: inputs = (non-linear inputs, cotangents of the linear outputs);
/// outputs = (non-linear outputs, cotangents of the linear inputs).
/// </summary>
internal static class TransposeTransform
{
    public static Graph Apply(Graph g, bool[] linearInputs, bool[] linearOutputs) => Apply(g, linearInputs, linearOutputs, Array.Empty<Var>());

    /// <summary>
    /// As above, and also returns (after the input cotangents) the cotangent of each variable in
    /// <paramref name="record"/> — outputs of linear equations — i.e. <c>∂f/∂y</c> of intermediate values, which
    /// structured derivatives need.
    /// </summary>
    public static Graph Apply(Graph g, bool[] linearInputs, bool[] linearOutputs, IReadOnlyList<Var> record)
    {
        var recorded = new Tracer?[record.Count];
        var isLinear = new bool[g.VarCount];
        for (int i = 0; i < g.Inputs.Count; i++) isLinear[g.Inputs[i].Id] = linearInputs[i];
        foreach (var e in g.Equations)
            isLinear[e.Output.Id] = e.Inputs.Any(a => a is Var v && isLinear[v.Id]);

        var b = new GraphBuilder();
        var fwd = new Tracer?[g.VarCount];
        for (int i = 0; i < g.Inputs.Count; i++)
            if (!linearInputs[i]) fwd[g.Inputs[i].Id] = b.NewInput(g.Inputs[i].Type);
        var ctIn = new List<(Atom atom, Tracer ct)>();
        for (int j = 0; j < g.Outputs.Count; j++)
            if (linearOutputs[j]) ctIn.Add((g.Outputs[j], b.NewInput(g.Outputs[j].Type)));

        Tracer F(Atom a) => a is Literal l ? b.Constant(l.Value) : fwd[((Var)a).Id]!;
        foreach (var e in g.Equations)
            if (!isLinear[e.Output.Id]) fwd[e.Output.Id] = b.Emit(e.Primitive, e.Inputs.Select(F).ToArray());

        var ct = new Tracer?[g.VarCount];
        void Acc(Var v, Tracer c) => ct[v.Id] = ct[v.Id] is { } prev ? b.Add(prev, c) : c;
        foreach (var (atom, c) in ctIn)
            if (atom is Var v && isLinear[v.Id]) Acc(v, c);

        for (int k = g.Equations.Count - 1; k >= 0; k--)
        {
            var e = g.Equations[k];
            if (!isLinear[e.Output.Id] || ct[e.Output.Id] is not { } c) continue;
            for (int r = 0; r < record.Count; r++) if (record[r].Id == e.Output.Id) recorded[r] = c;
            var ins = e.Inputs.Select(a => a is Var v && isLinear[v.Id] ? null : F(a)).ToArray();
            var cts = e.Primitive.Transpose(b, c, ins, e.Inputs.Select(a => a.Type).ToArray());
            for (int i = 0; i < e.Inputs.Count; i++)
                if (e.Inputs[i] is Var v && isLinear[v.Id] && cts[i] is { } ci) Acc(v, ci);
            ct[e.Output.Id] = null;
        }

        var outs = new List<Tracer>();
        for (int j = 0; j < g.Outputs.Count; j++)
            if (!linearOutputs[j]) outs.Add(F(g.Outputs[j]));
        for (int i = 0; i < g.Inputs.Count; i++)
            if (linearInputs[i]) outs.Add(ct[g.Inputs[i].Id] ?? b.Zeros(g.Inputs[i].Type));
        for (int r = 0; r < record.Count; r++) outs.Add(recorded[r] ?? b.Zeros(record[r].Type));
        return DceTransform.Apply(b.Build(outs));
    }
}
