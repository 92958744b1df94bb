using NeuralTangents.Implementations;

namespace NeuralTangents;

/// <summary>
/// Everything a kernel computation was asked for besides f and the data, with Neural Tangents' defaults applied once:
/// <c>trace_axes</c> (default <c>(-1,)</c>), <c>diagonal_axes</c> (default <c>()</c>), <c>vmap_axes</c> (default none),
/// the implementation (validated), structured derivatives' rule switches and the <see cref="KernelOptions"/> (budget,
/// tiles, progress, cancellation; validated). The public entry points keep their Neural Tangents-shaped parameters
/// and resolve them into this record; the kernel job reads only this.
/// </summary>
internal sealed record KernelSpec(int[] TraceAxes, int[] DiagonalAxes, VmapAxes? VmapAxes, NtkImplementation Implementation,
    SdRules Rules, KernelOptions Options)
{
    /// <summary>Neural Tangents' default <c>trace_axes=(-1,)</c>.</summary>
    public static IReadOnlyList<int> DefaultTraceAxes { get; } = new[] { -1 };

    /// <summary>Applies the defaults and validates the implementation and the options (before any numeric work).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An undefined implementation, or a budget/batch size below 1.</exception>
    public static KernelSpec Resolve(int[]? traceAxes, int[]? diagonalAxes, VmapAxes? vmapAxes, NtkImplementation implementation,
        KernelOptions? options, SdRules? rules = null)
    {
        if (implementation != NtkImplementation.Auto && NtkImplementations.All.All(m => m.Kind != implementation))
            throw new ArgumentOutOfRangeException(nameof(implementation), $"unknown NtkImplementation {(int)implementation}; expected 0..3");
        var opts = options ?? new KernelOptions();
        opts.Validate();
        return new KernelSpec(traceAxes ?? DefaultTraceAxes.ToArray(), diagonalAxes ?? Array.Empty<int>(), vmapAxes, implementation,
            rules ?? SdRules.All, opts);
    }

}
