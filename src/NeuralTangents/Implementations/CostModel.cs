namespace NeuralTangents.Implementations;

/// <summary>
/// AUTO's choice among the implementations' estimates (<see cref="INtkImplementation.Estimate"/>: FLOPs and peak
/// memory from the very graphs each would evaluate, without evaluating anything).
/// </summary>
internal static class CostModel
{
    /// <summary>Default memory budget of <see cref="Empirical.ExplainNtk"/>: 4 GiB.</summary>
    public const double DefaultBudgetBytes = 4.0 * (1L << 30);

    /// <summary>
    /// FLOP estimates within this fraction of the cheapest are a tie. The estimates are not more precise than that,
    /// and implementations spend FLOPs at different rates: on the narrow CNN JacobianContraction is estimated at
    /// 12.7 GFLOP and structured derivatives at 14.9, yet SD runs in 0.65–0.76 s and JC in 1.04–1.22 s (its
    /// per-example weight gradients are grouped convolutions; SD's are large GEMMs).
    /// </summary>
    public const double TieBand = 0.25;

    /// <summary>
    /// The cheapest implementation that fits. A tie (within <see cref="TieBand"/>) goes to structured derivatives
    /// when it is among the tied and its tiles are no smaller than any tied rival's (computed whole counts as the
    /// largest tile) — it was the measured fastest on every tied untiled workload of perf/README.md's AUTO check
    /// (seed CNN with trace [-1] and [], its train-train kernel, a pooling CNN). Otherwise the tie goes to the largest
    /// tiles (fewest tiles), then the smaller peak memory, then the lower enum value. JacobianContraction when nothing
    /// fits. Why tiles count: the FLOP estimate does not see per-tile costs (every tile re-traces and re-derives the
    /// parameters' structure, and small tiles run small, inefficient GEMMs); new-user trial 5 measured SD in 55 tiles
    /// of 2 examples (334 GFLOP estimated) at 233 s against JC in tiles of 6 (1 GiB budget) at 74 s.
    /// </summary>
    internal static NtkImplementation Choose(IReadOnlyList<NtkCostEstimate> estimates)
    {
        var fits = estimates.Where(e => e.FitsBudget).ToArray();
        if (fits.Length == 0) return NtkImplementation.JacobianContraction;
        double cheapest = fits.Min(e => e.Flops);
        var tied = fits.Where(e => e.Flops <= cheapest * (1 + TieBand)).ToArray();
        static int Tile(NtkCostEstimate e) => e.TileSize ?? int.MaxValue;
        int largest = tied.Max(Tile);
        return tied
            .OrderBy(e => e.Implementation == NtkImplementation.StructuredDerivatives && Tile(e) >= largest ? 0 : 1)
            .ThenByDescending(Tile).ThenBy(e => e.PeakBytes).ThenBy(e => e.Implementation)
            .First().Implementation;
    }
}
