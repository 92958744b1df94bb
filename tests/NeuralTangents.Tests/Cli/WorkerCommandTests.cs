using static NeuralTangents.Tests.Cli.CliRunner;
using NeuralTangents.Cli;
using NeuralTangents.Interop;

namespace NeuralTangents.Tests.Cli;

/// <summary>Bad <c>nt worker</c> / <c>nt kernel --cluster</c> options: one line naming the option, exit 2, before any work.</summary>
public sealed class WorkerCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-worker-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);


    [Theory]
    [InlineData("--silo-port|0", "--silo-port: expected a port in 1..65535, got 0")]
    [InlineData("--gateway-port|11111", "--silo-port and --gateway-port must differ")]
    [InlineData("--primary|nohost|--redis|localhost:6379", "at most one of --primary")]
    [InlineData("--primary|127.0.0.1", "--primary: expected HOST:PORT")]
    [InlineData("--listen|everywhere", "--listen: expected an IP address")]
    [InlineData("--threads|-1", "--threads: expected >= 0")]
    [InlineData("--tls-cert|a.pem", "TLS needs all three")]
    public void Bad_worker_options_are_one_line(string args, string expected)
    {
        var (code, _, err) = Run(["worker", .. args.Split('|')]);
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("--cluster|nowhere", "--cluster: expected HOST:PORT")]
    [InlineData("--cluster|redis:", "--cluster: expected redis:CONNECTION")]
    [InlineData("--tls-cert|a|--tls-key|b|--tls-ca|c", "need --cluster")]
    [InlineData("--cluster|127.0.0.1:1|--tls-cert|a|--tls-key|b|--tls-ca|c", "--tls-cert: file 'a' does not exist")]
    public void Bad_cluster_options_are_refused_before_reading_data(string args, string expected)
    {
        var (code, _, err) = Run(["kernel", "--net", "Dense(3)", "--seed", "0", "--x1", Path.Combine(_dir, "missing.npy"),
            "--out", Path.Combine(_dir, "k.npy"), .. args.Split('|')]);
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_dir, "k.npy")));
    }

    [Fact]
    public void An_unreachable_cluster_is_refused_within_seconds_and_nothing_is_written()
    {
        var x = Path.Combine(_dir, "x.npy");
        Npy.Write(x, Tensor.RandomNormal(new Random(1), new Shape(6, 3)));
        int port;
        { var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0); l.Start(); port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port; l.Stop(); }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (code, output, err) = Run("kernel", "--net", "Dense(3)", "--seed", "0", "--x1", x, "--batch-size", "2",
            "--out", Path.Combine(_dir, "k.npy"), "--cluster", $"127.0.0.1:{port}");
        Assert.Equal(2, code);
        Assert.Contains("NTK implementation: auto → ", output); // planned (AUTO resolved) before connecting, worded as a local run
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");
        Assert.Contains("no worker gateway is listening", err);
        Assert.False(File.Exists(Path.Combine(_dir, "k.npy")));
    }
}
