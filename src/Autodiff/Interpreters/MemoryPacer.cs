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
/// The free arrays of the ambient <see cref="BufferPool"/> count as garbage: they are added to the allocated bytes, and
/// the pool is trimmed to half the allowance before a collection.
/// Thread-safe: the state is a pair of counters shared by the computations in flight (a collection is process-wide
/// anyway); outside any <see cref="Enter"/> scope <see cref="Tick"/> does nothing.
/// <see cref="Tick"/> is also the computation's cancellation checkpoint: the token given to <see cref="Enter"/> (per
/// logical call flow) is checked there, so a kernel computed whole stops within one equation, not only between tiles.
/// </summary>
internal static class MemoryPacer
{
    /// <summary>Garbage allowed between collections, as a fraction of the heap after the previous one.</summary>
    internal const double Fraction = 0.125;

    /// <summary>Never collect more often than every this many allocated bytes (small kernels do not collect at all).</summary>
    internal const long MinBytes = 48L << 20;

    private static int _active;
    private static long _next = long.MaxValue, _allowance = MinBytes;
    private static readonly AsyncLocal<CancellationToken> Token = new();

    /// <summary>Starts pacing until the returned scope is disposed (scopes nest and may overlap across threads); within
    /// it, on this call flow, <see cref="Tick"/> throws <see cref="OperationCanceledException"/> once
    /// <paramref name="cancellation"/> is cancelled.</summary>
    public static IDisposable Enter(CancellationToken cancellation = default)
    {
        if (Interlocked.Increment(ref _active) == 1) Arm();
        var outer = Token.Value;
        if (cancellation.CanBeCanceled) Token.Value = cancellation;
        return new Scope(outer);
    }

    /// <summary>Collects when enough has been allocated since the last collection (cheap otherwise: one counter read).</summary>
    /// <exception cref="OperationCanceledException">The scope's token was cancelled.</exception>
    public static void Tick()
    {
        if (Volatile.Read(ref _active) == 0) return;
        Token.Value.ThrowIfCancellationRequested();
        // Free arrays of the buffer pool in use are dead memory too: they count against the allowance.
        var pool = BufferPool.Current;
        long now = GC.GetTotalAllocatedBytes(precise: false) + (pool?.FreeBytes ?? 0);
        long next = Volatile.Read(ref _next);
        if (now < next) return;
        // One thread collects; the others see the new mark.
        if (Interlocked.CompareExchange(ref _next, long.MaxValue, next) != next) return;
        pool?.TrimTo(Volatile.Read(ref _allowance) / 2);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        Arm();
    }

    private static void Arm()
    {
        long live = GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes;
        long allowance = Math.Max(MinBytes, (long)(Fraction * live));
        Volatile.Write(ref _allowance, allowance);
        Volatile.Write(ref _next, GC.GetTotalAllocatedBytes(precise: false) + allowance);
    }

    private sealed class Scope(CancellationToken outer) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            Token.Value = outer;
            Interlocked.Decrement(ref _active);
        }
    }
}
