namespace NeuralTangents.Cluster.Grains;

/// <summary>
/// The tile worker of one silo (grain key = the silo's address, see <see cref="SiloTargetedPlacementAttribute"/>).
/// Blobs (job description, parameters, input blocks) are delivered once per worker by content hash; tiles refer to them.
/// </summary>
public interface ITileWorkerGrain : IGrainWithStringKey
{
    /// <summary>The hashes among <paramref name="hashes"/> this worker does not hold.</summary>
    Task<string[]> MissingAsync(string[] hashes);

    /// <summary>Stores a blob; throws <see cref="ArgumentException"/> when <paramref name="data"/> does not hash to <paramref name="hash"/>.</summary>
    Task PutAsync(string hash, byte[] data);

    /// <summary>Computes one tile; replies with the missing hashes instead when a blob it needs is not held.</summary>
    Task<TileReply> ComputeAsync(TileWork work);
}

/// <summary>One tile of a job: the row block against the column block (null: the row block against itself, x2 = x1).</summary>
[GenerateSerializer, Immutable]
public sealed class TileWork
{
    /// <summary>SHA-256 of the job description blob.</summary>
    [Id(0)] public required string JobHash { get; init; }
    /// <summary>Hash of the x1 block.</summary>
    [Id(1)] public required string RowHash { get; init; }
    /// <summary>Hash of the x2 block, or null for the diagonal tile of a symmetric (x2 = x1) kernel.</summary>
    [Id(2)] public string? ColHash { get; init; }
    /// <summary>Tile coordinates, for logs.</summary>
    [Id(3)] public int Row { get; init; }
    /// <summary>Tile coordinates, for logs.</summary>
    [Id(4)] public int Col { get; init; }
}

/// <summary>A computed tile (one .npy-encoded tensor per kernel of the job), or the blobs the worker lacks.</summary>
[GenerateSerializer, Immutable]
public sealed class TileReply
{
    /// <summary>Hashes the worker needs first; empty when the tile was computed.</summary>
    [Id(0)] public string[] Missing { get; init; } = [];
    /// <summary>The tile's kernels, .npy-encoded, in the order of the job's kinds.</summary>
    [Id(1)] public byte[][] Kernels { get; init; } = [];
    /// <summary>Seconds the worker spent computing.</summary>
    [Id(2)] public double Seconds { get; init; }
}
