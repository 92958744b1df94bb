namespace NeuralTangents.Autodiff.Interpreters;

/// <summary>
/// Keeps garbage small while a kernel is computed, so that the process peak follows the live tensors the memory
/// estimates count. Without it the .NET GC lets dead large arrays pile up until the machine is under pressure: the
/// 5,620-example structured-derivatives kernel peaked at 3.6 GB RSS for about 1.2 GB of live tensors (24 GiB machine).
/// Inside <see cref="Enter"/>, <see cref="Tick()"/> (called after every interpreted equation and every tile or chunk)
/// runs a blocking full collection once the heap has grown, since the last one (in earlier scopes too, unless a full
/// collection has run since), by more than
/// <see cref="Fraction"/> of the heap that survived it (at least <see cref="MinBytes"/>): garbage stays below about
/// that fraction of the live heap. The bytes allocated since then are the cheap first test; the heap's own size
/// decides, because small objects die in the runtime's gen-0 collections and never become the large garbage this
/// guards against (counting them forced a ~9 ms full collection every 70–190 warm calls of the 10–20 ms seed FCN
/// kernel, which allocates 0.26–0.7 MB of small objects per call: max/min over 15 settled calls 1.74).
/// A collection over a heap of a few large arrays takes milliseconds, and reusing
/// freed memory avoids page faults on fresh memory, so the pacing costs little time.
/// Arrays a <see cref="BufferPool"/> drops count as allocated garbage (<see cref="BufferPool.DroppedBytes"/>); its free
/// arrays do not: a pool holds free plus rented arrays within its cap, the call's estimated peak, so a warm call that
/// reuses the last call's arrays neither allocates nor collects (counting them as garbage made the seed CNN trim and
/// re-allocate ~110 MB and collect 4 times per warm call).
/// Thread-safe: the state is a pair of counters shared by the computations in flight (a collection is process-wide
/// anyway); outside any <see cref="Enter"/> scope <see cref="Tick()"/> does nothing.
/// <see cref="Tick()"/> is also the computation's cancellation checkpoint: the token given to <see cref="Enter"/> (per
/// logical call flow) is checked there, so a kernel computed whole stops within one equation, not only between tiles.
/// </summary>
internal static class MemoryPacer
{
    /// <summary>Garbage allowed between collections, as a fraction of the heap after the previous one.</summary>
    internal const double Fraction = 0.125;

    /// <summary>Never collect more often than every this many allocated bytes (small kernels do not collect at all).</summary>
    internal const long MinBytes = 48L << 20;

    private static int _active;
    private static long _next = long.MaxValue;
    private static int _armedAt = -1;   // GC.CollectionCount(2) when the pacer last armed
    private static long _heapAtArm;     // heap bytes (live + uncollected garbage) and ...
    private static long _droppedAtArm;  // ... bytes pools had dropped, when the pacer last armed
    private static long _allowance = MinBytes;
    private static long _collections;

    /// <summary>The garbage allowance in effect: max(<see cref="MinBytes"/>, <see cref="Fraction"/> × the heap after the
    /// collection that armed the pacer).</summary>
    internal static long Allowance => Volatile.Read(ref _allowance);

    /// <summary>Full collections the pacer has run in this process (a diagnostic).</summary>
    internal static long Collections => Interlocked.Read(ref _collections);
    private static readonly AsyncLocal<CancellationToken> Token = new();

    /// <summary>Starts pacing until the returned scope is disposed (scopes nest and may overlap across threads); within
    /// it, on this call flow, <see cref="Tick()"/> throws <see cref="OperationCanceledException"/> once
    /// <paramref name="cancellation"/> is cancelled.</summary>
    public static IDisposable Enter(CancellationToken cancellation = default)
    {
        // Garbage left by earlier scopes (a warm call's dead results) still counts unless a full collection has run
        // since the pacer armed: re-arming at every call let calls that each allocate less than the allowance pile up
        // garbage until the runtime collected (digits FCN, 20 MB per call: 270 -> 450 MB peak RSS over 16 calls).
        if (Interlocked.Increment(ref _active) == 1 && (Volatile.Read(ref _next) == long.MaxValue || GC.CollectionCount(2) != Volatile.Read(ref _armedAt)))
            Arm();
        var outer = Token.Value;
        if (cancellation.CanBeCanceled) Token.Value = cancellation;
        return new Scope(outer);
    }

