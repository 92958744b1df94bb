using NeuralTangents.Implementations;

namespace NeuralTangents.Tests.Implementations;

/// <summary>The blocked symmetric Gram equals the plain <c>dot_general</c> bit for bit (same GEMM on each block).</summary>
public class SymmetricDotTests
{
    [Theory]
    [InlineData(DType.Float64, 1100, 300, 1)]
    [InlineData(DType.Float32, 1030, 260, 2)]
    public void GramBlocksEqualThePlainContraction(DType dtype, int m, int k, int batch)
    {
        var rng = new Random(m);
        // Axes: (batch, k1, m, k2) with k = k1·k2, m free; contract k1 and k2, batch axis 0.
        var x = Tensor.RandomNormal(rng, new Shape(batch, 2, m, k / 2), dtype);
        var dims = new DotDimensionNumbers(new[] { 1, 3 }, new[] { 1, 3 }, new[] { 0 }, new[] { 0 });
        var sym = SymmetricDot.TryDotGeneral(x, x, dims, ComputeBackend.Cpu);
        Assert.NotNull(sym);
        var plain = DotGeneral.Compute(x, x, dims);
        Assert.Equal(plain.Shape, sym!.Shape);
        var p = plain.ToDoubleArray(); var s = sym.ToDoubleArray();
        // Each element is reduced in the same order by the same GEMM whatever the output tiling.
        for (int i = 0; i < p.Length; i++) Assert.True(p[i] == s[i], $"element {i}: {p[i]} vs {s[i]}");
        // The result is exactly symmetric: mirrored, not recomputed.
        for (int i = 0; i < m; i += 97) for (int j = 0; j < m; j += 89) Assert.Equal(s[i * m + j], s[j * m + i]);
    }

    [Fact]
    public void NotAGramOrTooSmallFallsThrough()
    {
        var rng = new Random(3);
        var x = Tensor.RandomNormal(rng, new Shape(1100, 300));
        var dims = new DotDimensionNumbers(new[] { 1 }, new[] { 1 }, new int[0], new int[0]);
        Assert.Null(SymmetricDot.TryDotGeneral(x, x.Contiguous().Reshape(1100, 300).Slice(new[] { 0, 0 }, new[] { 1100, 300 }), dims, ComputeBackend.Cpu)); // another tensor
        Assert.Null(SymmetricDot.TryDotGeneral(x, x, new DotDimensionNumbers(new[] { 1 }, new[] { 0 }, new int[0], new int[0]), ComputeBackend.Cpu));      // not mirrored
        var small = Tensor.RandomNormal(rng, new Shape(100, 300));
        Assert.Null(SymmetricDot.TryDotGeneral(small, small, dims, ComputeBackend.Cpu));
    }
}
