using NeuralTangents.Tiles;

namespace NeuralTangents.Cluster.Tiles;

/// <summary>
/// The output side of <see cref="TiledKernel.WriteNpy"/> for tiles computed elsewhere: the same <c>PATH.partial</c>,
/// the same manifest <c>PATH.tiles.json</c> (same hash, so a cluster run and a local run can resume each other), the
/// same placement and mirroring of tiles, and the same rename onto <c>PATH</c> when complete. Not thread-safe.
/// </summary>
internal sealed class ResumableNpy : IDisposable
{
    private readonly TiledKernel _tiled;
    private readonly string _path, _partial, _manifestPath;
    private readonly TileManifest _manifest;
    private readonly NpyTileWriter _writer;

    public IReadOnlySet<int> Done { get; }

    public ResumableNpy(TiledKernel tiled, string path, bool resume, string kernelHash, string? functionKey = null)
    {
        _tiled = tiled;
        (_path, _partial, _manifestPath) = (path, path + ".partial", path + ".tiles.json");
        if (resume)
        {
            if (!File.Exists(_manifestPath)) throw new FileNotFoundException($"--resume: nothing to resume: {_manifestPath} does not exist", _manifestPath);
            if (!File.Exists(_partial)) throw new FileNotFoundException($"--resume: nothing to resume: {_partial} does not exist", _partial);
            _manifest = TileManifest.Load(_manifestPath);
            tiled.CheckManifest(_manifest, _manifestPath, kernelHash, functionKey);
            _writer = NpyTileWriter.Open(_partial, tiled.DType, tiled.Shapes[0]);
        }
        else
        {
            _writer = NpyTileWriter.Create(_partial, tiled.DType, tiled.Shapes[0]);
            _manifest = tiled.NewManifest(kernelHash, functionKey);
            _manifest.Save(_manifestPath);
        }
        Done = _manifest.Done.ToHashSet();
    }

    /// <summary>Writes tile <paramref name="t"/> (and its mirror on a symmetric plan), then records it as done.</summary>
    public void Write(Tile t, Tensor kernel)
    {
        _writer.Write(kernel, _tiled.Offsets(0, t, false));
        if (_tiled.Plan.Symmetric && !t.IsDiagonal) _writer.Write(_tiled.Mirror(0, kernel), _tiled.Offsets(0, t, true));
        _writer.Flush();
        _manifest.Done.Add(t.Index);
        _manifest.Save(_manifestPath);
    }

    /// <summary>Every tile is written: renames the file onto its path and removes the manifest.</summary>
    public void Complete()
    {
        _writer.Dispose();
        File.Move(_partial, _path, overwrite: true);
        File.Delete(_manifestPath);
    }

    public void Dispose() => _writer.Dispose();
}
