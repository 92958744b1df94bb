using System.Collections.Concurrent;
using System.Diagnostics;
using NeuralTangents.Cluster.Grains;
using NeuralTangents.Cluster.Tiles;


namespace NeuralTangents.Cluster.Worker;

/// <summary>
/// The per-silo state behind the worker grain: blob store, per-job kernels (built once per job from its description)
/// and a gate so tiles run one at a time on the configured number of threads.
/// </summary>
internal sealed class WorkerEngine(INetResolver resolver, WorkerOptions options)
{
    private sealed record JobRuntime(JobSpec Spec, Lazy<BlockKernel> Kernel);

    private readonly ConcurrentDictionary<string, JobRuntime> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public BlobStore Blobs { get; } = new(options.BlobCapacityBytes);

    public async Task<TileReply> ComputeAsync(TileWork w)
    {
        var needed = new List<string> { w.JobHash, w.RowHash };
        if (w.ColHash is { } c) needed.Add(c);
        if (Blobs.TryGet(w.JobHash, out var specBytes)) needed.Add(JobSpec.FromBytes(specBytes).ParamsHash);
        var missing = Blobs.Missing(needed);
        if (missing.Length > 0) return new TileReply { Missing = missing };

        var job = _jobs.GetOrAdd(w.JobHash, _ =>
        {
            var spec = JobSpec.FromBytes(specBytes);
            Blobs.TryGet(spec.ParamsHash, out var pb);
            var parameters = Tiles.Blobs.DecodeParams(pb);
            var rt = new JobRuntime(spec, new Lazy<BlockKernel>(() => new BlockKernel(resolver.Resolve(spec.NetSpec), spec, parameters)));
            options.Log?.Invoke($"{DateTime.UtcNow:HH:mm:ss} job {w.JobHash[..12]}: {string.Join(",", spec.Kinds).ToUpperInvariant()} of " +
                $"\"{spec.NetSpec}\" ({parameters.ParameterCount} params, {spec.Implementation}, tiles of {spec.BatchSize}), first tile ({w.Row},{w.Col})");
            return rt;
        });
        var xi = Block(w.RowHash);
        var xj = w.ColHash is { } ch ? Block(ch) : null;

        await _gate.WaitAsync();
        try
        {
            if (options.BeforeTile is { } hook) await hook(w);
            // A thread of its own, not a pool thread: the engine's Parallel.For loops and Orleans share the pool, and a
            // one-processor worker would otherwise wait for the pool to grow.
            return await Task.Factory.StartNew(() =>
            {
                if (options.Threads > 0) Blas.MaxDegreeOfParallelism = options.Threads; // thread-static: this pool thread only
                var sw = Stopwatch.StartNew();
                var kernels = job.Kernel.Value.Compute(xi, xj);
                return new TileReply { Kernels = kernels.Select(Tiles.Blobs.EncodeTensor).ToArray(), Seconds = sw.Elapsed.TotalSeconds };
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally { _gate.Release(); }
    }

    // Decoded blocks are cached with the blob; a block evicted from the store is decoded again when resent.
    private Tensor Block(string hash)
    {
        if (!Blobs.TryGet(hash, out var bytes)) throw new InvalidOperationException($"blob {hash[..12]}… vanished");
        if (_tensors.Count > 256) _tensors.Clear();
        return _tensors.GetOrAdd(hash, _ => Tiles.Blobs.DecodeTensor(bytes));
    }
}
