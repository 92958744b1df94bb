namespace NeuralTangents;

/// <summary>Progress of a tiled kernel computation, reported after each tile.</summary>
/// <param name="TilesDone">Tiles finished so far (including tiles already done when resuming).</param>
/// <param name="TilesTotal">Tiles in the plan.</param>
/// <param name="Elapsed">Time since this run started.</param>
/// <param name="Remaining">Estimated time left (from the tiles computed in this run), or null before the first one.</param>
public readonly record struct KernelProgress(int TilesDone, int TilesTotal, TimeSpan Elapsed, TimeSpan? Remaining)
{
    /// <summary>Fraction done in [0, 1].</summary>
    public double Fraction => TilesTotal == 0 ? 1 : (double)TilesDone / TilesTotal;
}
