namespace NeuralTangents.Tiles;

/// <summary>The contiguous runs a C-ordered tile occupies inside a C-ordered kernel.</summary>
internal static class TileRuns
{
    /// <summary>Calls <paramref name="run"/>(destination element, source element, length) for each run of the tile of
    /// shape <paramref name="tile"/> placed at <paramref name="offsets"/> inside an array of shape <paramref name="full"/>.</summary>
    public static void ForEach(Shape full, Shape tile, int[] offsets, Action<long, long, int> run)
    {
        int r = full.Rank;
        if (tile.Rank != r || offsets.Length != r) throw new ArgumentException($"tile {tile} does not match kernel {full}");
        for (int a = 0; a < r; a++)
            if (offsets[a] < 0 || offsets[a] + tile[a] > full[a])
                throw new ArgumentOutOfRangeException(nameof(offsets), $"tile {tile} at [{string.Join(", ", offsets)}] exceeds kernel {full}");
        if (tile.Size == 0) return;
        // Innermost axis where the tile is narrower than the kernel: below it every axis is whole, so runs are contiguous.
        int k = r - 1;
        while (k >= 0 && tile[k] == full[k]) k--;
        if (k < 0) { run(0, 0, tile.Size); return; }
        var stride = new long[r];
        for (int a = r - 1, s = 1; a >= 0; s *= full[a], a--) stride[a] = s;
        int len = 1;
        for (int a = k; a < r; a++) len *= tile[a];
        var idx = new int[k];
        long src = 0;
        while (true)
        {
            long dst = offsets[k] * stride[k];
            for (int a = 0; a < k; a++) dst += (offsets[a] + idx[a]) * stride[a];
            run(dst, src, len);
            src += len;
            int b = k - 1;
            while (b >= 0 && ++idx[b] == tile[b]) { idx[b] = 0; b--; }
            if (b < 0) return;
        }
    }
}
