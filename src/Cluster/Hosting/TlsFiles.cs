using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace NeuralTangents.Cluster.Hosting;

/// <summary>
/// Mutual TLS from PEM files: this node's certificate and private key, and the CA that every peer's certificate must
/// chain to. Workers require a certificate from every silo and client; clients require one from the gateway.
/// </summary>
/// <param name="CertPath">PEM certificate of this node.</param>
/// <param name="KeyPath">PEM private key of <paramref name="CertPath"/>.</param>
/// <param name="CaPath">PEM certificate of the trusted CA.</param>
public sealed record TlsFiles(string CertPath, string KeyPath, string CaPath)
{
    /// <summary>Loads the files, failing with one clear line naming the option and the file.</summary>
    /// <exception cref="ArgumentException">A file is missing or not valid PEM.</exception>
    internal (X509Certificate2 Cert, X509Certificate2 Ca) Load()
    {
        foreach (var (opt, p) in new[] { ("--tls-cert", CertPath), ("--tls-key", KeyPath), ("--tls-ca", CaPath) })
            if (!File.Exists(p)) throw new ArgumentException($"{opt}: file '{p}' does not exist");
        try
        {
            var pem = X509Certificate2.CreateFromPemFile(CertPath, KeyPath);
            // SslStream on Linux wants a certificate whose key is not ephemeral: round-trip through PKCS#12.
            var cert = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            var ca = X509CertificateLoader.LoadCertificateFromFile(CaPath);
            return (cert, ca);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new ArgumentException($"--tls-cert/--tls-key/--tls-ca: cannot load the certificate, key or CA: {e.Message}");
        }
    }

    /// <summary>Configures Orleans' TLS options: our certificate, a required peer certificate, validated against the CA.</summary>
    internal void Apply(TlsOptions o, X509Certificate2 cert, X509Certificate2 ca)
    {
        o.LocalCertificate = cert;
        o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        o.RemoteCertificateValidation = (remote, _, errors) => ChainsTo(remote, ca, errors);
    }

    /// <summary>True when <paramref name="remote"/> chains to <paramref name="ca"/> (host names are not checked:
    /// cluster nodes are identified by their certificate, not by the address they happen to have).</summary>
    internal static bool ChainsTo(X509Certificate2? remote, X509Certificate2 ca, SslPolicyErrors errors)
    {
        if (remote is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(remote);
    }
}
