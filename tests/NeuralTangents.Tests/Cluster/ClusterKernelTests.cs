using NeuralTangents.Cli;
using NeuralTangents.Cluster;
using NeuralTangents.Cluster.Hosting;
using NeuralTangents.Cluster.Tiles;
using NeuralTangents.Tiles;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace NeuralTangents.Tests.Cluster;

/// <summary>Two in-process worker silos: cluster results equal the local tiled run byte for byte.</summary>
public sealed class ClusterKernelTests : IAsyncLifetime, IDisposable
{
    private const string Net = "Dense(16,b_std=0.1),Relu,Dense(3)";
    private InProcessTestCluster _cluster = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-cluster-").FullName;

    public async Task InitializeAsync() => _cluster = await ClusterTestCluster.StartAsync(2);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    internal static KernelRequest Request(Tensor x1, Tensor? x2, int batch, int[]? trace = null, int[]? diag = null,
        NtkImplementation impl = NtkImplementation.StructuredDerivatives, string net = Net, KernelKind kind = KernelKind.Ntk,
        CancellationToken cancel = default, IProgress<KernelProgress>? progress = null)
    {
        var layer = NetSpec.Parse(net);
        var p = layer.Init(3, x1.Shape, x1.DType).Params;
        return new KernelRequest(net, p, x1, x2, [kind], trace ?? [-1], diag ?? [], 0, impl,
            new KernelOptions { BatchSize = batch, CancellationToken = cancel, Progress = progress });
    }

    /// <summary>The single-machine reference: issue 11's tiled writer on the same request.</summary>
    internal static void Local(KernelRequest r, string path) => r.Plan(NetSpecResolver.Instance).WriteNpy(path, false, r.NetSpec);

