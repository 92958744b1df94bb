using NeuralTangents.Autodiff.Interpreters;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>
/// The memory pacer collects large garbage (dead arrays past the runtime's gen 0, which it otherwise lets pile up) and
/// leaves small short-lived objects to the runtime's own gen-0 collections. Run alone: the pacer's state and the GC
/// heap are process-wide, so another test allocating in parallel would change what these see.
/// </summary>
[Collection(nameof(MemoryPacerTests))]
public class MemoryPacerTests
{
    private const long Mib = 1L << 20;

    [Fact]
    public void SmallShortLivedGarbageDoesNotForceFullCollections()
    {
        GC.Collect();   // re-arms the pacer at this test's first tick: nothing allocated before counts
        long before = MemoryPacer.Collections;
        var recent = new byte[64][];   // the arrays escape to the heap (none is stack-allocated) and die young
        using (MemoryPacer.Enter())
        {
            MemoryPacer.Tick();
            // 256 MiB in 1 KiB arrays, five times the 48 MiB minimum allowance: counted by bytes allocated, the pacer
            // collected five times here; the runtime's gen-0 collections take all of it.
            for (int i = 0; i < 256 * 1024; i++)
            {
                recent[i % recent.Length] = new byte[1024 - 24];
                if (i % 256 == 0) MemoryPacer.Tick();
            }
        }
        Assert.Equal(0, MemoryPacer.Collections - before);
    }

    [Fact]
    public void DeadLargeArraysStayWithinTheAllowance()
    {
        GC.Collect();
        long live = GC.GetTotalMemory(forceFullCollection: false);
        const long array = 64 * Mib;
        long maxGrowth = 0, allowance;
        using (MemoryPacer.Enter())
        {
            MemoryPacer.Tick();
            // The pacer's own figure (an eighth of the heap it saw, free space included, when the suite's heap is large).
            allowance = MemoryPacer.Allowance;
            // 1 GiB of dead 64 MiB arrays: with a pacer that never collected, the heap grew by 704 MiB here (127 MiB in a
            // small console program); with it the heap never grows by more than the allowance plus one array.
            for (int i = 0; i < 16; i++)
            {
                maxGrowth = Math.Max(maxGrowth, AllocateDead(array, i) - live);
                MemoryPacer.Tick();
            }
        }
        // 8 MiB of slack: what other threads (the runtime's, tests' leftovers) allocate meanwhile.
        Assert.True(maxGrowth <= allowance + array + 8 * Mib, $"heap grew by {maxGrowth / Mib} MiB, allowance {allowance / Mib} MiB, live {live / Mib} MiB");
    }

    /// <summary>Allocates an array that is garbage on return (no caller's local keeps it); returns the heap's size while it was live.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long AllocateDead(long bytes, int i)
    {
        var a = new double[bytes / sizeof(double)];
        a[i] = i;
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}

/// <summary>Runs <see cref="MemoryPacerTests"/> alone.</summary>
[CollectionDefinition(nameof(MemoryPacerTests), DisableParallelization = true)]
public class MemoryPacerTestsCollection;