    /// <summary>Collects when the heap has grown by the allowance since the last full collection (cheap until as many
    /// bytes were allocated: one counter read).</summary>
    /// <exception cref="OperationCanceledException">The scope's token was cancelled.</exception>
    public static void Tick() => Tick(0);

    /// <summary><see cref="Tick()"/> before an allocation of <paramref name="upcomingBytes"/>: what the caller is about to allocate (an equation's output), counted as if
    /// allocated already, so that garbage left by earlier steps that allocated little (an equation that only frees a
    /// 383 MiB operand) is collected before a large allocation instead of after it (the seed CNN's JC without vmap
    /// held 1.45 GiB of heap for a 1.08 GiB live peak).</summary>
    /// <exception cref="OperationCanceledException">The scope's token was cancelled.</exception>
    public static void Tick(long upcomingBytes)
    {
        if (Volatile.Read(ref _active) == 0) return;
        Token.Value.ThrowIfCancellationRequested();
        upcomingBytes = Math.Max(0, upcomingBytes);
        long now = Allocated() + upcomingBytes;
        long next = Volatile.Read(ref _next);
        if (now < next) return;
        // One thread decides; the others see the new mark.
        if (Interlocked.CompareExchange(ref _next, long.MaxValue, next) != next) return;
        // Arrays pools dropped were live heap when the pacer armed, so they count beside the heap's growth.
        long allowance = Volatile.Read(ref _allowance);
        long grown = GC.GetTotalMemory(forceFullCollection: false) - HeapAfterLastFullCollection()
                     + (BufferPool.DroppedBytes - Volatile.Read(ref _droppedAtArm)) + upcomingBytes;
        if (grown < allowance)
        {
            // The runtime collected what was allocated: test again after the rest of the allowance (at least an eighth).
            Volatile.Write(ref _next, now + Math.Max(allowance - grown, allowance / 8));
            return;
        }
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        Interlocked.Increment(ref _collections);
        Arm();
    }

    /// <summary>The heap's size (without free space) after the last full collection: the pacer's, or the runtime's own
    /// since (growth counted from the pacer's one after the runtime had collected let 60 MiB of garbage in over a 48 MiB
    /// allowance: a tiled JacobianContraction at 150 MiB peaked at 291 MiB RSS for 243 estimated).</summary>
    private static long HeapAfterLastFullCollection()
    {
        if (GC.CollectionCount(2) == Volatile.Read(ref _armedAt)) return Volatile.Read(ref _heapAtArm);
        var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        var last = blocking.Index >= background.Index ? blocking : background;
        return last.HeapSizeBytes - last.FragmentedBytes;
    }

    private static void Arm()
    {
        Volatile.Write(ref _armedAt, GC.CollectionCount(2));
        long live = GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes;
        long allowance = Math.Max(MinBytes, (long)(Fraction * live));
        Volatile.Write(ref _allowance, allowance);
        Volatile.Write(ref _heapAtArm, GC.GetTotalMemory(forceFullCollection: false));
        Volatile.Write(ref _droppedAtArm, BufferPool.DroppedBytes);
        Volatile.Write(ref _next, Allocated() + allowance);
    }

    /// <summary>Bytes allocated by the process plus bytes buffer pools dropped: both become garbage.</summary>
    private static long Allocated() => GC.GetTotalAllocatedBytes(precise: false) + BufferPool.DroppedBytes;

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
