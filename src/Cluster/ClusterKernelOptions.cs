namespace NeuralTangents.Cluster;

/// <summary>Scheduling of a cluster job: in-flight tiles per worker, per-tile timeouts, retries.</summary>
public sealed class ClusterKernelOptions
{
    /// <summary>Tiles sent to one worker before it answers (one computing, the next already delivered). Default 2.</summary>
    public int InFlightPerWorker { get; set; } = 2;

    /// <summary>Timeout of a tile before any tile of the job has finished (covers the first trace and compile). Default 10 min.</summary>
    public TimeSpan FirstTileTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Later tiles time out after <see cref="TimeoutFactor"/> × the slowest finished tile, but never sooner than this. Default 60 s.</summary>
    public TimeSpan MinTileTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>See <see cref="MinTileTimeout"/>. Default 10.</summary>
    public double TimeoutFactor { get; set; } = 10;

    /// <summary>Attempts of one tile (each on a worker that then counts as lost) before the job fails. Default 4.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>How often the client looks for workers that joined or left. Default 2 s.</summary>
    public TimeSpan MembershipRefresh { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Receives one line per event worth a log (a worker lost, a tile retried); null for none.</summary>
    public Action<string>? Log { get; set; }
}

/// <summary>What a cluster run did: tiles computed, workers used and lost, bytes sent and received, and the seconds
/// the workers spent computing the tiles that were used (<see cref="WorkerSeconds"/>).</summary>
public sealed record ClusterRunStats(int TilesComputed, int TilesResumed, int Workers, int WorkersLost, int Retries,
    long BytesSent, long BytesReceived, TimeSpan Elapsed, double WorkerSeconds)
{
    /// <summary>Bytes sent to workers per computed tile (blobs and tile requests, payload only).</summary>
    public double BytesSentPerTile => TilesComputed == 0 ? 0 : (double)BytesSent / TilesComputed;
    /// <summary>Bytes of tile results received per computed tile.</summary>
    public double BytesReceivedPerTile => TilesComputed == 0 ? 0 : (double)BytesReceived / TilesComputed;
}

/// <summary>A cluster job could not finish (every worker lost, or a tile failed on too many workers); the manifest
/// next to the output records the finished tiles, so the same command with <c>--resume</c> continues.</summary>
public sealed class ClusterJobException(string message, Exception? inner = null) : IOException(message, inner);
