namespace NeuralTangents.Autodiff.Ir;

/// <summary>Static cost of a graph from its types: the sum of each primitive's FLOP estimate (no evaluation).</summary>
internal static class GraphCost
{
    public static double Flops(Graph g) => g.Equations.Sum(e => e.Primitive.Flops(e.Inputs.Select(a => a.Type).ToArray(), e.Output.Type));

    /// <summary>Bytes of the largest intermediate (a lower bound on the peak working set of one evaluation).</summary>
    public static double LargestBytes(Graph g) =>
        g.Equations.Select(e => e.Output.Type.Shape.Elements * e.Output.Type.DType.SizeOf()).DefaultIfEmpty(0).Max();
}
