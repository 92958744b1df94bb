using NeuralTangents.Cli;
using NeuralTangents.Cluster;
using NeuralTangents.Cluster.Tiles;
using Orleans.TestingHost;

namespace NeuralTangents.Tests.Cluster;

/// <summary>Faults: a worker silo stopped mid-job, a worker that stalls, a client that stops mid-job and resumes.</summary>
public sealed class ClusterFaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-cluster-fault-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public async Task A_silo_killed_mid_job_loses_nothing_and_the_file_is_byte_identical()
    {
        // Silo_2 takes tiles but never finishes one: on its first tile it is killed (abruptly, as a crash), so its
        // outstanding tiles must be computed by the other two.
        InProcessTestCluster? cluster = null;
        Task? kill = null;
        int killed = 0;
        var never = new TaskCompletionSource();
        await using var c = cluster = await ClusterTestCluster.StartAsync(3, async (silo, _) =>
        {
            if (silo != "Silo_2") { await Task.Delay(20); return; }
            if (Interlocked.Exchange(ref killed, 1) == 0)
                kill = Task.Run(() => cluster!.KillSiloAsync(cluster.Silos.Single(s => s.Name == "Silo_2")));
            await never.Task;
        });
        var x1 = Tensor.RandomNormal(new Random(5), new Shape(28, 6));
        var req = ClusterKernelTests.Request(x1, null, 4); // 7 blocks, 28 tiles
        ClusterKernelTests.Local(req, P("local.npy"));
        var log = new List<string>();
        try
        {
            var stats = await ClusterKernel.RunAsync(cluster.Client, req, NetSpecResolver.Instance, P("remote.npy"),
                options: new ClusterKernelOptions { MinTileTimeout = TimeSpan.FromSeconds(5), FirstTileTimeout = TimeSpan.FromSeconds(20), Log = l => { lock (log) log.Add(l); } });
            Assert.Equal(1, Volatile.Read(ref killed));
            await kill!;
            Assert.Equal(File.ReadAllBytes(P("local.npy")), File.ReadAllBytes(P("remote.npy")));
            Assert.Equal(3, stats.Workers);
            Assert.Equal(28, stats.TilesComputed);
        }
        finally { never.TrySetResult(); }
    }

    [Fact]
    public async Task A_stalled_worker_does_not_hold_the_job_and_the_file_is_byte_identical()
    {
        // The first copy of tile (0,1) stalls until the test ends; the job must finish without it.
        var release = new TaskCompletionSource();
        int stalled = 0;
        await using var cluster = await ClusterTestCluster.StartAsync(2, async w =>
        {
            if (w.Row == 0 && w.Col == 1 && Interlocked.Exchange(ref stalled, 1) == 0) await release.Task;
        });
        try
        {
            var x1 = Tensor.RandomNormal(new Random(6), new Shape(12, 6));
            var req = ClusterKernelTests.Request(x1, null, 4); // 3 blocks, 6 tiles
            ClusterKernelTests.Local(req, P("local.npy"));
            var opts = new ClusterKernelOptions { FirstTileTimeout = TimeSpan.FromSeconds(3), MinTileTimeout = TimeSpan.FromSeconds(3) };
            var run = ClusterKernel.RunAsync(cluster.Client, req, NetSpecResolver.Instance, P("remote.npy"), options: opts);
            Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))));
            await run;
            Assert.Equal(1, Volatile.Read(ref stalled));
            Assert.Equal(File.ReadAllBytes(P("local.npy")), File.ReadAllBytes(P("remote.npy")));
        }
        finally { release.TrySetResult(); }
    }

    [Fact]
    public async Task A_client_cancelled_mid_job_leaves_a_manifest_and_resume_gives_the_same_bytes()
    {
        await using var cluster = await ClusterTestCluster.StartAsync(2, _ => Task.Delay(20));
        var x1 = Tensor.RandomNormal(new Random(7), new Shape(24, 6));
        var req = ClusterKernelTests.Request(x1, null, 4); // 21 tiles
        ClusterKernelTests.Local(req, P("local.npy"));

        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.TilesDone >= 5) cts.Cancel(); });
        var cancelling = ClusterKernelTests.Request(x1, null, 4, cancel: cts.Token, progress: progress);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ClusterKernel.RunAsync(cluster.Client, cancelling, NetSpecResolver.Instance, P("remote.npy")));
        Assert.False(File.Exists(P("remote.npy")));
        Assert.True(File.Exists(P("remote.npy.tiles.json")));

        var stats = await ClusterKernel.RunAsync(cluster.Client, req, NetSpecResolver.Instance, P("remote.npy"), resume: true);
        Assert.True(stats.TilesResumed >= 5, $"resumed {stats.TilesResumed}");
        Assert.Equal(21, stats.TilesResumed + stats.TilesComputed);
        Assert.Equal(File.ReadAllBytes(P("local.npy")), File.ReadAllBytes(P("remote.npy")));
        Assert.False(File.Exists(P("remote.npy.tiles.json")));
    }

    /// <summary>IProgress that runs on the reporting thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<KernelProgress> a) : IProgress<KernelProgress>
    {
        public void Report(KernelProgress value) => a(value);
    }
}
