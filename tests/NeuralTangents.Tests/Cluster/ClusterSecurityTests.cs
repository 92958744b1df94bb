using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using NeuralTangents.Cli;
using NeuralTangents.Cluster;
using NeuralTangents.Cluster.Hosting;

namespace NeuralTangents.Tests.Cluster;

/// <summary>Mutual TLS with certificates made here: a CA, worker and client certificates it signs, and an outsider CA.</summary>
public sealed class ClusterSecurityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-cluster-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static X509Certificate2 MakeCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
    }

    /// <summary>Writes NAME.crt and NAME.key (PEM) of a certificate signed by <paramref name="ca"/>, and returns the TLS files with CA file <paramref name="caFile"/>.</summary>
    private TlsFiles Issue(X509Certificate2 ca, string caFile, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server and client authentication
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        req.CertificateExtensions.Add(san.Build());
        var serial = RandomNumberGenerator.GetBytes(8);
        using var cert = req.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), serial);
        File.WriteAllText(P(name + ".crt"), cert.ExportCertificatePem());
        File.WriteAllText(P(name + ".key"), key.ExportPkcs8PrivateKeyPem());
        return new TlsFiles(P(name + ".crt"), P(name + ".key"), caFile);
    }

    [Fact]
    public async Task Mutual_tls_admits_certified_clients_and_refuses_the_others_with_one_line()
    {
        using var ca = MakeCa("nt-test-ca");
        using var outsider = MakeCa("someone-elses-ca");
        File.WriteAllText(P("ca.crt"), ca.ExportCertificatePem());
        File.WriteAllText(P("outsider.crt"), outsider.ExportCertificatePem());
        var workerTls = Issue(ca, P("ca.crt"), "worker");
        var clientTls = Issue(ca, P("ca.crt"), "client");
        var strangerTls = Issue(outsider, P("outsider.crt"), "stranger");

        await using var workers = await RealWorkers.StartAsync(2, "nt-tls", workerTls);

        // A client with a certificate from the cluster's CA computes the same file as the local run.
        using (var host = await ClusterHosting.ConnectAsync(new ClusterAddress(workers.Gateways, null, "nt-tls", clientTls)))
        {
            var x1 = Tensor.RandomNormal(new Random(8), new Shape(9, 6));
            var req = ClusterKernelTests.Request(x1, null, 4);
            ClusterKernelTests.Local(req, P("l.npy"));
            var stats = await ClusterKernel.RunAsync(host.Services.GetRequiredService<IClusterClient>(), req, NetSpecResolver.Instance, P("r.npy"));
            Assert.Equal(2, stats.Workers);
            Assert.Equal(File.ReadAllBytes(P("l.npy")), File.ReadAllBytes(P("r.npy")));
            await host.StopAsync();
        }

        // No certificate (plain TCP), or one from another CA: refused within seconds, one line.
        foreach (var tls in new[] { null, strangerTls })
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<ClusterConnectionException>(() =>
                ClusterHosting.ConnectAsync(new ClusterAddress([workers.Gateways[0]], null, "nt-tls", tls)));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"took {sw.Elapsed}");
            Assert.DoesNotContain('\n', e.Message);
            Assert.Contains("refused this client", e.Message);
        }
    }

    [Fact]
    public void Missing_or_broken_tls_files_are_refused_before_any_work()
    {
        var e = Assert.Throws<ArgumentException>(() => new TlsFiles(P("none.crt"), P("none.key"), P("none.ca")).Load());
        Assert.Contains("--tls-cert", e.Message);
        File.WriteAllText(P("bad.crt"), "not a certificate");
        File.WriteAllText(P("bad.key"), "not a key");
        var e2 = Assert.Throws<ArgumentException>(() => new TlsFiles(P("bad.crt"), P("bad.key"), P("bad.crt")).Load());
        Assert.Contains("cannot load", e2.Message);
    }
}
