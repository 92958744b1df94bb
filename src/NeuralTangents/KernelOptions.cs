namespace NeuralTangents;

/// <summary>
/// How a kernel is computed, not what it is: the memory budget, the tile size over examples (Neural Tangents'
/// <c>nt.batch(kernel_fn, batch_size)</c>), progress reports and cancellation. Passed as the optional
/// <c>options</c> of <see cref="Empirical.NtkFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation, KernelOptions)"/>,
/// <see cref="Empirical.NngpFn(ApplyFn, int[], int[], KernelOptions)"/> and
/// <see cref="Empirical.KernelFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation, KernelOptions)"/>.
/// <para>
/// Tiling: the kernel is computed as (x1-block × x2-block) tiles of <see cref="BatchSize"/> examples along the batch
/// axis (the <c>vmapAxes</c> axis, or axis 0 of every input and output without <c>vmapAxes</c>, as <c>nt.batch</c>
/// assumes). With <c>x2 = null</c> only the upper-triangular tiles are computed and mirrored (exactly symmetric);
/// with the batch axis diagonal only the diagonal tiles. Without <see cref="BatchSize"/> the tile size is derived
/// from the budget, but only when <c>vmapAxes</c> promises that examples do not interact.
/// </para>
/// </summary>
public sealed record KernelOptions
{
    /// <summary>Bytes the computation may hold at once (estimated; see <see cref="NeuralTangents.MemoryBudget"/>);
    /// null = <see cref="NeuralTangents.MemoryBudget.DefaultBytes"/>.</summary>
    public long? MemoryBudget { get; init; }

    /// <summary>Examples per tile along the batch axis (<c>nt.batch</c>'s <c>batch_size</c>); null = derived from the budget.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Receives one report per finished tile (tiled computations only), called on the computing thread.</summary>
    public IProgress<KernelProgress>? Progress { get; init; }

    /// <summary>Checked before every tile: a cancelled token stops within about one tile with
    /// <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; init; }

    internal long Budget => MemoryBudget ?? NeuralTangents.MemoryBudget.DefaultBytes;

    internal void Validate()
    {
        if (MemoryBudget is < 1) throw new ArgumentOutOfRangeException(nameof(MemoryBudget), $"memoryBudget must be at least 1 byte, got {MemoryBudget}");
        if (BatchSize is < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), $"batchSize must be at least 1, got {BatchSize}");
    }
}
