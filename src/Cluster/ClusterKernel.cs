using NeuralTangents.Cluster.Tiles;

namespace NeuralTangents.Cluster;

/// <summary>
/// A tiled kernel computed by the workers of an Orleans cluster and written locally: the same tiles, the same .npy
/// bytes, the same manifest and resume as <see cref="LocalTiledKernel"/> with the same request.
/// </summary>
public static class ClusterKernel
{
    /// <summary>
    /// Computes <paramref name="request"/> on the workers reachable through <paramref name="client"/> into
    /// <paramref name="outputs"/> (one .npy per kernel of <see cref="KernelRequest.Get"/>). Each worker receives the job
    /// description, the parameters and each input block at most once (by content hash); at most
    /// <see cref="ClusterKernelOptions.InFlightPerWorker"/> tiles are outstanding per worker, so a slow worker takes fewer
    /// tiles; a worker that fails or stalls past its timeout is dropped and its tiles go to the others, and when the
    /// queue is empty idle workers duplicate the oldest outstanding tile (the first copy back wins).
    /// </summary>
    /// <exception cref="ArgumentException">Invalid request (before any work).</exception>
    /// <exception cref="ClusterJobException">Every worker was lost or a tile failed <see cref="ClusterKernelOptions.MaxAttempts"/>
    /// times; the manifest allows <paramref name="resume"/>.</exception>
    public static async Task<ClusterRunStats> RunAsync(IClusterClient client, KernelRequest request, INetResolver resolver,
        IReadOnlyList<string> outputs, bool resume = false, IProgress<TileProgress>? progress = null,
        ClusterKernelOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var job = new PreparedJob(request, resolver);
        using var output = new TiledOutput(job, outputs, resume, progress);
        var stats = await new ClusterRun(client, job, output, options ?? new ClusterKernelOptions()).RunAsync(cancellationToken);
        output.Complete();
        return stats;
    }
}
