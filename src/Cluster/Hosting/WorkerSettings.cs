using System.Net;

namespace NeuralTangents.Cluster.Hosting;

/// <summary>Options of <c>nt worker</c>: ports, how to join (development primary or Redis), identity, threads, TLS.</summary>
public sealed record WorkerSettings
{
    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; init; } = 11111;
    /// <summary>Port clients connect to.</summary>
    public int GatewayPort { get; init; } = 30000;
    /// <summary>Silo endpoint of the development cluster's primary; null with no Redis: this worker is the primary.</summary>
    public IPEndPoint? Primary { get; init; }
    /// <summary>Redis connection string of the membership table, or null.</summary>
    public string? Redis { get; init; }
    /// <summary>Cluster id; clients and silos with another id are refused.</summary>
    public string ClusterId { get; init; } = ClusterAddress.DefaultClusterId;
    /// <summary>Address to listen on and advertise (default loopback); <see cref="IPAddress.Any"/> listens everywhere.</summary>
    public IPAddress Listen { get; init; } = IPAddress.Loopback;
    /// <summary>Threads for one tile (≤ 0: all processors).</summary>
    public int Threads { get; init; }
    /// <summary>Mutual TLS, or null for plain TCP.</summary>
    public TlsFiles? Tls { get; init; }
}
