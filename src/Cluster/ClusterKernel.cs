using NeuralTangents.Cluster.Tiles;
using NeuralTangents.Tiles;

namespace NeuralTangents.Cluster;

/// <summary>
/// A tiled kernel computed by the workers of an Orleans cluster and written locally: the same tiles, the same .npy
/// bytes, the same manifest and resume as <see cref="TiledKernel.WriteNpy"/> with the same request.
/// </summary>
public static class ClusterKernel
{
    /// <summary>
    /// Computes <paramref name="request"/> (one kernel) on the workers reachable through <paramref name="client"/> into the
    /// .npy <paramref name="output"/>, tile by tile as <see cref="TiledKernel.WriteNpy"/> does, with its manifest; progress
    /// and cancellation come from the request's <see cref="KernelOptions"/>. Each worker receives the job
    /// description, the parameters and each input block at most once (by content hash); at most
    /// <see cref="ClusterKernelOptions.InFlightPerWorker"/> tiles are outstanding per worker, so a slow worker takes fewer
    /// tiles; a worker that fails or stalls past its timeout is dropped and its tiles go to the others, and when the
    /// queue is empty idle workers duplicate the oldest outstanding tile (the first copy back wins).
    /// </summary>
    /// <exception cref="ArgumentException">Invalid request (before any work).</exception>
    /// <exception cref="ClusterJobException">Every worker was lost or a tile failed <see cref="ClusterKernelOptions.MaxAttempts"/>
    /// times; the manifest allows <paramref name="resume"/>.</exception>
    /// <exception cref="KernelMemoryException">Even one tile does not fit the memory budget (before any work).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the partial file and manifest stay.</exception>
    public static async Task<ClusterRunStats> RunAsync(IClusterClient client, KernelRequest request, INetResolver resolver,
        string output, bool resume = false, ClusterKernelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        var job = new PreparedJob(request, resolver);
        using var file = new ResumableNpy(job.Tiled, output, resume, job.KernelHash, request.NetSpec);
        var stats = await new ClusterRun(client, job, file, options ?? new ClusterKernelOptions()).RunAsync(request.Options.CancellationToken);
        file.Complete();
        return stats;
    }
}
