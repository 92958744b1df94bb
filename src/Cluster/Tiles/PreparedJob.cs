namespace NeuralTangents.Cluster.Tiles;

/// <summary>
/// A validated <see cref="KernelRequest"/> with everything both the local and the cluster run need: the tile plan, the
/// kernel's shape, the content-hashed blobs (job description, parameters, each input block) and the hash that
/// identifies the kernel in a resume manifest.
/// </summary>
internal sealed class PreparedJob
{
    public KernelRequest Request { get; }
    public byte[] SpecBytes { get; }
    public string JobHash { get; }
    public byte[] ParamsBytes { get; }
    public string ParamsHash { get; }
    public TileKernel Kernel { get; }
    public TilePlan Plan { get; }
    public Shape KernelShape { get; }
    public int[] Mirror { get; }
    public Tensor[] X1Blocks { get; }
    public Tensor[]? X2Blocks { get; }
    public byte[][] X1BlockBytes { get; }
    public byte[][]? X2BlockBytes { get; }
    public string[] X1Hashes { get; }
    public string[]? X2Hashes { get; }

    /// <summary>SHA-256 over everything that defines the kernel file (job, inputs, tile size).</summary>
    public string KernelHash { get; }

    public PreparedJob(KernelRequest request, INetResolver resolver)
    {
        request.Validate();
        Request = request;
        var dtype = request.X1.DType;
        var parameters = request.Parameters.AsType(dtype);
        ParamsBytes = Blobs.EncodeParams(parameters);
        ParamsHash = Blobs.Hash(ParamsBytes);
        var spec = new JobSpec(request.NetSpec, request.Get.ToArray(), request.TraceAxes, request.DiagonalAxes, request.VmapAxis,
            request.Implementation, dtype, ParamsHash);
        SpecBytes = spec.ToBytes();
        JobHash = Blobs.Hash(SpecBytes);
        Kernel = new TileKernel(resolver.Resolve(request.NetSpec), spec, parameters, request.X1);
        int n1 = request.X1.Shape[0], n2 = request.X2?.Shape[0] ?? n1;
        Plan = new TilePlan(n1, n2, request.BatchSize, request.X2 is null, Kernel.DiagonalOnly);
        KernelShape = Kernel.KernelShape(n1, n2);
        Mirror = Kernel.MirrorPermutation();
        (X1Blocks, X1BlockBytes, X1Hashes) = Split(request.X1);
        if (request.X2 is { } x2)
        {
            var (b, bytes, h) = Split(x2);
            (X2Blocks, X2BlockBytes, X2Hashes) = (b, bytes, h);
        }
        KernelHash = Blobs.Hash(System.Text.Encoding.UTF8.GetBytes(
            $"{JobHash}|{string.Join(",", X1Hashes)}|{(X2Hashes is null ? "x2=x1" : string.Join(",", X2Hashes))}|batch={request.BatchSize}"));
    }

    private (Tensor[], byte[][], string[]) Split(Tensor x)
    {
        int n = x.Shape[0], blocks = Plan.Blocks(n);
        var ts = new Tensor[blocks];
        var bytes = new byte[blocks][];
        var hashes = new string[blocks];
        for (int b = 0; b < blocks; b++)
        {
            var (start, count) = Plan.Block(b, n);
            var lo = new int[x.Rank];
            lo[0] = start;
            var hi = x.Shape.Dims.ToArray();
            hi[0] = start + count;
            // The block as a worker will see it: decoded from the bytes that travel, so local and remote tiles agree bit for bit.
            bytes[b] = Blobs.EncodeTensor(x.Slice(lo, hi));
            ts[b] = Blobs.DecodeTensor(bytes[b]);
            hashes[b] = Blobs.Hash(bytes[b]);
        }
        return (ts, bytes, hashes);
    }

    /// <summary>The hashes a tile needs on a worker: job, parameters, the row block and the column block (if any).</summary>
    public (string Row, string? Col) BlockHashes(Tile t) =>
        X2Hashes is { } h2 ? (X1Hashes[t.Row], h2[t.Col]) : (X1Hashes[t.Row], t.Row == t.Col ? null : X1Hashes[t.Col]);

    /// <summary>The blob with content hash <paramref name="hash"/>, or null.</summary>
    public byte[]? Blob(string hash)
    {
        if (hash == JobHash) return SpecBytes;
        if (hash == ParamsHash) return ParamsBytes;
        int i = Array.IndexOf(X1Hashes, hash);
        if (i >= 0) return X1BlockBytes[i];
        i = X2Hashes is null ? -1 : Array.IndexOf(X2Hashes, hash);
        return i >= 0 ? X2BlockBytes![i] : null;
    }

    /// <summary>Computes tile <paramref name="t"/> in this process (the local tiled run).</summary>
    public Tensor[] ComputeLocal(Tile t) =>
        Kernel.Compute(X1Blocks[t.Row], X2Blocks is { } b2 ? b2[t.Col] : t.Row == t.Col ? null : X1Blocks[t.Col]);
}
