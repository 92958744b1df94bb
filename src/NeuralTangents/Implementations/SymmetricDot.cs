namespace NeuralTangents.Implementations;

/// <summary>
/// <c>dot_general(x, x)</c> with the same contracting and batch axes on both sides is a batch of Gram matrices
/// <c>X·Xᵀ</c>: symmetric, so only the blocks on and above the diagonal are computed and the others are mirrored
/// (44 % fewer multiply-adds with 8 row blocks). Train-train kernels (x2 = null) meet it in the Jacobian contraction
/// <c>J·Jᵀ</c> and in the Gram of <c>∂f/∂y</c> of a structured-derivatives MJJMP; Neural Tangents computes both
/// halves. CPU backend only (the result is bit-identical there: every element is reduced in the same order whatever
/// the output tiling). Only worth it while the blocks stay compute-bound: measured on 2 cores (float32), a 1797 × 5120 Gram
/// takes 439 ms instead of 559 ms, 1797 × 512 is even, 1797 × 64 is 3× slower (the mirroring copy dominates), and
/// with very long rows (500 × 1.35 M) re-reading each row block for every column block made it slower.
/// </summary>
internal static class SymmetricDot
{
    /// <summary>Smallest Gram side and contraction length worth splitting, and the longest rows (as a multiple of
    /// the side) before the blocks turn memory-bound.</summary>
    private const int MinRows = 1024, MinDepth = 256, MaxDepthPerRow = 16;

    /// <summary>The result of <c>dot_general(a, b, dims)</c> when it is such a Gram (and large enough) and
    /// <paramref name="backend"/> is the CPU; null otherwise.</summary>
    public static Tensor? TryDotGeneral(Tensor a, Tensor b, DotDimensionNumbers dims, ComputeBackend backend)
    {
        // CPU only: on a GPU backend the blocks would be separate uploads and the mirroring a host loop.
        if (!ReferenceEquals(backend, ComputeBackend.Cpu)) return null;
        if (!ReferenceEquals(a, b) || !dims.LhsContracting.SequenceEqual(dims.RhsContracting) || !dims.LhsBatch.SequenceEqual(dims.RhsBatch)) return null;
        var free = Enumerable.Range(0, a.Rank).Where(x => !dims.LhsContracting.Contains(x) && !dims.LhsBatch.Contains(x)).ToArray();
        long Prod(IEnumerable<int> axes) => axes.Aggregate(1L, (acc, x) => acc * a.Shape[x]);
        long bsz = Prod(dims.LhsBatch), m = Prod(free), k = Prod(dims.LhsContracting);
        if (m < MinRows || k < MinDepth || k > MaxDepthPerRow * m || bsz * m * m > int.MaxValue) return null;
        int B = (int)bsz, M = (int)m, K = (int)k;
        var x = a.Transpose(dims.LhsBatch.Concat(free).Concat(dims.LhsContracting).ToArray()).Contiguous().Reshape(B, M, K);
        var outShape = new Shape(dims.LhsBatch.Select(d => a.Shape[d]).Concat(free.Select(d => a.Shape[d])).Concat(free.Select(d => a.Shape[d])));
        return a.DType == DType.Float32 ? Gram<float>(x, B, M, K, outShape) : Gram<double>(x, B, M, K, outShape);
    }

    private static Tensor Gram<T>(Tensor x, int B, int M, int K, Shape outShape)
    {
        int nb = Math.Clamp(M / 128, 2, 8), bs = (M + nb - 1) / nb;
        var dst = new T[B * M * M];
        var blockDims = new DotDimensionNumbers(new[] { 2 }, new[] { 2 }, new[] { 0 }, new[] { 0 });
        for (int i0 = 0; i0 < M; i0 += bs)
        {
            int mi = Math.Min(bs, M - i0);
            var xi = x.Slice(new[] { 0, i0, 0 }, new[] { B, i0 + mi, K });
            for (int j0 = i0; j0 < M; j0 += bs)
            {
                int mj = Math.Min(bs, M - j0);
                var xj = j0 == i0 ? xi : x.Slice(new[] { 0, j0, 0 }, new[] { B, j0 + mj, K });
                var c = ComputeBackend.Cpu.DotGeneral(xi, xj, blockDims).Contiguous();   // (B, mi, mj)
                var src = c.Span<T>();
                for (int bb = 0; bb < B; bb++)
                    for (int r = 0; r < mi; r++)
                    {
                        var row = src.Slice((bb * mi + r) * mj, mj);
                        row.CopyTo(dst.AsSpan((bb * M + i0 + r) * M + j0, mj));
                        if (j0 != i0)
                            for (int col = 0; col < mj; col++) dst[(bb * M + j0 + col) * M + i0 + r] = row[col];
                    }
            }
        }
        return new Tensor(dst, outShape);
    }
}
