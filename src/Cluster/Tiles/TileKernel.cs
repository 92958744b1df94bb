using NeuralTangents.Kernels;

namespace NeuralTangents.Cluster.Tiles;

/// <summary>
/// Computes one tile of a kernel with the local engine. The same object runs on a worker and in a local tiled run,
/// so a tile is bit-for-bit the same wherever it is computed. Thread-safe (the kernel function is).
/// </summary>
internal sealed class TileKernel
{
    private readonly KernelsFunction _fn;
    private readonly KernelKind[] _get;
    private readonly Params _params;
    private readonly KernelAxes _axes;

    /// <summary>Output shape of f on one example (batch axis first).</summary>
    public Shape OutputShape1 { get; }

    /// <summary>True when the example axis 0 is a diagonal axis (only diagonal tiles, kernel (N, …)).</summary>
    public bool DiagonalOnly => _axes.Diagonal.Contains(0);

    public TileKernel(ApplyFn f, JobSpec spec, Params parameters, Tensor sample)
    {
        _get = spec.Kinds;
        _params = parameters;
        _fn = Empirical.KernelFn(f, spec.TraceAxes, spec.DiagonalAxes, spec.VmapAxis is { } v ? (VmapAxes)v : null, spec.Implementation);
        // One example's forward pass gives the output rank and shape; the kernel layout follows from it.
        var one = sample.Slice(new int[sample.Rank], new[] { 1 }.Concat(sample.Shape.Dims.Skip(1)).ToArray());
        OutputShape1 = new TracedApply(f).Evaluate(parameters, [one])[0].Shape;
        _axes = KernelAxes.Canonicalize(spec.TraceAxes, spec.DiagonalAxes, OutputShape1.Rank);
        if (_axes.Trace.Contains(0))
            throw new ArgumentException("trace_axes contains the batch axis 0: a tiled kernel needs the example axis in its output", "traceAxes");
    }

    /// <summary>The whole kernel's shape for n1 × n2 examples.</summary>
    public Shape KernelShape(int n1, int n2) => _axes.KernelShape(WithBatch(n1), WithBatch(n2));

    private Shape WithBatch(int n) => new(new[] { n }.Concat(OutputShape1.Dims.Skip(1)).ToArray());

    /// <summary>Axis permutation that turns tile (i, j) into tile (j, i) when x2 = x1: each (x1, x2) axis pair swaps.</summary>
    public int[] MirrorPermutation()
    {
        var perm = new List<int>();
        for (int ax = 0; ax < _axes.Rank; ax++)
        {
            if (_axes.Trace.Contains(ax)) continue;
            int p = perm.Count;
            if (_axes.Diagonal.Contains(ax)) perm.Add(p);
            else { perm.Add(p + 1); perm.Add(p); }
        }
        return perm.ToArray();
    }

    /// <summary>The kernels of a tile, contiguous, in the order of the job's kinds; <paramref name="xj"/> null = x2 = x1 block.</summary>
    public Tensor[] Compute(Tensor xi, Tensor? xj) =>
        _fn(xi, xj, _get, _params).Items.Select(kv => kv.Value.Contiguous()).ToArray();
}
