using System.Globalization;
using System.Text;

namespace NeuralTangents;

/// <summary>Estimated cost of one NTK implementation for given inputs (see <see cref="Empirical.ExplainNtk"/>).</summary>
/// <param name="Implementation">The implementation.</param>
/// <param name="Flops">Estimated floating-point operations (multiply-adds count 2), from the traced graphs it would evaluate.</param>
/// <param name="PeakBytes">Estimated peak memory of its large intermediates, in bytes.</param>
/// <param name="FitsBudget">Whether <paramref name="PeakBytes"/> is within the memory budget.</param>
/// <param name="CannotRun">Null, or why it cannot run at all (one of its tensors would exceed
/// <see cref="TensorSizeException.MaxElements"/> elements); then <paramref name="Flops"/> and
/// <paramref name="PeakBytes"/> are infinite.</param>
public sealed record NtkCostEstimate(NtkImplementation Implementation, double Flops, double PeakBytes, bool FitsBudget, string? CannotRun = null)
{
    /// <summary>Examples per tile when the estimate is for a tiled computation (the budget forced tiles); null when
    /// computed whole. <see cref="Flops"/> then sums all tiles and <see cref="PeakBytes"/> is one tile's peak.</summary>
    public int? TileSize { get; init; }
}

/// <summary>
/// Why <see cref="NtkImplementation.Auto"/> chose an implementation: the estimates of all three and the memory
/// budget. Unlike Neural Tangents' AUTO (which reads XLA's FLOP counts, documented as wrong on CPU and GPU), the
/// estimates come from our own per-primitive cost model on the traced graphs, so the choice is deterministic and the
/// same on every backend.
/// </summary>
/// <param name="Chosen">The cheapest implementation that fits the budget (JacobianContraction when none fits).</param>
/// <param name="Estimates">One estimate per implementation, in enum order.</param>
/// <param name="MemoryBudgetBytes">The budget used.</param>
public sealed record NtkExplanation(NtkImplementation Chosen, IReadOnlyList<NtkCostEstimate> Estimates, double MemoryBudgetBytes)
{
    /// <summary>A small table, one implementation per line, the chosen one marked.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var e in Estimates)
            sb.AppendLine(e.CannotRun is { } why ? $"{(e.Implementation == Chosen ? "*" : " ")} {e.Implementation,-22} cannot run: {why}" : string.Create(CultureInfo.InvariantCulture,
                $"{(e.Implementation == Chosen ? "*" : " ")} {e.Implementation,-22} {Gflop(e.Flops),12} GFLOP {e.PeakBytes / (1 << 20),12:F1} MiB{(e.TileSize is { } t ? $"  (tiles of {t})" : "")}{(e.FitsBudget ? "" : "  (over budget)")}"));
        return sb.ToString().TrimEnd();
    }

    /// <summary>GFLOP with three decimals, or three significant digits below 0.001 (tiny networks).</summary>
    private static string Gflop(double flops) =>
        (flops / 1e9).ToString(flops >= 1e6 || flops == 0 ? "F3" : "0.00E+0", CultureInfo.InvariantCulture);
}
