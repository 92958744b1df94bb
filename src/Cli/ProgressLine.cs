using System.Globalization;

namespace NeuralTangents.Cli;

/// <summary>
/// Tile progress on stderr: a live line (rewritten with <c>\r</c>) on a terminal, otherwise a plain line about every
/// 10 % and at least every <see cref="QuietAtMost"/> (so a slow run into a pipe or log still shows it is alive).
/// Reports arrive on the computing thread, one per tile.
/// </summary>
internal sealed class ProgressLine(TextWriter stderr, bool live) : IProgress<KernelProgress>
{
    /// <summary>Longest gap between plain progress lines while tiles finish.</summary>
    internal static readonly TimeSpan QuietAtMost = TimeSpan.FromSeconds(30);

    private int _lastDecile;
    private TimeSpan _lastLine;
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
        if (decile > _lastDecile || p.TilesDone == p.TilesTotal || p.Elapsed - _lastLine >= QuietAtMost)
        {
            _lastDecile = decile;
            _lastLine = p.Elapsed;
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