    public static IEnumerable<object?[]> Cases()
    {
        // x2 null (upper triangle + mirror) / given; traced / full output (axis pairs mirror) / diagonal batch axis;
        // odd tile sizes; every implementation; NTK and NNGP; AUTO resolved on the client.
        yield return [false, new[] { -1 }, Array.Empty<int>(), 4, NtkImplementation.StructuredDerivatives, KernelKind.Ntk];
        yield return [true, new[] { -1 }, Array.Empty<int>(), 3, NtkImplementation.JacobianContraction, KernelKind.Ntk];
        yield return [false, Array.Empty<int>(), Array.Empty<int>(), 5, NtkImplementation.NtkVectorProducts, KernelKind.Ntk];
        yield return [false, Array.Empty<int>(), new[] { 0 }, 4, NtkImplementation.StructuredDerivatives, KernelKind.Ntk];
        yield return [false, Array.Empty<int>(), Array.Empty<int>(), 4, NtkImplementation.Auto, KernelKind.Nngp];
        yield return [true, new[] { -1 }, Array.Empty<int>(), 2, NtkImplementation.Auto, KernelKind.Ntk];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Cluster_file_equals_local_tiled_file_byte_for_byte(bool withX2, int[] trace, int[] diag, int batch, NtkImplementation impl, KernelKind kind)
    {
        var x1 = Tensor.RandomNormal(new Random(1), new Shape(11, 6));
        var x2 = withX2 ? Tensor.RandomNormal(new Random(2), new Shape(diag.Length > 0 ? 11 : 7, 6)) : null;
        var req = Request(x1, x2, batch, trace, diag, impl, Net, kind);
        Local(req, P("local.npy"));
        var stats = await ClusterKernel.RunAsync(_cluster.Client, req, NetSpecResolver.Instance, P("remote.npy"));

        var plan = req.Plan(NetSpecResolver.Instance).Plan;
        Assert.True(plan.Tiles.Count > 2, plan.ToString());
        Assert.Equal(plan.Tiles.Count, stats.TilesComputed);
        Assert.Equal(2, stats.Workers);
        Assert.Equal(File.ReadAllBytes(P("local.npy")), File.ReadAllBytes(P("remote.npy")));
        Assert.False(File.Exists(P("remote.npy.tiles.json")));
        Assert.False(File.Exists(P("remote.npy.partial")));

        // And the tiled kernel is the untiled one (float64: same contractions on smaller batches, 1e-12 relative).
        var fn = NeuralTangents.Empirical.KernelFn(NetSpec.Parse(Net).Apply, trace, diag, 0,
            impl == NtkImplementation.Auto ? NtkImplementation.JacobianContraction : impl);
        var whole = fn(x1, x2, [kind], req.Parameters).Items[0].Value;
        var actual = NeuralTangents.Interop.Npy.Read(P("remote.npy"));
        Assert.Equal(whole.Shape, actual.Shape);
        var expected = whole.ToDoubleArray();
        var a = actual.ToDoubleArray();
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - expected[i]) <= 1e-12 * scale, $"entry {i}: {a[i]} vs {expected[i]}");
    }

    [Fact]
    public async Task Each_worker_receives_parameters_and_each_block_at_most_once()
    {
        var x1 = Tensor.RandomNormal(new Random(3), new Shape(24, 6));
        var req = Request(x1, null, 4); // 6 blocks, 21 tiles
        var job = new PreparedJob(req, NetSpecResolver.Instance);
        var stats = await ClusterKernel.RunAsync(_cluster.Client, req, NetSpecResolver.Instance, P("k.npy"));
        long blobs = job.AllBlobBytes;
        // Upper bound: every blob to each of the 2 workers once, plus per-call overheads (hashes) per tile.
        Assert.True(stats.BytesSent <= 2 * blobs + stats.TilesComputed * 400 + 2 * 8 * 64,
            $"sent {stats.BytesSent} bytes, blobs are {blobs} bytes");
        Assert.True(stats.BytesSent >= blobs, "every blob reached some worker");
    }

    [Fact]
    public async Task Worker_hosts_on_loopback_compute_the_same_file_and_refuse_a_wrong_cluster_id()
    {
        await using var workers = await RealWorkers.StartAsync(2, "nt-real");
        using (var host = await ClusterHosting.ConnectAsync(new ClusterAddress(workers.Gateways, null, "nt-real", null)))
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            var x1 = Tensor.RandomNormal(new Random(4), new Shape(9, 6));
            var req = Request(x1, null, 4);
            Local(req, P("l.npy"));
            var stats = await ClusterKernel.RunAsync(client, req, NetSpecResolver.Instance, P("r.npy"));
            Assert.Equal(2, stats.Workers);
            Assert.Equal(File.ReadAllBytes(P("l.npy")), File.ReadAllBytes(P("r.npy")));
            await host.StopAsync();
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ClusterConnectionException>(() =>
            ClusterHosting.ConnectAsync(new ClusterAddress([workers.Gateways[0]], null, "someone-else", null)));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("refused this client", e.Message);
        Assert.Contains("'someone-else'", e.Message);

        var closed = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, RealWorkers.FreePort());
        var e2 = await Assert.ThrowsAsync<ClusterConnectionException>(() =>
            ClusterHosting.ConnectAsync(new ClusterAddress([closed], null, "nt-real", null)));
        Assert.Contains("no worker gateway is listening", e2.Message);
    }

    [Fact]
    public async Task A_local_run_interrupted_midway_is_finished_by_the_cluster_with_the_same_bytes()
    {
        var x1 = Tensor.RandomNormal(new Random(10), new Shape(20, 6));
        var req = Request(x1, null, 4); // 15 tiles
        Local(req, P("whole.npy"));

        using var cts = new CancellationTokenSource();
        var stop = new SyncProgress(p => { if (p.TilesDone >= 4) cts.Cancel(); });
        var interrupted = Request(x1, null, 4, cancel: cts.Token, progress: stop);
        Assert.ThrowsAny<OperationCanceledException>(() => Local(interrupted, P("k.npy")));
        Assert.True(File.Exists(P("k.npy.tiles.json")));

        var stats = await ClusterKernel.RunAsync(_cluster.Client, req, NetSpecResolver.Instance, P("k.npy"), resume: true);
        Assert.Equal(4, stats.TilesResumed);
        Assert.Equal(11, stats.TilesComputed);
        Assert.Equal(File.ReadAllBytes(P("whole.npy")), File.ReadAllBytes(P("k.npy")));
    }

    [Fact]
    public async Task A_manifest_of_another_kernel_is_refused_before_any_tile()
    {
        var x1 = Tensor.RandomNormal(new Random(11), new Shape(12, 6));
        using var cts = new CancellationTokenSource();
        var stop = new SyncProgress(p => { if (p.TilesDone >= 2) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Local(Request(x1, null, 4, cancel: cts.Token, progress: stop), P("k.npy")));
        var other = Request(x1, null, 3); // another tile size: another kernel file
        var e = await Assert.ThrowsAsync<InvalidDataException>(() =>
            ClusterKernel.RunAsync(_cluster.Client, other, NetSpecResolver.Instance, P("k.npy"), resume: true));
        Assert.Contains("different kernel", e.Message);
    }

    /// <summary>IProgress that runs on the reporting thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    internal sealed class SyncProgress(Action<KernelProgress> a) : IProgress<KernelProgress>
    {
        public void Report(KernelProgress value) => a(value);
    }
}
