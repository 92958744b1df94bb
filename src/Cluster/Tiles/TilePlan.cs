namespace NeuralTangents.Cluster.Tiles;

/// <summary>One tile: rows of block <see cref="Row"/> of x1 against block <see cref="Col"/> of x2 (or of x1).</summary>
/// <param name="Index">Position in the plan (what the manifest records).</param>
/// <param name="Row">Block index into x1.</param>
/// <param name="Col">Block index into x2 (x1 when x2 = x1).</param>
internal readonly record struct Tile(int Index, int Row, int Col);

/// <summary>
/// The (x1-block × x2-block) tiles of a kernel, as <c>nt.batch</c> lays them out: blocks of <c>batchSize</c> examples
/// (the last one shorter), every pair in row-major order; with x2 = x1 only the upper triangle (Col ≥ Row), the rest is
/// mirrored; when the example axis is a diagonal axis, only the diagonal tiles.
/// </summary>
internal sealed class TilePlan
{
    public int N1 { get; }
    public int N2 { get; }
    public int BatchSize { get; }
    public bool Symmetric { get; }
    public bool DiagonalOnly { get; }
    public IReadOnlyList<Tile> Tiles { get; }

    public TilePlan(int n1, int n2, int batchSize, bool symmetric, bool diagonalOnly)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batch size: expected >= 1, got {batchSize}");
        if (diagonalOnly && n1 != n2)
            throw new ArgumentException($"diagonal_axes contains the batch axis 0, so x1 and x2 need the same number of examples; got {n1} and {n2}");
        (N1, N2, BatchSize, Symmetric, DiagonalOnly) = (n1, n2, batchSize, symmetric, diagonalOnly);
        int b1 = Blocks(n1), b2 = Blocks(n2);
        var tiles = new List<Tile>();
        for (int i = 0; i < b1; i++)
            for (int j = diagonalOnly ? i : symmetric ? i : 0; j < (diagonalOnly ? i + 1 : b2); j++)
                tiles.Add(new Tile(tiles.Count, i, j));
        Tiles = tiles;
    }

    public int Blocks(int n) => (n + BatchSize - 1) / BatchSize;

    /// <summary>First example and count of block <paramref name="b"/> of an axis of <paramref name="n"/> examples.</summary>
    public (int Start, int Count) Block(int b, int n) => (b * BatchSize, Math.Min(BatchSize, n - b * BatchSize));
}
