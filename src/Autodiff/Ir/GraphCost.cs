namespace NeuralTangents.Autodiff.Ir;

/// <summary>Static cost of a graph from its types: the sum of each primitive's FLOP estimate (no evaluation).</summary>
internal static class GraphCost
{
    public static double Flops(Graph g) => g.Equations.Sum(e => e.Primitive.Flops(e.Inputs.Select(a => a.Type).ToArray(), e.Output.Type));

    /// <summary>Bytes of the largest intermediate (a lower bound on the peak working set of one evaluation).</summary>
    public static double LargestBytes(Graph g) =>
        g.Equations.Select(e => e.Output.Type.Shape.Elements * e.Output.Type.DType.SizeOf()).DefaultIfEmpty(0).Max();

    /// <summary>
    /// Peak bytes held while <see cref="Interpreters.Interpreter.Evaluate(Graph, IReadOnlyList{Tensor})"/> runs <paramref name="g"/>: the inputs
    /// (held by the caller) plus every intermediate from its definition to its last use, the interpreter's freeing
    /// order. Views are counted as copies (an upper bound).
    /// </summary>
    public static double PeakBytes(Graph g)
    {
        static double Bytes(TensorType t) => t.Shape.Elements * t.DType.SizeOf();
        var last = Interpreters.Interpreter.LastUses(g); // the interpreter's own freeing points
        var inputs = new HashSet<int>(g.Inputs.Select(v => v.Id));
        double live = g.Inputs.Sum(v => Bytes(v.Type)), peak = live;
        for (int k = 0; k < g.Equations.Count; k++)
        {
            var e = g.Equations[k];
            live += Bytes(e.Output.Type);
            peak = Math.Max(peak, live);
            if (last[e.Output.Id] < 0) live -= Bytes(e.Output.Type);
            foreach (var a in e.Inputs.OfType<Var>().Distinct())
                if (last[a.Id] == k && !inputs.Contains(a.Id)) live -= Bytes(a.Type);
        }
        return peak;
    }

    /// <summary>
    /// Peak bytes held while a staged graph runs as its callers run it: the known part once (<see cref="PeakBytes"/> of
    /// <see cref="StagedGraph.Known"/>), then the unknown part with every residual held as an input throughout
    /// (<see cref="PeakBytes"/> of <see cref="StagedGraph.Unknown"/>). The unstaged graph frees most of those
    /// intermediates early: NTK-VP on the seed CNN (blocks of 8 × 4 pairs) holds 73 MiB of residuals, and its
    /// unstaged graph's peak (110 MiB) was 0.66 of the staged one (166 MiB; 173 MiB measured, transients included).
    /// </summary>
    public static double StagedPeakBytes(StagedGraph staged) => Math.Max(PeakBytes(staged.Known), PeakBytes(staged.Unknown));
}
