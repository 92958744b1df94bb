using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using NeuralTangents.Cluster.Hosting;

namespace NeuralTangents.Cli;

/// <summary><c>nt worker</c>: an Orleans silo that computes kernel tiles for <c>nt kernel --cluster</c>.</summary>
internal static class WorkerCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var siloPort = new Option<int>("--silo-port") { Description = "Silo-to-silo port.", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Port that clients (nt kernel --cluster) connect to.", DefaultValueFactory = _ => 30000 };
        var primary = new Option<string?>("--primary") { Description = "HOST:SILO_PORT of the development cluster's primary worker to join (default: this worker is the primary)." };
        var redis = new Option<string?>("--redis") { Description = "Redis connection string (e.g. localhost:6379) holding the cluster membership instead of a primary." };
        var clusterId = new Option<string>("--cluster-id") { Description = "Cluster id; clients and workers with another id are refused.", DefaultValueFactory = _ => ClusterAddress.DefaultClusterId };
        var threads = new Option<int>("--threads") { Description = "Threads for one tile (0: all processors).", DefaultValueFactory = _ => 0 };
        var listen = new Option<string>("--listen") { Description = "Address to bind and advertise (0.0.0.0: every interface).", DefaultValueFactory = _ => "127.0.0.1" };
        var (cert, key, ca) = TlsOptions();
        var cmd = new Command("worker", "Start a worker silo that computes kernel tiles for 'nt kernel --cluster'; Ctrl-C or SIGTERM stops it.")
        {
            siloPort, gatewayPort, primary, redis, clusterId, threads, listen, cert, key, ca,
        };
        cmd.SetAction(r =>
        {
            if (r.GetValue(primary) is not null && r.GetValue(redis) is not null)
                throw new ArgumentException("give at most one of --primary HOST:PORT and --redis CONNECTION");
            foreach (var (o, v) in new[] { ("--silo-port", r.GetValue(siloPort)), ("--gateway-port", r.GetValue(gatewayPort)) })
                if (v is < 1 or > 65535) throw new ArgumentException($"{o}: expected a port in 1..65535, got {v}");
            if (r.GetValue(siloPort) == r.GetValue(gatewayPort)) throw new ArgumentException($"--silo-port and --gateway-port must differ, both are {r.GetValue(siloPort)}");
            if (r.GetValue(threads) < 0) throw new ArgumentException($"--threads: expected >= 0, got {r.GetValue(threads)}");
            if (!IPAddress.TryParse(r.GetValue(listen), out var address))
                throw new ArgumentException($"--listen: expected an IP address such as 127.0.0.1 or 0.0.0.0, got '{r.GetValue(listen)}'");
            var settings = new WorkerSettings
            {
                SiloPort = r.GetValue(siloPort), GatewayPort = r.GetValue(gatewayPort),
                Primary = r.GetValue(primary) is { } p ? ClusterAddress.ParseEndPoint(p, "--primary") : null,
                Redis = r.GetValue(redis), ClusterId = r.GetValue(clusterId)!, Listen = address, Threads = r.GetValue(threads),
                Tls = Tls(r.GetValue(cert), r.GetValue(key), r.GetValue(ca)),
            };
            return Run(settings, stdout, stderr);
        });
        return cmd;
    }

    /// <summary>The three TLS options shared by <c>nt worker</c> and <c>nt kernel --cluster</c>.</summary>
    internal static (Option<string?> Cert, Option<string?> Key, Option<string?> Ca) TlsOptions() => (
        new Option<string?>("--tls-cert") { Description = "PEM certificate of this node (mutual TLS; with --tls-key and --tls-ca)." },
        new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert." },
        new Option<string?>("--tls-ca") { Description = "PEM certificate of the CA every peer's certificate must chain to." });

    internal static TlsFiles? Tls(string? cert, string? key, string? ca)
    {
        int given = new[] { cert, key, ca }.Count(s => s is not null);
        if (given == 0) return null;
        if (given < 3) throw new ArgumentException("TLS needs all three of --tls-cert, --tls-key and --tls-ca");
        return new TlsFiles(cert!, key!, ca!);
    }

    private static int Run(WorkerSettings s, TextWriter stdout, TextWriter stderr)
    {
        object logLock = new();
        using var host = ClusterHosting.BuildWorker(s, NetSpecResolver.Instance, line => { lock (logLock) stdout.WriteLine(line); });
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext c) { c.Cancel = true; stop.TrySetResult(); }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try { host.StartAsync().GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not ArgumentException)
        {
            throw new IOException($"worker could not start on {s.Listen}:{s.SiloPort}/{s.GatewayPort}: {Innermost(e)}", e);
        }
        var membership = s.Redis is { } r ? $"redis {r}" : s.Primary is { } p ? $"joined primary {p}" : "primary of a development cluster";
        stdout.WriteLine($"nt worker: silo {s.Listen}:{s.SiloPort}, gateway {s.Listen}:{s.GatewayPort}, cluster '{s.ClusterId}' ({membership}), " +
            $"{(s.Threads > 0 ? s.Threads : Environment.ProcessorCount)} threads{(s.Tls is null ? "" : ", mutual TLS")}; Ctrl-C stops");
        stdout.Flush();
        stop.Task.GetAwaiter().GetResult();
        stdout.WriteLine("nt worker: stopping");
        host.StopAsync().GetAwaiter().GetResult();
        stdout.WriteLine("nt worker: stopped");
        return CliApp.Ok;
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is { } i) e = i;
        return e.Message.Split('\n')[0].Trim();
    }
}
