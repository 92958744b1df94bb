namespace NeuralTangents.Tiles;

/// <summary>One tile: examples [<see cref="Start1"/>, +<see cref="Count1"/>) of x1 against
/// [<see cref="Start2"/>, +<see cref="Count2"/>) of x2, block (<see cref="Row"/>, <see cref="Column"/>).</summary>
/// <param name="Index">Position in <see cref="TilePlan.Tiles"/> (the id used by manifests).</param>
/// <param name="Row">Block row (x1 block).</param>
/// <param name="Column">Block column (x2 block).</param>
/// <param name="Start1">First x1 example.</param>
/// <param name="Count1">Number of x1 examples.</param>
/// <param name="Start2">First x2 example.</param>
/// <param name="Count2">Number of x2 examples.</param>
public readonly record struct Tile(int Index, int Row, int Column, int Start1, int Count1, int Start2, int Count2)
{
    /// <summary>A tile on the block diagonal (its mirror is itself).</summary>
    public bool IsDiagonal => Row == Column;
}

/// <summary>
/// The tiles of a kernel over examples, the counterpart of <c>nt.batch</c>'s blocks: x1 and x2 cut into blocks of
/// <see cref="BlockSize"/> examples (the last block may be smaller); every (row, column) block pair, or only
/// <c>row ≤ column</c> when <see cref="Symmetric"/> (x2 = x1; the rest is mirrored), or only <c>row = column</c>
/// when <see cref="DiagonalOnly"/> (the batch axis is a diagonal axis of the kernel). Tiles are listed row by row.
/// </summary>
public sealed class TilePlan
{
    /// <summary>Examples in x1.</summary>
    public int N1 { get; }
    /// <summary>Examples in x2 (= <see cref="N1"/> when symmetric).</summary>
    public int N2 { get; }
    /// <summary>Examples per block.</summary>
    public int BlockSize { get; }
    /// <summary>x2 is x1: upper-triangular tiles only, mirrored.</summary>
    public bool Symmetric { get; }
    /// <summary>Only diagonal tiles (the batch axis is kept once).</summary>
    public bool DiagonalOnly { get; }
    /// <summary>The tiles, row by row.</summary>
    public IReadOnlyList<Tile> Tiles { get; }

    /// <summary>Plans the tiles.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size below 0 or a block size below 1.</exception>
    /// <exception cref="ArgumentException">Diagonal-only with different numbers of examples.</exception>
    public TilePlan(int n1, int n2, int blockSize, bool symmetric, bool diagonalOnly)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n1);
        ArgumentOutOfRangeException.ThrowIfNegative(n2);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        if ((symmetric || diagonalOnly) && n1 != n2)
            throw new ArgumentException($"a {(symmetric ? "symmetric" : "diagonal")} tile plan needs as many x2 examples as x1, got {n1} and {n2}", nameof(n2));
        N1 = n1; N2 = n2; BlockSize = blockSize; Symmetric = symmetric; DiagonalOnly = diagonalOnly;
        int r = Blocks(n1), c = Blocks(n2);
        var tiles = new List<Tile>();
        for (int i = 0; i < r; i++)
            for (int j = diagonalOnly || symmetric ? i : 0; j < (diagonalOnly ? i + 1 : c); j++)
            {
                int s1 = i * blockSize, s2 = j * blockSize;
                tiles.Add(new Tile(tiles.Count, i, j, s1, Math.Min(blockSize, n1 - s1), s2, Math.Min(blockSize, n2 - s2)));
            }
        Tiles = tiles;
    }

    private int Blocks(int n) => (n + BlockSize - 1) / BlockSize;

    /// <summary>Text such as <c>15 tiles of 80 examples (symmetric)</c>.</summary>
    public override string ToString() =>
        $"{Tiles.Count} tile{(Tiles.Count == 1 ? "" : "s")} of {BlockSize} example{(BlockSize == 1 ? "" : "s")}" +
        (DiagonalOnly ? " (diagonal)" : Symmetric ? " (symmetric, mirrored)" : "");
}
