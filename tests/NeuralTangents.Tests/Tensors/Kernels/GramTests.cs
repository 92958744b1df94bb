using NeuralTangents.Tensors;
using NeuralTangents.Tensors.Kernels;
using Xunit;

namespace NeuralTangents.Tests.Tensors.Kernels;

/// <summary><see cref="Blas.Gram{T}"/> (upper tiles only, then mirrored) against the plain GEMM <c>X·Xᵀ</c>.</summary>
public class GramTests
{
    [Theory]
    [InlineData(1, 37, 300, 300, 1)]      // one small tile (the tile path still skips lower micro-tiles)
    [InlineData(2, 130, 257, 260, 2)]     // batch, padded rows, k not a multiple of KC
    [InlineData(1, 515, 64, 64, 2)]       // several row and column tiles; one k block
    [InlineData(1, 1100, 600, 600, 2)]    // more than one MTMax row tile
    [InlineData(3, 9, 5, 5, 2)]           // tiny: the naive path, computed whole
    public void Gram_equals_the_plain_gemm_bit_for_bit_and_is_symmetric(int batch, int m, int k, int ldx, int threads)
    {
        Check<float>(batch, m, k, ldx, threads);
        Check<double>(batch, m, k, ldx, threads);
    }

    private static void Check<T>(int batch, int m, int k, int ldx, int threads) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(m * 31 + k);
        int stride = m * ldx + 3;
        var x = GemmTests.RandomArray(rng, batch * stride).Select(T.CreateTruncating).ToArray();
        var plain = new T[batch * m * m];
        var gram = Enumerable.Repeat(T.CreateTruncating(12345.0), batch * m * m).ToArray(); // garbage: every element must be written
        int saved = Blas.MaxDegreeOfParallelism;
        Blas.MaxDegreeOfParallelism = threads;
        try
        {
            Blas.BatchedGemm<T>(batch, m, m, k, x, ldx, stride, false, x, ldx, stride, true, plain, m, m * m);
            Blas.Gram<T>(batch, m, k, x, ldx, stride, gram);
        }
        finally { Blas.MaxDegreeOfParallelism = saved; }
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++)
                {
                    int e = b * m * m + i * m + j;
                    Assert.True(plain[e] == gram[e], $"{typeof(T).Name} batch {b} ({i}, {j}): plain {plain[e]} vs gram {gram[e]}");
                    Assert.True(gram[e] == gram[b * m * m + j * m + i], $"not symmetric at ({i}, {j})");
                }
    }
}
