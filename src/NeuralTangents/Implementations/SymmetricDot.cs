namespace NeuralTangents.Implementations;

/// <summary>
/// <c>dot_general(x, x)</c> with the same contracting and batch axes on both sides is a batch of Gram matrices
/// <c>X·Xᵀ</c>: symmetric, so <see cref="NeuralTangents.Tensors.Kernels.Blas.Gram{T}"/> computes it as one GEMM that skips the tiles below the
/// diagonal, then mirrors. Train-train kernels (x2 = null) meet it in the Jacobian contraction <c>J·Jᵀ</c> and in the
/// Gram of <c>∂f/∂y</c> of a structured-derivatives MJJMP; Neural Tangents computes both halves. CPU backend only (the
/// result is bit-identical to the plain product there: every element is reduced in the same order whatever the output
/// tiling). Measured on 2 cores, float32 (`NeuralTangents.Perf gram`, perf/README.md): 1797 × 5120 in 0.56× the plain
/// GEMM's time, 1797 × 512 0.80×, 1100 × 300 0.81×, 400 × 20000 0.69×; with short rows (1797 × 64: 2.7×) the mirroring
/// copy costs more than the skipped half, hence <see cref="MinDepth"/>. (The previous version ran each upper block
/// as a separate GEMM, re-packing every row block per block: 1.26–4.4× the plain GEMM under load.)
/// </summary>
internal static class SymmetricDot
{
    /// <summary>Smallest Gram side and contraction length worth it.</summary>
    private const int MinRows = 256, MinDepth = 256;

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
        if (m < MinRows || k < MinDepth || bsz * m * m > int.MaxValue || bsz * m * k > int.MaxValue) return null;
        int B = (int)bsz, M = (int)m, K = (int)k;
        var x = a.Transpose(dims.LhsBatch.Concat(free).Concat(dims.LhsContracting).ToArray()).Contiguous().Reshape(B, M, K);
        var outShape = new Shape(dims.LhsBatch.Select(d => a.Shape[d]).Concat(free.Select(d => a.Shape[d])).Concat(free.Select(d => a.Shape[d])));
        return a.DType == DType.Float32 ? Gram<float>(x, B, M, K, outShape) : Gram<double>(x, B, M, K, outShape);
    }

    private static Tensor Gram<T>(Tensor x, int B, int M, int K, Shape outShape) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var dst = BufferPool.Rent<T>(B * M * M);   // the upper triangle computed, the lower mirrored
        Blas.Gram<T>(B, M, K, x.Span<T>(), K, M * K, dst);
        return new Tensor(dst, outShape);
    }
}
