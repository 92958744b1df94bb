using System.Collections.Concurrent;
using System.Diagnostics;
using NeuralTangents.Cluster.Grains;
using NeuralTangents.Cluster.Tiles;
using NeuralTangents.Tiles;

namespace NeuralTangents.Cluster;

/// <summary>The scheduler of one cluster job (see <see cref="ClusterKernel.RunAsync"/>). All shared state is under one lock.</summary>
internal sealed class ClusterRun(IClusterClient client, PreparedJob job, ResumableNpy output, ClusterKernelOptions opt)
{
    private sealed class WorkerState(string key, ITileWorkerGrain grain)
    {
        public string Key { get; } = key;
        public ITileWorkerGrain Grain { get; } = grain;
        public bool Dead;
        public readonly CancellationTokenSource Lost = new();
        public readonly HashSet<int> Running = new();
        public readonly ConcurrentDictionary<string, Lazy<Task>> Delivered = new(StringComparer.Ordinal);
        public string Name => Key.Split('@')[0];
    }

    private readonly object _lock = new();
    private readonly LinkedList<Tile> _queue = new(job.Tiled.Plan.Tiles.Where(t => !output.Done.Contains(t.Index)));
    private readonly HashSet<int> _pending = job.Tiled.Plan.Tiles.Where(t => !output.Done.Contains(t.Index)).Select(t => t.Index).ToHashSet();
    private readonly Dictionary<int, int> _running = new();
    private readonly Dictionary<int, long> _startedAt = new();
    private readonly Dictionary<int, int> _attempts = new();
    private readonly Dictionary<string, WorkerState> _workers = new(StringComparer.Ordinal);
    private readonly List<Task> _slots = new();
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _sw = Stopwatch.StartNew();
    private double _slowest, _workerSeconds;
    private int _computed, _lost, _retries;
    private long _sent, _received;

