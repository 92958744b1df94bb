using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using NeuralTangents.Cluster;
using NeuralTangents.Cluster.Hosting;
using NeuralTangents.Cluster.Tiles;

namespace NeuralTangents.Cli;

/// <summary><c>nt kernel … --cluster</c>: the tiled kernel computed by <c>nt worker</c> silos, written here.</summary>
internal static class ClusterKernelRun
{
    /// <summary>The cluster options, checked before any data is read (null without --cluster).</summary>
    public static ClusterAddress? Read(string? cluster, string clusterId, string? cert, string? key, string? ca)
    {
        var tls = WorkerCommand.Tls(cert, key, ca);
        if (cluster is null)
            return tls is null ? null : throw new ArgumentException("--tls-cert/--tls-key/--tls-ca need --cluster");
        var address = ClusterAddress.Parse(cluster, clusterId, tls);
        tls?.Load();
        return address;
    }

    public static int Run(ClusterAddress address, KernelRequest request, string outPath, bool resume, CancellationTokenSource cts,
        ProgressLine progress, TextWriter stdout, TextWriter stderr)
    {
        var job = request.Plan(NetSpecResolver.Instance); // validates and plans (memory refusal) before connecting
        if (request.Get.Contains(KernelKind.Ntk))
            stdout.WriteLine($"NTK implementation: {(request.Implementation == NtkImplementation.Auto ? "auto → " : "")}{CliParsing.ImplementationName(job.Implementation)}");
        var where = address.Redis is { } r ? $"redis:{r}" : string.Join(",", address.Gateways);
        stderr.WriteLine($"computing {request.Get[0].ToString().ToUpperInvariant()} for x1 {request.X1.Shape}{(request.X2 is null ? "" : $", x2 {request.X2.Shape}")} " +
            $"({request.Parameters.ParameterCount} params, {CliParsing.Name(job.DType)}, {job.Plan}) on cluster '{address.ClusterId}' at {where}…");
        var sw = Stopwatch.StartNew();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            using var host = ClusterHosting.ConnectAsync(address, cts.Token).GetAwaiter().GetResult();
            var client = host.Services.GetRequiredService<IClusterClient>();
            var options = new ClusterKernelOptions { Log = line => { progress.Finish(); stderr.WriteLine(line); } };
            var stats = ClusterKernel.RunAsync(client, request, NetSpecResolver.Instance, outPath, resume, options).GetAwaiter().GetResult();
            progress.Finish();
            stderr.WriteLine($"done in {CliParsing.Seconds(sw.Elapsed)}: {stats.TilesComputed} tiles on {stats.Workers} worker{(stats.Workers == 1 ? "" : "s")} ({stats.WorkersLost} lost, " +
                $"{stats.Retries} tiles retried), {stats.BytesSentPerTile / 1e3:0.#} kB sent and {stats.BytesReceivedPerTile / 1e3:0.#} kB received per tile, " +
                $"{stats.WorkerSeconds:0.0} s of worker compute");
            stdout.WriteLine($"{request.Get[0].ToString().ToLowerInvariant()}: shape {job.Shapes[0]} {CliParsing.Name(job.DType)} -> {outPath}");
            host.StopAsync().GetAwaiter().GetResult();
            return CliApp.Ok;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            progress.Finish();
            stderr.WriteLine($"nt: interrupted after {progress.Done} of {job.Plan.Tiles.Count} tiles; the partial kernel is in {outPath}.partial " +
                $"(manifest {outPath}.tiles.json): rerun with --resume to continue");
            return CliApp.Interrupted;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
