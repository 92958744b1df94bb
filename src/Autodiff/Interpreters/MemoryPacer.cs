namespace NeuralTangents.Autodiff.Interpreters;

/// <summary>
/// Keeps garbage small while a kernel is computed, so that the process peak follows the live tensors the memory
/// estimates count. Without it the .NET GC lets dead large arrays pile up until the machine is under pressure: the
/// 5,620-example structured-derivatives kernel peaked at 3.6 GB RSS for about 1.2 GB of live tensors (24 GiB machine).
/// Inside <see cref="Enter"/>, <see cref="Tick"/> (called after every interpreted equation and every tile or chunk)
/// runs a blocking full collection once the bytes allocated since the last one exceed
/// <see cref="Fraction"/> of the heap that survived it (at least <see cref="MinBytes"/>): garbage stays below about
/// that fraction of the live heap. A collection over a heap of a few large arrays takes milliseconds, and reusing
/// freed memory avoids page faults on fresh memory, so the pacing costs little time.
/// Thread-safe: the state is a pair of counters shared by the computations in flight (a collection is process-wide
/// anyway); outside any <see cref="Enter"/> scope <see cref="Tick"/> does nothing.
/// </summary>
internal static class MemoryPacer
{
    /// <summary>Garbage allowed between collections, as a fraction of the heap after the previous one.</summary>
    internal const double Fraction = 0.125;

    /// <summary>Never collect more often than every this many allocated bytes (small kernels do not collect at all).</summary>
    internal const long MinBytes = 48L << 20;

    private static int _active;
    private static long _next = long.MaxValue;

    /// <summary>Starts pacing until the returned scope is disposed (scopes nest and may overlap across threads).</summary>
    public static IDisposable Enter()
    {
        if (Interlocked.Increment(ref _active) == 1) Arm();
        return new Scope();
    }

    /// <summary>Collects when enough has been allocated since the last collection (cheap otherwise: one counter read).</summary>
    public static void Tick()
    {
        if (Volatile.Read(ref _active) == 0) return;
        long now = GC.GetTotalAllocatedBytes(precise: false);
        long next = Volatile.Read(ref _next);
        if (now < next) return;
        // One thread collects; the others see the new mark.
        if (Interlocked.CompareExchange(ref _next, long.MaxValue, next) != next) return;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        Arm();
    }

    private static void Arm()
    {
        long live = GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes;
        long allowance = Math.Max(MinBytes, (long)(Fraction * live));
        Volatile.Write(ref _next, GC.GetTotalAllocatedBytes(precise: false) + allowance);
    }

    private sealed class Scope : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref _active);
        }
    }
}
