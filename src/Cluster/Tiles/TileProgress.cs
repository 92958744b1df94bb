namespace NeuralTangents.Cluster.Tiles;

/// <summary>Progress of a tiled kernel: tiles finished (including those found in a resumed manifest) of the total.</summary>
/// <param name="TilesDone">Tiles finished so far.</param>
/// <param name="TilesTotal">Tiles in the plan.</param>
/// <param name="Elapsed">Time since this run started.</param>
/// <param name="Eta">Estimated time left from this run's tile rate, or null before the first tile.</param>
public sealed record TileProgress(int TilesDone, int TilesTotal, TimeSpan Elapsed, TimeSpan? Eta)
{
    /// <summary>The one progress line the CLI prints, e.g. <c>tiles 12/66 (18 %), 0:41 elapsed, ETA 3:05</c>.</summary>
    public override string ToString() =>
        $"tiles {TilesDone}/{TilesTotal} ({(TilesTotal == 0 ? 100 : 100.0 * TilesDone / TilesTotal):0} %), {Fmt(Elapsed)} elapsed" +
        (Eta is { } e ? $", ETA {Fmt(e)}" : "");

    private static string Fmt(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t:mm\\:ss}" : $"{(int)t.TotalMinutes}:{t:ss}";
}
