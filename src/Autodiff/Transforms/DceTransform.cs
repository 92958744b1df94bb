using NeuralTangents.Autodiff.Ir;

namespace NeuralTangents.Autodiff.Transforms;

/// <summary>Dead-code elimination: drops equations that no output depends on (all primitives are pure).</summary>
internal static class DceTransform
{
    public static Graph Apply(Graph g)
    {
        var live = new bool[g.VarCount];
        foreach (var o in g.Outputs) if (o is Var v) live[v.Id] = true;
        var keep = new List<Equation>();
        for (int k = g.Equations.Count - 1; k >= 0; k--)
        {
            var e = g.Equations[k];
            if (!live[e.Output.Id]) continue;
            keep.Add(e);
            foreach (var a in e.Inputs) if (a is Var v) live[v.Id] = true;
        }
        keep.Reverse();
        return keep.Count == g.Equations.Count ? g : new Graph(g.Inputs, keep, g.Outputs, g.VarCount);
    }
}
