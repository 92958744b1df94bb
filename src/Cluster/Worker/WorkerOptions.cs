using NeuralTangents.Cluster.Grains;

namespace NeuralTangents.Cluster.Worker;

/// <summary>How a worker silo computes: threads per tile, blob cache size, where its one line per job goes.</summary>
public sealed class WorkerOptions
{
    /// <summary>Threads the engine may use for one tile (≤ 0: all processors).</summary>
    public int Threads { get; set; }

    /// <summary>Bytes of blobs (inputs, parameters) kept between tiles; least recently used ones are dropped beyond it.</summary>
    public long BlobCapacityBytes { get; set; } = 2L << 30;

    /// <summary>Receives the worker's log lines (one when a job starts on it); null for none.</summary>
    public Action<string>? Log { get; set; }

    /// <summary>Test hook: awaited before each tile computes (e.g. to make tiles slow enough to stop a silo mid-job).</summary>
    internal Func<TileWork, Task>? BeforeTile { get; set; }
}
