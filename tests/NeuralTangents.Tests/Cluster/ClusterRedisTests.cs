using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using NeuralTangents.Cli;
using NeuralTangents.Cluster;
using NeuralTangents.Cluster.Hosting;

namespace NeuralTangents.Tests.Cluster;

/// <summary>A fact that needs <c>redis-server</c> on PATH (<c>.ci/run</c> installs it); skipped with the reason otherwise.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public static string? RedisServer { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);

    public RedisFactAttribute()
    {
        if (RedisServer is null)
            Skip = "redis-server is not installed here (.ci/run installs the Debian package redis-server with apt-get; it could not on this machine)";
    }
}

/// <summary>Membership in a real Redis server on a loopback port: workers register there, the client finds them there.</summary>
public sealed class ClusterRedisTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-cluster-redis-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [RedisFact]
    public async Task Workers_with_redis_membership_compute_the_same_file()
    {
        int port = RealWorkers.FreePort();
        using var redis = Process.Start(new ProcessStartInfo(RedisFactAttribute.RedisServer!,
            $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no --dir {_dir}")
        { RedirectStandardOutput = true, RedirectStandardError = true })!;
        try
        {
            await WaitForPortAsync(port);
            var conn = $"127.0.0.1:{port}";
            await using var workers = await RealWorkers.StartAsync(2, "nt-redis", redis: conn);
            using var host = await ClusterHosting.ConnectAsync(ClusterAddress.Parse($"redis:{conn}", "nt-redis"));
            var x1 = Tensor.RandomNormal(new Random(9), new Shape(10, 6));
            var req = ClusterKernelTests.Request(x1, null, 4);
            ClusterKernelTests.Local(req, P("l.npy"));
            var stats = await ClusterKernel.RunAsync(host.Services.GetRequiredService<IClusterClient>(), req, NetSpecResolver.Instance, P("r.npy"));
            Assert.Equal(2, stats.Workers);
            Assert.Equal(File.ReadAllBytes(P("l.npy")), File.ReadAllBytes(P("r.npy")));
            await host.StopAsync();
        }
        finally
        {
            redis.Kill();
            await redis.WaitForExitAsync();
        }
    }

    private static async Task WaitForPortAsync(int port)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var c = new System.Net.Sockets.TcpClient();
                await c.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (sw.Elapsed < TimeSpan.FromSeconds(10)) { await Task.Delay(50); }
        }
    }
}
