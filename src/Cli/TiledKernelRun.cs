using System.Diagnostics;
using System.Runtime.InteropServices;
using NeuralTangents.Cluster;
using NeuralTangents.Cluster.Hosting;
using NeuralTangents.Cluster.Tiles;
using Microsoft.Extensions.DependencyInjection;

namespace NeuralTangents.Cli;

/// <summary><c>nt kernel --batch-size B [--resume] [--cluster …]</c>: the tiled kernel, locally or on a cluster, into a .npy.</summary>
internal static class TiledKernelRun
{
    public const int Interrupted = 130;

    internal sealed record Options(int? BatchSize, bool Resume, string? Cluster, string ClusterId, TlsFiles? Tls)
    {
        public bool Tiled => BatchSize is not null || Cluster is not null || Resume;

        /// <summary>Checks the tiled options before any data is read.</summary>
        public void Validate(int kernels, bool npz)
        {
            if (!Tiled)
            {
                if (Tls is not null) throw new ArgumentException("--tls-cert/--tls-key/--tls-ca need --cluster");
                return;
            }
            if (BatchSize is null) throw new ArgumentException($"{(Cluster is not null ? "--cluster" : "--resume")} needs --batch-size B (the tile size)");
            if (BatchSize < 1) throw new ArgumentException($"--batch-size: expected >= 1, got {BatchSize}");
            if (npz || kernels != 1) throw new ArgumentException("--batch-size: a tiled kernel is written to one .npy, so --get must name one kernel and --out must be .npy");
            if (Tls is not null && Cluster is null) throw new ArgumentException("--tls-cert/--tls-key/--tls-ca need --cluster");
            if (Cluster is not null) ClusterAddress.Parse(Cluster, ClusterId, Tls);
        }
    }

    public static int Run(Options o, KernelRequest request, string outPath, ComputeBackend backend, TextWriter stdout, TextWriter stderr)
    {
        using var cts = new CancellationTokenSource();
        void OnSignal(PosixSignalContext c) { c.Cancel = true; cts.Cancel(); }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        var progress = ProgressLine.For(stderr);
        var sw = Stopwatch.StartNew();
        var where = o.Cluster is null ? backend.Name : $"cluster {o.Cluster} ('{o.ClusterId}')";
        stderr.WriteLine($"computing {request.Get[0].ToString().ToUpperInvariant()} for x1 {request.X1.Shape}{(request.X2 is null ? "" : $", x2 {request.X2.Shape}")} " +
            $"in {request.BatchSize}-example tiles ({request.Parameters.ParameterCount} params, {CliParsing.Name(request.X1.DType)}, {where})…");
        try
        {
            if (o.Cluster is null)
            {
                using (ComputeBackend.Use(backend))
                    LocalTiledKernel.Run(request, NetSpecResolver.Instance, [outPath], o.Resume, progress, cts.Token);
            }
            else
            {
                var address = ClusterAddress.Parse(o.Cluster, o.ClusterId, o.Tls);
                using var host = ClusterHosting.ConnectAsync(address, cts.Token).GetAwaiter().GetResult();
                var client = host.Services.GetRequiredService<IClusterClient>();
                var options = new ClusterKernelOptions { Log = line => stderr.WriteLine(line) };
                var stats = ClusterKernel.RunAsync(client, request, NetSpecResolver.Instance, [outPath], o.Resume, progress, options, cts.Token)
                    .GetAwaiter().GetResult();
                stderr.WriteLine($"{stats.Workers} workers ({stats.WorkersLost} lost, {stats.Retries} tiles retried); " +
                    $"{stats.BytesSentPerTile / 1e3:0.#} kB sent and {stats.BytesReceivedPerTile / 1e3:0.#} kB received per tile; " +
                    $"workers computed for {stats.WorkerSeconds:0.0} s in all");
                host.StopAsync().GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            stderr.WriteLine($"\ninterrupted: finished tiles are recorded in {TiledNpyFile.ManifestPath(outPath)}; rerun the same command with --resume");
            return Interrupted;
        }
        stderr.WriteLine($"done in {CliParsing.Seconds(sw.Elapsed)}");
        stdout.WriteLine($"{request.Get[0].ToString().ToLowerInvariant()}: shape {ShapeOf(request, outPath)} {CliParsing.Name(request.X1.DType)} -> {outPath}");
        return CliApp.Ok;
    }

    private static string ShapeOf(KernelRequest r, string path)
    {
        using var fs = File.OpenRead(path);
        var buf = new byte[256];
        int n = fs.Read(buf);
        var header = System.Text.Encoding.ASCII.GetString(buf, 0, n);
        int a = header.IndexOf("'shape': (", StringComparison.Ordinal), b = a < 0 ? -1 : header.IndexOf(')', a);
        return a < 0 || b < 0 ? "?" : "(" + header[(a + 10)..b].TrimEnd(',') + ")";
    }
}
