using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Implementations;
using NeuralTangents.Tiles;

namespace NeuralTangents.Cluster.Tiles;

/// <summary>
/// Computes one tile of a job from its two input blocks, exactly as <see cref="TiledKernel.ComputeTile"/> does on the
/// whole inputs: the block pair is planned as a one-tile kernel with the job's tile size, so the same contraction
/// (and, for a diagonal tile of x2 = x1, the same exact symmetrisation) runs on the same block values. The network is
/// traced once per job (the traced function is kept), not once per tile. Thread-safe.
/// </summary>
internal sealed class BlockKernel
{
    private readonly TracedApply _traced;
    private readonly JobSpec _spec;
    private readonly Params _params;
    private readonly VmapAxes? _vmap;

    public BlockKernel(ApplyFn f, JobSpec spec, Params parameters)
    {
        _traced = new TracedApply(f);
        _spec = spec;
        _params = parameters;
        _vmap = spec.VmapAxis is { } v ? (VmapAxes)v : null;
    }

    /// <summary>The kernels (one per kind) of row block <paramref name="xi"/> against <paramref name="xj"/>
    /// (null: against itself, a diagonal tile of x2 = x1).</summary>
    public Tensor[] Compute(Tensor xi, Tensor? xj)
    {
        var xs1 = new[] { xi };
        var xs2 = xj is null ? null : new[] { xj };
        int rank = _traced.OutputTypes(_params, [TensorType.Of(xi)])[0].Shape.Rank;
        var axes = new[] { KernelAxes.Canonicalize(_spec.TraceAxes, _spec.DiagonalAxes, rank) };
        var options = new KernelOptions { BatchSize = _spec.BatchSize, MemoryBudget = _spec.MemoryBudget };
        var spec = KernelSpec.Resolve(_spec.TraceAxes, _spec.DiagonalAxes, _vmap, _spec.Implementation, options);
        var job = KernelJob.Create(_traced, _params, xs1, xs2, _spec.Kinds, axes, spec, inMemory: false);
        var plan = job.Plan ?? throw new InvalidOperationException("a block pair planned without tiles");
        if (plan.Tiles.Count != 1) throw new InvalidOperationException($"a block pair planned as {plan}");
        return job.ComputeTile(plan, plan.Tiles[0]).Select(t => t.Contiguous()).ToArray();
    }
}
