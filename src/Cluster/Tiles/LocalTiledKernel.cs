namespace NeuralTangents.Cluster.Tiles;

/// <summary>
/// A tiled kernel computed in this process, tile after tile, straight into .npy files with a resume manifest — the
/// single-machine reference that a cluster run reproduces byte for byte.
/// </summary>
public static class LocalTiledKernel
{
    /// <summary>
    /// Computes <paramref name="request"/> tile by tile into <paramref name="outputs"/> (one .npy per kernel in
    /// <see cref="KernelRequest.Get"/>). With <paramref name="resume"/>, tiles recorded in an existing manifest
    /// (<c>PATH.tiles.json</c>) are skipped. Cancellation leaves the partial file and its manifest.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid request.</exception>
    /// <exception cref="InvalidDataException">A manifest to resume from belongs to a different kernel.</exception>
    public static void Run(KernelRequest request, INetResolver resolver, IReadOnlyList<string> outputs, bool resume = false,
        IProgress<TileProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var job = new PreparedJob(request, resolver);
        using var output = new TiledOutput(job, outputs, resume, progress);
        foreach (var t in output.Remaining)
        {
            cancellationToken.ThrowIfCancellationRequested();
            output.Write(t, job.ComputeLocal(t));
        }
        output.Complete();
    }
}
