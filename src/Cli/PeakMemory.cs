using System.Diagnostics;
using System.Globalization;

namespace NeuralTangents.Cli;

/// <summary>The process's peak resident memory (Linux VmHWM), printed next to the estimate so users see how good it was.</summary>
internal static class PeakMemory
{
    /// <summary>Peak resident set size of this process so far, in bytes.</summary>
    public static long Bytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    /// <summary><c>peak RSS 1,650 MiB (estimated 1,420 MiB)</c> (one unit, so the two compare at a glance), or without
    /// the estimate when there is none.</summary>
    public static string Summary(double? estimatedBytes) =>
        $"peak RSS {MiB(Bytes())}" + (estimatedBytes is { } e ? $" (estimated {MiB(e)})" : "");

    private static string MiB(double bytes) => (bytes / (1 << 20)).ToString("#,0", CultureInfo.InvariantCulture) + " MiB";
}
