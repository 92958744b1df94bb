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
    /// when it is among the tied — it was the measured fastest on every tied workload of perf/README.md's AUTO check
    /// (seed CNN with trace [-1] and [], its train-train kernel, a pooling CNN) — else to the smaller peak memory,
    /// then to the lower enum value. JacobianContraction when nothing fits.
    /// </summary>
    internal static NtkImplementation Choose(IReadOnlyList<NtkCostEstimate> estimates)
    {
        var fits = estimates.Where(e => e.FitsBudget).ToArray();
        if (fits.Length == 0) return NtkImplementation.JacobianContraction;
        double cheapest = fits.Min(e => e.Flops);
        return fits.Where(e => e.Flops <= cheapest * (1 + TieBand))
            .OrderBy(e => e.Implementation == NtkImplementation.StructuredDerivatives ? 0 : 1).ThenBy(e => e.PeakBytes).ThenBy(e => e.Implementation)
            .First().Implementation;
    }
}
