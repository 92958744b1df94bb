using NeuralTangents.Tiles;

namespace NeuralTangents.Cluster.Tiles;

/// <summary>
/// A <see cref="KernelRequest"/> planned on the client: the single-machine <see cref="TiledKernel"/> (plan, shapes,
/// AUTO resolved, manifest hash) and the content-hashed blobs workers need — the job description, the parameters and
/// each input block along the batch axis.
/// </summary>
internal sealed class PreparedJob
{
    public KernelRequest Request { get; }
    public TiledKernel Tiled { get; }
    public byte[] SpecBytes { get; }
    public string JobHash { get; }
    public byte[] ParamsBytes { get; }
    public string ParamsHash { get; }
    /// <summary>The kernel's identity in the resume manifest: the same hash a local <see cref="TiledKernel.WriteNpy"/> records.</summary>
    public string KernelHash { get; }
    private readonly Dictionary<int, (byte[] Bytes, string Hash)> _rows = new(), _cols = new();
    private readonly Dictionary<string, byte[]> _byHash = new(StringComparer.Ordinal);

    public PreparedJob(KernelRequest request, INetResolver resolver)
    {
        Request = request;
        Tiled = request.Plan(resolver);
        if (Tiled.Shapes.Count != 1)
            throw new ArgumentException($"a cluster job writes one kernel per .npy; {Tiled.Shapes.Count} were requested", nameof(request));
        ParamsBytes = Blobs.EncodeParams(request.Parameters);
        ParamsHash = Blobs.Hash(ParamsBytes);
        var spec = new JobSpec(request.NetSpec, request.Get.ToArray(), request.TraceAxes, request.DiagonalAxes, request.VmapAxis,
            Tiled.Implementation, Tiled.Plan.BlockSize, Tiled.MemoryBudget, ParamsHash);
        SpecBytes = spec.ToBytes();
        JobHash = Blobs.Hash(SpecBytes);
        KernelHash = Tiled.Hash(request.NetSpec);
        _byHash[JobHash] = SpecBytes;
        _byHash[ParamsHash] = ParamsBytes;
        int axis = request.VmapAxis ?? 0;
        foreach (var t in Tiled.Plan.Tiles)
        {
            if (!_rows.ContainsKey(t.Row)) _rows[t.Row] = Encode(request.X1, axis, t.Start1, t.Count1);
            if (request.X2 is { } x2 && !_cols.ContainsKey(t.Column)) _cols[t.Column] = Encode(x2, axis, t.Start2, t.Count2);
        }
    }

    private (byte[], string) Encode(Tensor x, int axis, int start, int count)
    {
        var lo = new int[x.Rank];
        var hi = x.Shape.ToArray();
        lo[axis] = start;
        hi[axis] = start + count;
        var bytes = Blobs.EncodeTensor(x.Slice(lo, hi));
        var hash = Blobs.Hash(bytes);
        _byHash[hash] = bytes;
        return (bytes, hash);
    }

    /// <summary>Hashes of a tile's blocks: x1 row block, and the x2 (or x1) column block — null for a diagonal tile of x2 = x1.</summary>
    public (string Row, string? Col) BlockHashes(Tile t) =>
        Request.X2 is not null ? (_rows[t.Row].Hash, _cols[t.Column].Hash)
        : (_rows[t.Row].Hash, t.IsDiagonal ? null : _rows[t.Column].Hash);

    /// <summary>Bytes of every blob a worker may need (job, parameters, all blocks).</summary>
    public long AllBlobBytes => _byHash.Values.Sum(b => (long)b.Length);

    /// <summary>The blob with content hash <paramref name="hash"/>, or null.</summary>
    public byte[]? Blob(string hash) => _byHash.GetValueOrDefault(hash);
}
