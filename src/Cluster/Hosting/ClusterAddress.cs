using System.Net;

namespace NeuralTangents.Cluster.Hosting;

/// <summary>
/// How a client finds the workers: a list of gateways (<c>HOST:PORT[,HOST:PORT…]</c>) or a Redis membership table
/// (<c>redis:CONNECTION</c>), plus the cluster id and optional mutual TLS.
/// </summary>
public sealed record ClusterAddress(IReadOnlyList<IPEndPoint> Gateways, string? Redis, string ClusterId, TlsFiles? Tls)
{
    /// <summary>Default cluster id of <c>nt worker</c> and <c>nt kernel --cluster</c>.</summary>
    public const string DefaultClusterId = "nt";

    /// <summary>Service id shared by every <c>nt</c> cluster (Orleans keeps it stable across deployments).</summary>
    public const string ServiceId = "neural-tangents";

    /// <summary>Parses <c>--cluster</c>: <c>redis:CONN</c> or comma-separated <c>HOST:PORT</c> gateways.</summary>
    /// <exception cref="ArgumentException">Not of either form; the message names <c>--cluster</c>.</exception>
    public static ClusterAddress Parse(string text, string? clusterId = null, TlsFiles? tls = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        clusterId ??= DefaultClusterId;
        if (text.StartsWith("redis:", StringComparison.OrdinalIgnoreCase))
        {
            var conn = text["redis:".Length..];
            if (conn.Length == 0) throw new ArgumentException("--cluster: expected redis:CONNECTION (e.g. redis:localhost:6379), got 'redis:'");
            return new ClusterAddress([], conn, clusterId, tls);
        }
        var eps = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => ParseEndPoint(s, "--cluster")).ToArray();
        if (eps.Length == 0) throw new ArgumentException($"--cluster: expected HOST:PORT[,HOST:PORT...] or redis:CONNECTION, got '{text}'");
        return new ClusterAddress(eps, null, clusterId, tls);
    }

    /// <summary>Parses <c>HOST:PORT</c> (a name is resolved to its first IPv4 address).</summary>
    public static IPEndPoint ParseEndPoint(string s, string option)
    {
        int colon = s.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(s[(colon + 1)..], out int port) || port is < 1 or > 65535)
            throw new ArgumentException($"{option}: expected HOST:PORT with a port in 1..65535, got '{s}'");
        var host = s[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var ip)) return new IPEndPoint(ip, port);
        try
        {
            var addrs = Dns.GetHostAddresses(host);
            var v4 = addrs.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addrs.FirstOrDefault();
            return v4 is null ? throw new ArgumentException($"{option}: host '{host}' has no address") : new IPEndPoint(v4, port);
        }
        catch (System.Net.Sockets.SocketException e) { throw new ArgumentException($"{option}: cannot resolve host '{host}': {e.Message}"); }
    }
}
