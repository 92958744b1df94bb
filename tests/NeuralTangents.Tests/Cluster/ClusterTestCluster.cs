using Microsoft.Extensions.DependencyInjection;
using NeuralTangents.Cli;
using NeuralTangents.Cluster.Grains;
using NeuralTangents.Cluster.Hosting;
using NeuralTangents.Cluster.Worker;
using Microsoft.Extensions.Hosting;
using Orleans.TestingHost;

namespace NeuralTangents.Tests.Cluster;

/// <summary>An in-process Orleans cluster of tile workers (real sockets on loopback), for the cluster tests.</summary>
internal static class ClusterTestCluster
{
    public const string ClusterId = "nt-test";

    public static Task<InProcessTestCluster> StartAsync(short silos, Func<TileWork, Task>? beforeTile = null) =>
        StartAsync(silos, beforeTile is null ? null : (_, w) => beforeTile(w));

    /// <summary>A cluster whose tile hook also gets the silo's name (Silo_1, Silo_2, …; Silo_0 is the primary).</summary>
    public static async Task<InProcessTestCluster> StartAsync(short silos, Func<string, TileWork, Task>? beforeTile)
    {
        var b = new InProcessTestClusterBuilder(silos);
        b.Options.ClusterId = ClusterId;
        b.Options.ServiceId = ClusterAddress.ServiceId;
        b.ConfigureSilo((o, silo) => silo.AddTileWorker(NetSpecResolver.Instance, new WorkerOptions
        {
            Threads = 1,
            BeforeTile = beforeTile is null ? null : w => beforeTile(o.SiloName, w),
        }));
        b.ConfigureClient(c => c.ConfigureTileClient());
        var cluster = b.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}

/// <summary>Worker silos hosted as <c>nt worker</c> hosts them (real sockets on loopback, development clustering),
/// for what the in-memory test transport cannot show: gateways, cluster ids, TLS, Redis.</summary>
internal sealed class RealWorkers : IAsyncDisposable
{
    public List<Microsoft.Extensions.Hosting.IHost> Hosts { get; } = new();
    public List<System.Net.IPEndPoint> Gateways { get; } = new();

    public static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public static async Task<RealWorkers> StartAsync(int n, string clusterId, TlsFiles? tls = null, string? redis = null)
    {
        var w = new RealWorkers();
        System.Net.IPEndPoint? primary = null;
        for (int i = 0; i < n; i++)
        {
            int silo = FreePort(), gateway = FreePort();
            var s = new WorkerSettings
            {
                SiloPort = silo, GatewayPort = gateway, ClusterId = clusterId, Threads = 1, Tls = tls, Redis = redis,
                Primary = redis is null ? primary : null,
            };
            var host = ClusterHosting.BuildWorker(s, NetSpecResolver.Instance, _ => { });
            await host.StartAsync();
            w.Hosts.Add(host);
            w.Gateways.Add(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, gateway));
            primary ??= new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, silo);
        }
        // Tests assert how many workers took part: wait until every silo is an active member, so that a loaded machine
        // cannot finish a small job before the last silo has joined.
        var management = w.Hosts[0].Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await management.GetHosts(onlyActive: true)).Count < n)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"only some of the {n} worker silos joined within 60 s");
            await Task.Delay(100);
        }
        return w;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var h in Enumerable.Reverse(Hosts))
        {
            try { await h.StopAsync(TimeSpan.FromSeconds(10)); } catch (Exception) { /* best effort */ }
            h.Dispose();
        }
    }
}
