using FsCheck.Xunit;
using NeuralTangents.Cuda;
using Xunit;

namespace NeuralTangents.Tests.Cuda;

public class GemmPlanTests
{
    [Fact]
    public void Plain_row_major_maps_to_swapped_column_major_call()
    {
        // C(2×3) = A(2×4)·B(4×3)  →  cuBLAS Cᵀ(3×2) = Bᵀ(3×4)·Aᵀ(4×2)
        var p = GemmPlan.RowMajor(m: 2, n: 3, k: 4, transA: false, lda: 4, transB: false, ldb: 3, ldc: 3);
        Assert.Equal(new GemmPlan(CublasOperation.N, CublasOperation.N, 3, 2, 4, 3, 4, 3, 8, 12, 6), p);
    }

    [Fact]
    public void Transpose_flags_are_carried_over_to_the_swapped_operands()
    {
        // A stored k×m (4×2, lda ≥ 2), B stored n×k (3×4, ldb ≥ 4); padded leading dimensions.
        var p = GemmPlan.RowMajor(m: 2, n: 3, k: 4, transA: true, lda: 5, transB: true, ldb: 6, ldc: 7);
        Assert.Equal(CublasOperation.T, p.TransA);   // applies to cuBLAS's first operand = our B
        Assert.Equal(CublasOperation.T, p.TransB);   // applies to our A
        Assert.Equal((3, 2, 4), (p.M, p.N, p.K));
        Assert.Equal((6, 5, 7), (p.Lda, p.Ldb, p.Ldc));
        Assert.Equal(3L * 5 + 2, p.ElementsA);
        Assert.Equal(2L * 6 + 4, p.ElementsB);
        Assert.Equal(1L * 7 + 3, p.ElementsC);
        var q = GemmPlan.RowMajor(m: 2, n: 3, k: 4, transA: true, lda: 2, transB: false, ldb: 3, ldc: 3);
        Assert.Equal((CublasOperation.N, CublasOperation.T), (q.TransA, q.TransB));
    }

    [Theory]
    [InlineData(false, 3, false, 5, 5, "lda", "at least max(1, 4)")]
    [InlineData(true, 1, false, 5, 5, "lda", "at least max(1, 2)")]
    [InlineData(false, 4, false, 4, 5, "ldb", "at least max(1, 5)")]
    [InlineData(false, 4, true, 3, 5, "ldb", "at least max(1, 4)")]
    [InlineData(false, 4, false, 5, 4, "ldc", "at least max(1, 5)")]
    public void Leading_dimensions_too_small_are_rejected(bool ta, int lda, bool tb, int ldb, int ldc, string param, string text)
    {
        var e = Assert.Throws<ArgumentException>(() => GemmPlan.RowMajor(2, 5, 4, ta, lda, tb, ldb, ldc));
        Assert.Equal(param, e.ParamName);
        Assert.Contains(text, e.Message);
        Assert.Contains($"got {(param == "lda" ? lda : param == "ldb" ? ldb : ldc)}", e.Message);
    }

    [Fact]
    public void Negative_sizes_and_overlapping_outputs_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => GemmPlan.RowMajor(-1, 2, 2, false, 2, false, 2, 2));
        var p = GemmPlan.RowMajor(2, 2, 2, false, 2, false, 2, 2);
        var e = Assert.Throws<ArgumentException>(() => CudaBlas.BatchExtents(3, p, 4, 4, 3));
        Assert.Equal("strideC", e.ParamName);
        Assert.Equal((12L, 12L, 12L), CudaBlas.BatchExtents(3, p, 4, 4, 4));
        Assert.Equal((4L, 12L, 12L), CudaBlas.BatchExtents(3, p, 0, 4, 4));
        Assert.Equal((0L, 0L, 0L), CudaBlas.BatchExtents(0, p, 4, 4, 4));
    }

    /// <summary>
    /// The mapping, executed by a column-major BLAS emulator that enforces cuBLAS's own leading-dimension rules and
    /// reads only the declared extents, equals the row-major product computed directly; padding is never written.
    /// </summary>
    [Property(MaxTest = 300)]
    public void Plan_run_column_major_equals_row_major_product(int seed)
    {
        var rng = new Random(seed);
        int m = rng.Next(0, 6), n = rng.Next(0, 6), k = rng.Next(0, 6), batch = rng.Next(1, 4);
        bool ta = rng.Next(2) == 1, tb = rng.Next(2) == 1;
        int lda = Math.Max(1, ta ? m : k) + rng.Next(0, 3);
        int ldb = Math.Max(1, tb ? k : n) + rng.Next(0, 3);
        int ldc = Math.Max(1, n) + rng.Next(0, 3);
        var plan = GemmPlan.RowMajor(m, n, k, ta, lda, tb, ldb, ldc);
        long strideA = rng.Next(4) == 0 ? 0 : plan.ElementsA + rng.Next(0, 3);
        long strideB = rng.Next(4) == 0 ? 0 : plan.ElementsB + rng.Next(0, 3);
        long strideC = plan.ElementsC + rng.Next(0, 3);
        var (na, nb, nc) = CudaBlas.BatchExtents(batch, plan, strideA, strideB, strideC);
        var a = Reference.RandomArray(rng, na);
        var b = Reference.RandomArray(rng, nb);
        var c = Enumerable.Repeat(double.NaN, (int)nc).ToArray();

        ColumnMajorBlas.RunPlan(plan, batch, a, strideA, b, strideB, c, strideC);

        var (expected, _) = Reference.Gemm(batch, m, n, k, a, lda, strideA, ta, b, ldb, strideB, tb, ldc, strideC, nc);
        var written = new bool[nc];
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    written[bi * strideC + (long)i * ldc + j] = true;
        for (int i = 0; i < nc; i++)
        {
            if (written[i]) Assert.Equal(expected[i], c[i]);   // same products, same order: bitwise equal
            else Assert.True(double.IsNaN(c[i]), $"padding element {i} was written");
        }
    }
}
