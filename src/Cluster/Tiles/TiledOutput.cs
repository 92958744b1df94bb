using System.Diagnostics;

namespace NeuralTangents.Cluster.Tiles;

/// <summary>The output files of a tiled run (one .npy per requested kernel) plus bookkeeping shared by the local and
/// the cluster run: which tiles remain, writing a finished tile (and its mirror), progress.</summary>
internal sealed class TiledOutput : IDisposable
{
    private readonly PreparedJob _job;
    private readonly TiledNpyFile[] _files;
    private readonly IProgress<TileProgress>? _progress;
    private readonly Stopwatch _sw = Stopwatch.StartNew();
    private readonly int _resumed;
    private int _done;

    public IReadOnlyList<Tile> Remaining { get; }

    public TiledOutput(PreparedJob job, IReadOnlyList<string> paths, bool resume, IProgress<TileProgress>? progress)
    {
        if (paths.Count != job.Request.Get.Count)
            throw new ArgumentException($"outputs: expected one .npy path per kernel ({job.Request.Get.Count}), got {paths.Count}", nameof(paths));
        _job = job;
        _progress = progress;
        _files = new TiledNpyFile[paths.Count];
        try
        {
            for (int k = 0; k < paths.Count; k++)
                _files[k] = new TiledNpyFile(paths[k], job.KernelShape, job.Request.X1.DType, job.KernelHash + $"|{job.Request.Get[k]}",
                    job.Request.BatchSize, job.Plan.Tiles.Count, resume);
        }
        catch { Dispose(); throw; }
        // A tile counts as done only when every kernel file has it.
        var done = _files.Select(f => f.Done.ToHashSet()).Aggregate((a, b) => { a.IntersectWith(b); return a; });
        Remaining = job.Plan.Tiles.Where(t => !done.Contains(t.Index)).ToArray();
        _resumed = _done = job.Plan.Tiles.Count - Remaining.Count;
        Report();
    }

    /// <summary>Writes tile <paramref name="t"/>'s kernels (and, with x2 = x1, the mirrored tile) and records it.</summary>
    public void Write(Tile t, Tensor[] kernels)
    {
        var plan = _job.Plan;
        int r0 = plan.Block(t.Row, plan.N1).Start, c0 = plan.Block(t.Col, plan.N2).Start;
        for (int k = 0; k < _files.Length; k++)
        {
            _files[k].WriteBlock(kernels[k], r0, c0, plan.DiagonalOnly);
            if (plan.Symmetric && !plan.DiagonalOnly && t.Row != t.Col)
                _files[k].WriteBlock(kernels[k].Transpose(_job.Mirror), c0, r0, rowsOnly: false);
        }
        foreach (var f in _files) f.MarkDone(t.Index);
        Interlocked.Increment(ref _done);
        Report();
    }

    private void Report()
    {
        if (_progress is null) return;
        int done = Volatile.Read(ref _done), total = _job.Plan.Tiles.Count, thisRun = done - _resumed;
        var elapsed = _sw.Elapsed;
        TimeSpan? eta = thisRun > 0 ? elapsed * ((double)(total - done) / thisRun) : null;
        _progress.Report(new TileProgress(done, total, elapsed, eta));
    }

    public void Complete() { foreach (var f in _files) f.Complete(); }

    public void Dispose() { foreach (var f in _files) f?.Dispose(); }
}