    public async Task<ClusterRunStats> RunAsync(CancellationToken ct)
    {
        int resumed = job.Tiled.Plan.Tiles.Count - _pending.Count;
        Report();
        if (_pending.Count > 0)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            await RefreshWorkersAsync(stop.Token);
            lock (_lock)
                if (_workers.Count == 0) throw new ClusterJobException("the cluster has no active workers");
            var membership = MembershipLoopAsync(stop.Token);
            try
            {
                using (ct.Register(() => _finished.TrySetCanceled(ct))) await _finished.Task;
            }
            finally
            {
                stop.Cancel();
                Task[] all;
                lock (_lock) all = _slots.Append(membership).ToArray();
                try { await Task.WhenAll(all); } catch { /* slots end by cancellation */ }
            }
        }
        int workers;
        lock (_lock) workers = _workers.Count;
        return new ClusterRunStats(_computed, resumed, workers, _lost, _retries, Interlocked.Read(ref _sent), Interlocked.Read(ref _received), _sw.Elapsed, _workerSeconds);
    }

    private async Task MembershipLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try { await Task.Delay(opt.MembershipRefresh, ct); await RefreshWorkersAsync(ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) { opt.Log?.Invoke($"membership refresh failed: {e.Message}"); }
        }
    }

    /// <summary>Adds a worker per newly active silo; drops the workers of silos that left.</summary>
    private async Task RefreshWorkersAsync(CancellationToken ct)
    {
        var hosts = await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(30), ct);
        var active = hosts.Where(h => h.Value == SiloStatus.Active).Select(h => h.Key.ToParsableString()).ToHashSet(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var w in _workers.Values.Where(w => !w.Dead && !active.Contains(w.Key)).ToArray())
                MarkLost(w, "left the cluster");
            foreach (var key in active.Where(k => !_workers.ContainsKey(k)))
            {
                var w = new WorkerState(key, client.GetGrain<ITileWorkerGrain>(key));
                _workers[key] = w;
                for (int s = 0; s < Math.Max(1, opt.InFlightPerWorker); s++) _slots.Add(SlotAsync(w, ct));
            }
        }
    }

    private async Task SlotAsync(WorkerState w, CancellationToken ct)
    {
        await Task.Yield();
        while (true)
        {
            Tile? next;
            Task changed;
            TimeSpan timeout;
            lock (_lock)
            {
                if (_finished.Task.IsCompleted || w.Dead || ct.IsCancellationRequested) return;
                next = Take(w);
                changed = _changed.Task;
                timeout = _slowest == 0 ? opt.FirstTileTimeout : TimeSpan.FromSeconds(Math.Max(opt.MinTileTimeout.TotalSeconds, opt.TimeoutFactor * _slowest));
            }
            if (next is not { } t)
            {
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(ct, w.Lost.Token);
                try { await changed.WaitAsync(wake.Token); } catch (OperationCanceledException) { }
                continue;
            }
            var sw = Stopwatch.StartNew();
            try
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, w.Lost.Token);
                var reply = await ExecuteAsync(w, t).WaitAsync(timeout, linked.Token);
                Complete(w, t, reply, sw.Elapsed.TotalSeconds);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) { Failed(w, t, e, timeout); }
        }
    }

    /// <summary>The next tile for worker <paramref name="w"/>: the queue's head, or (queue empty, worker idle) a copy of
    /// the longest-running tile of another worker, so a slow or stalled worker does not hold the job's end back.</summary>
    private Tile? Take(WorkerState w)
    {
        Tile? t = null;
        if (_queue.First is { } first) { t = first.Value; _queue.RemoveFirst(); }
        else if (w.Running.Count == 0)
        {
            var candidates = _running.Where(kv => kv.Value == 1 && _pending.Contains(kv.Key)).Select(kv => kv.Key).ToArray();
            if (candidates.Length > 0)
            {
                int idx = candidates.MinBy(i => _startedAt[i]);
                t = job.Tiled.Plan.Tiles[idx];
            }
        }
        if (t is { } tile)
        {
            _running[tile.Index] = _running.GetValueOrDefault(tile.Index) + 1;
            if (_running[tile.Index] == 1) _startedAt[tile.Index] = Stopwatch.GetTimestamp();
            w.Running.Add(tile.Index);
        }
        return t;
    }

    private async Task<TileReply> ExecuteAsync(WorkerState w, Tile t)
    {
        var (row, col) = job.BlockHashes(t);
        var need = col is null ? new[] { job.JobHash, job.ParamsHash, row } : new[] { job.JobHash, job.ParamsHash, row, col };
        var work = new TileWork { JobHash = job.JobHash, RowHash = row, ColHash = col, Row = t.Row, Col = t.Column };
        for (int round = 0; round < 3; round++)
        {
            foreach (var h in need) await EnsureAsync(w, h);
            var reply = await w.Grain.ComputeAsync(work);
            Interlocked.Add(ref _sent, 64 * 3 + 16);
            if (reply.Missing.Length == 0)
            {
                Interlocked.Add(ref _received, reply.Kernels.Sum(k => (long)k.Length));
                return reply;
            }
            foreach (var m in reply.Missing) w.Delivered.TryRemove(m, out _); // evicted on the worker: send again
        }
        throw new InvalidOperationException($"worker {w.Name} keeps dropping the job's blobs");
    }

    private async Task EnsureAsync(WorkerState w, string hash)
    {
        var lazy = w.Delivered.GetOrAdd(hash, h => new Lazy<Task>(async () =>
        {
            var data = job.Blob(h) ?? throw new InvalidOperationException($"unknown blob {h}");
            await w.Grain.PutAsync(h, data);
            Interlocked.Add(ref _sent, data.Length + 64);
        }));
        try { await lazy.Value; }
        catch { w.Delivered.TryRemove(new KeyValuePair<string, Lazy<Task>>(hash, lazy)); throw; }
    }

    private void Complete(WorkerState w, Tile t, TileReply reply, double seconds)
    {
        bool first;
        lock (_lock)
        {
            w.Running.Remove(t.Index);
            _running[t.Index]--;
            first = _pending.Contains(t.Index);
            if (first) _slowest = Math.Max(_slowest, seconds);
        }
        if (first)
        {
            try
            {
                var kernel = Blobs.DecodeTensor(reply.Kernels[0]);
                lock (_lock)
                {
                    if (!_pending.Remove(t.Index)) return; // a duplicate won the race
                    output.Write(t, kernel);
                    _computed++;
                    _workerSeconds += reply.Seconds;
                    Report();
                    if (_pending.Count == 0) _finished.TrySetResult();
                }
            }
            catch (Exception e) { _finished.TrySetException(e); }
        }
        Pulse();
    }

    private void Failed(WorkerState w, Tile t, Exception e, TimeSpan timeout)
    {
        lock (_lock)
        {
            w.Running.Remove(t.Index);
            _running[t.Index]--;
            bool cancelledBecauseLost = e is OperationCanceledException && w.Dead;
            if (IsRequestError(e))
            {
                _finished.TrySetException(new ClusterJobException($"tile ({t.Row},{t.Column}) failed on worker {w.Name}: {e.Message}", e));
                return;
            }
            if (!cancelledBecauseLost)
            {
                int attempts = _attempts[t.Index] = _attempts.GetValueOrDefault(t.Index) + 1;
                var why = e is TimeoutException ? $"no answer within {timeout.TotalSeconds:0.#} s" : e.GetType().Name + ": " + e.Message.Split('\n')[0];
                MarkLost(w, why);
                if (attempts >= opt.MaxAttempts)
                {
                    _finished.TrySetException(new ClusterJobException(
                        $"tile ({t.Row},{t.Column}) failed on {attempts} workers (last: {why}); the finished tiles are kept: rerun with --resume"));
                    return;
                }
            }
            if (_pending.Contains(t.Index) && _running[t.Index] == 0 && !_queue.Any(q => q.Index == t.Index))
            {
                _queue.AddFirst(t);
                _retries++;
            }
        }
        Pulse();
    }

    /// <summary>Drops a worker (under the lock): its outstanding calls are cancelled and their tiles requeued.</summary>
    private void MarkLost(WorkerState w, string why)
    {
        if (w.Dead) return;
        w.Dead = true;
        _lost++;
        opt.Log?.Invoke($"worker {w.Name} lost ({why}); its tiles go to the other workers");
        _ = Task.Run(w.Lost.Cancel); // not under the lock: cancellation runs the lost calls' continuations
        if (_workers.Values.All(x => x.Dead))
            _finished.TrySetException(new ClusterJobException(
                $"all {_workers.Count} workers were lost ({_pending.Count} of {job.Tiled.Plan.Tiles.Count} tiles left); the finished tiles are kept: rerun with --resume"));
    }

    /// <summary>Progress as the local run reports it (under the lock; resumed tiles count as done).</summary>
    private void Report()
    {
        if (job.Request.Options.Progress is not { } p) return;
        int total = job.Tiled.Plan.Tiles.Count, done = total - _pending.Count;
        var elapsed = _sw.Elapsed;
        p.Report(new KernelProgress(done, total, elapsed, _computed == 0 ? null : elapsed / _computed * (total - done)));
    }

    private void Pulse()
    {
        TaskCompletionSource old;
        lock (_lock) { old = _changed; _changed = new(TaskCreationOptions.RunContinuationsAsynchronously); }
        old.TrySetResult();
    }

    /// <summary>Errors that come from the request itself and would recur on any worker (no retry).</summary>
    private static bool IsRequestError(Exception e) => e is ArgumentException or FormatException or InvalidDataException
        or NotSupportedException or InsufficientMemoryException;
}
