using System.Globalization;

namespace NeuralTangents.Cli;

/// <summary>
/// Tile progress on stderr: a live line (rewritten with <c>\r</c>) on a terminal, otherwise a plain line about every
/// 10 %. Reports arrive on the computing thread, one per tile.
/// </summary>
internal sealed class ProgressLine(TextWriter stderr, bool live) : IProgress<KernelProgress>
{
    private int _lastDecile;
    private bool _open;

    /// <summary>Tiles done at the last report.</summary>
    public int Done { get; private set; }

    public void Report(KernelProgress p)
    {
        Done = p.TilesDone;
        if (p.TilesTotal <= 1) return;
        var text = string.Create(CultureInfo.InvariantCulture,
            $"tiles {p.TilesDone}/{p.TilesTotal} ({p.Fraction:P0}), {CliParsing.Seconds(p.Elapsed)} elapsed{(p.Remaining is { } r && p.TilesDone < p.TilesTotal ? $", about {CliParsing.Seconds(r)} left" : "")}");
        if (live)
        {
            stderr.Write("\r" + text.PadRight(72));
            _open = true;
            return;
        }
        int decile = (int)(p.Fraction * 10);
        if (decile > _lastDecile || p.TilesDone == p.TilesTotal)
        {
            _lastDecile = decile;
            stderr.WriteLine(text);
        }
    }

    /// <summary>Ends a live line.</summary>
    public void Finish()
    {
        if (_open) stderr.WriteLine();
        _open = false;
    }
}
