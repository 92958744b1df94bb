using NeuralTangents.Autodiff.Ir;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>
/// Splits a graph into the part computable from the known inputs and the rest, so a function evaluated many
/// times with the same known inputs (e.g. one backward pass per Jacobian row) runs the known part once.
/// known: known inputs ↦ residuals; unknown: (residuals, unknown inputs) ↦ outputs.
/// </summary>
internal static class PartialEval
{
    public static (Graph Known, Graph Unknown) Split(Graph g, bool[] unknownInputs)
    {
        var unknown = new bool[g.VarCount];
        for (int i = 0; i < g.Inputs.Count; i++) unknown[g.Inputs[i].Id] = unknownInputs[i];
        foreach (var e in g.Equations) unknown[e.Output.Id] = e.Inputs.Any(a => a is Var v && unknown[v.Id]);

        // Residuals: known variables read by unknown equations or returned as outputs.
        var residual = new List<Var>();
        var seen = new HashSet<int>();
        void Use(Atom a) { if (a is Var v && !unknown[v.Id] && seen.Add(v.Id)) residual.Add(v); }
        foreach (var e in g.Equations) if (unknown[e.Output.Id]) foreach (var a in e.Inputs) Use(a);
        foreach (var o in g.Outputs) Use(o);

        var knownGraph = DceTransform.Apply(new Graph(
            g.Inputs.Where((_, i) => !unknownInputs[i]).ToArray(),
            g.Equations.Where(e => !unknown[e.Output.Id]).ToArray(), residual.ToArray(), g.VarCount));
        var unknownGraph = DceTransform.Apply(new Graph(
            residual.Concat(g.Inputs.Where((_, i) => unknownInputs[i])).ToArray(),
            g.Equations.Where(e => unknown[e.Output.Id]).ToArray(), g.Outputs, g.VarCount));
        return (knownGraph, unknownGraph);
    }
}
