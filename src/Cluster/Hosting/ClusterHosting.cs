using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NeuralTangents.Cluster.Grains;
using NeuralTangents.Cluster.Tiles;
using NeuralTangents.Cluster.Worker;
using Orleans.Configuration;
using Orleans.Hosting;

namespace NeuralTangents.Cluster.Hosting;

/// <summary>Builds worker silos and cluster clients (Orleans hosts) for tiled kernels.</summary>
public static class ClusterHosting
{
    // Tiles and input blocks of CIFAR-sized jobs exceed Orleans' 100 MB default only at absurd batch sizes; allow 1 GiB.
    private const int MaxMessageBytes = 1 << 30;
    private const int ConnectAttempts = 3;

    /// <summary>Adds the tile worker (grain, engine, placement) to a silo; used by <c>nt worker</c> and by tests.</summary>
    public static ISiloBuilder AddTileWorker(this ISiloBuilder silo, INetResolver resolver, WorkerOptions options)
    {
        silo.Services.AddSingleton(resolver);
        silo.Services.AddSingleton(options);
        silo.Services.AddSingleton<WorkerEngine>();
        silo.Services.AddPlacementDirector<SiloTargetedPlacement, SiloTargetedPlacementDirector>();
        silo.Configure<SiloMessagingOptions>(o => o.MaxMessageBodySize = MaxMessageBytes);
        return silo;
    }

    /// <summary>Client settings every tiled-kernel client needs: the scheduler keeps its own per-tile timeouts.</summary>
    public static IClientBuilder ConfigureTileClient(this IClientBuilder client)
    {
        client.Configure<ClientMessagingOptions>(o =>
        {
            o.ResponseTimeout = TimeSpan.FromDays(1);
            o.MaxMessageBodySize = MaxMessageBytes;
        });
        return client;
    }

    /// <summary>The host of an <c>nt worker</c> silo (not started). Orleans' own logging is limited to errors.</summary>
    public static IHost BuildWorker(WorkerSettings s, INetResolver resolver, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(s);
        var tls = s.Tls?.Load();
        var b = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        b.Logging.ClearProviders();
        b.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Error);
        b.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        b.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => { o.ClusterId = s.ClusterId; o.ServiceId = ClusterAddress.ServiceId; });
            bool any = s.Listen.Equals(IPAddress.Any);
            var advertised = any ? FirstNonLoopback() : s.Listen;
            silo.ConfigureEndpoints(advertised, s.SiloPort, s.GatewayPort, listenOnAnyHostAddress: any);
            if (s.Redis is { } redis) silo.UseRedisClustering(redis);
            else silo.UseDevelopmentClustering(s.Primary ?? new IPEndPoint(advertised, s.SiloPort));
            if (tls is var (cert, ca)) silo.UseTls(o => s.Tls!.Apply(o, cert, ca));
            silo.AddTileWorker(resolver, new WorkerOptions { Threads = s.Threads, Log = log });
        });
        return b.Build();
    }

    /// <summary>Connects a client to the cluster at <paramref name="address"/>; the returned host is started.</summary>
    /// <exception cref="ClusterConnectionException">No gateway accepted the connection (unreachable, wrong cluster id, TLS refused).</exception>
    public static async Task<IHost> ConnectAsync(ClusterAddress address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        var tls = address.Tls?.Load();
        int attempts = 0;
        var b = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        b.Logging.ClearProviders();
        b.UseOrleansClient(c =>
        {
            c.Configure<ClusterOptions>(o => { o.ClusterId = address.ClusterId; o.ServiceId = ClusterAddress.ServiceId; });
            if (address.Redis is { } redis) c.UseRedisClustering(redis);
            else c.UseStaticClustering(address.Gateways.ToArray());
            if (tls is var (cert, ca)) c.UseTls(o => address.Tls!.Apply(o, cert, ca));
            c.ConfigureTileClient();
            // Fail fast: a wrong cluster id, a TLS refusal or a dead address does not heal by retrying forever.
            c.UseConnectionRetryFilter(async (e, ct) =>
            {
                if (Interlocked.Increment(ref attempts) >= ConnectAttempts) return false;
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                return true;
            });
        });
        var host = b.Build();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await host.StartAsync(timeout.Token);
            return host;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            throw new ClusterConnectionException(Describe(address, e), e);
        }
    }

    private static string Describe(ClusterAddress a, Exception e)
    {
        var where = a.Redis is { } r ? $"redis:{r}" : string.Join(",", a.Gateways);
        if (a.Redis is null)
        {
            // Tell "nothing listens there" from "a gateway listens but refused us" (cluster id or TLS).
            var open = a.Gateways.Where(TcpAccepts).ToArray();
            return open.Length == 0
                ? $"--cluster {where}: no worker gateway is listening there"
                : $"--cluster {where}: the gateway at {open[0]} refused this client: its cluster id is not '{a.ClusterId}' (--cluster-id) or its TLS settings differ";
        }
        var inner = e;
        while (inner.InnerException is { } i) inner = i;
        return $"--cluster {where}: could not connect to cluster '{a.ClusterId}' ({inner.Message.Split('\n')[0].Trim()}); check --cluster-id and the TLS files";
    }

    /// <summary>Whether something accepts TCP connections at <paramref name="ep"/>: three tries of up to 3 s each (one
    /// 2 s try misread a busy but listening gateway as "nothing listens" under a loaded test run).</summary>
    private static bool TcpAccepts(IPEndPoint ep)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                using var s = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                if (s.ConnectAsync(ep).Wait(TimeSpan.FromSeconds(3))) return true;
            }
            catch (Exception) when (attempt < 2) { Thread.Sleep(200); }
            catch (Exception) { return false; }
        }
        return false;
    }

    private static IPAddress FirstNonLoopback()
    {
        var ips = Dns.GetHostAddresses(Dns.GetHostName());
        return ips.FirstOrDefault(ip => ip.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(ip)) ?? IPAddress.Loopback;
    }
}

/// <summary>A client could not join the cluster; the message is one line naming the address and the reason.</summary>
public sealed class ClusterConnectionException(string message, Exception inner) : IOException(message, inner);
