using System.Globalization;
using System.Text.RegularExpressions;

namespace NeuralTangents;

/// <summary>Memory budgets: the default and the <c>64MiB</c> / <c>4GiB</c> / plain-bytes notation of <c>nt --memory-budget</c>.</summary>
public static partial class MemoryBudget
{
    private static readonly Lazy<long> Default = new(() =>
    {
        const long fourGiB = 4L << 30;
        long physical = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return physical > 0 ? Math.Min(fourGiB, physical / 2) : fourGiB;
    });

    /// <summary>The default budget: 4 GiB, or half the memory available to the process when that is smaller
    /// (resolved once per process).</summary>
    public static long DefaultBytes => Default.Value;

    /// <summary>Parses <c>1024</c>, <c>64KiB</c>, <c>64MiB</c>, <c>4GiB</c>, <c>1TiB</c> (also <c>KB/MB/GB</c> = powers of
    /// 1000, <c>K/M/G</c> = powers of 1024; case-insensitive; decimals allowed).</summary>
    /// <exception cref="FormatException">Not a size, or below 1 byte.</exception>
    public static long Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var m = SizeRegex().Match(text.Trim());
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            throw new FormatException($"expected a size such as 64MiB, 4GiB or a number of bytes, got '{text}'");
        double scale = m.Groups[2].Value.ToLowerInvariant() switch
        {
            "" or "b" => 1,
            "k" or "kib" => 1L << 10, "m" or "mib" => 1L << 20, "g" or "gib" => 1L << 30, "t" or "tib" => 1L << 40,
            "kb" => 1e3, "mb" => 1e6, "gb" => 1e9, "tb" => 1e12,
            _ => double.NaN,
        };
        double bytes = Math.Floor(v * scale);
        if (double.IsNaN(bytes) || bytes < 1 || bytes > long.MaxValue / 2)
            throw new FormatException($"expected a size of at least 1 byte such as 64MiB or 4GiB, got '{text}'");
        return (long)bytes;
    }

    /// <summary>Bytes in a short human form (<c>3.2 GiB</c>, <c>64 MiB</c>, <c>512 B</c>).</summary>
    public static string Format(double bytes) => bytes switch
    {
        >= 1L << 40 => (bytes / (1L << 40)).ToString("0.0", CultureInfo.InvariantCulture) + " TiB",
        >= 1L << 30 => (bytes / (1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString("0", CultureInfo.InvariantCulture) + " B",
    };

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)$")]
    private static partial Regex SizeRegex();
}
