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

    /// <summary>
    /// Resident memory of a process beyond what a kernel computation itself holds: the .NET runtime, JIT-compiled
    /// code, traced graphs and plans (measured: 58 MB peak RSS for <c>nt kernel</c> on a 2-example input of the
    /// 301k-parameter digits FCN). A computation's peak resident memory stays within its memory budget plus this
    /// constant plus <see cref="GarbageAllowance"/>.
    /// </summary>
    public const long ProcessOverheadBytes = 56L << 20;

    /// <summary>
    /// Dead tensors a computation lets accumulate before the library collects them: one eighth of the live heap,
    /// at least 48 MiB (the library runs a full collection whenever the heap has grown by that much since the last one,
    /// so the process follows its live tensors instead of growing until the machine is under memory pressure). Arrays a
    /// kernel function's buffer pool drops count as dead tensors here; its free arrays do not: with the arrays rented by
    /// the call in flight they stay within the call's estimated peak (the pool's cap).
    /// </summary>
    public static double GarbageAllowance(double liveBytes) =>
        Math.Max(Autodiff.Interpreters.MemoryPacer.MinBytes, Autodiff.Interpreters.MemoryPacer.Fraction * liveBytes);

    /// <summary>
    /// Estimated peak resident memory (bytes) of a process that holds <paramref name="heldBytes"/> (inputs,
    /// parameters) and runs a computation estimated at <paramref name="computationBytes"/>:
    /// <see cref="ProcessOverheadBytes"/> + held + computation + the <see cref="GarbageAllowance"/> (the resident peak is
    /// the largest live + garbage over the run, reached just before a collection when the run allocates more than the
    /// allowance: measured on NTK-VP, which allocates 129 MB per call for an 8 MiB live peak).
    /// </summary>
    public static double ProcessPeakBytes(double computationBytes, double heldBytes) =>
        ProcessOverheadBytes + heldBytes + computationBytes + GarbageAllowance(computationBytes + heldBytes);

    /// <summary>Parses <c>1024</c>, <c>64KiB</c>, <c>64MiB</c>, <c>4GiB</c>, <c>1TiB</c> (also <c>KB/MB/GB</c> = powers of
    /// 1000, <c>K/M/G</c> = powers of 1024; case-insensitive; decimals allowed).</summary>
    /// <exception cref="FormatException">Not a size, an unknown unit, below 1 byte, or above 2⁶² bytes (the message says which).</exception>
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
        if (double.IsNaN(scale))
            throw new FormatException($"expected a unit B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB) such as 64MiB, got '{m.Groups[2].Value}' in '{text}'");
        double bytes = Math.Floor(v * scale);
        if (bytes > long.MaxValue / 2)
            throw new FormatException($"expected a size of at most {Format(long.MaxValue / 2)}, got '{text}'");
        if (bytes < 1)
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
