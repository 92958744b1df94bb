using FsCheck.Xunit;
using NeuralTangents.Linalg;
using static NeuralTangents.Tests.Linalg.LinalgTestUtil;

namespace NeuralTangents.Tests.Linalg;

public sealed class CholeskyTests
{
    [Property(MaxTest = 40)]
    public void Factor_reconstructs_random_spd_and_is_lower_triangular(int seed, byte size)
    {
        int n = size % 24 + 1;
        var a = RandomSpd(new Random(seed), n);
        var l = Cholesky.Factor(T(a, n, n)).Lower.ToDoubleArray();
        for (int i = 0; i < n; i++)
        {
            Assert.True(l[i * n + i] > 0);
            for (int j = i + 1; j < n; j++) Assert.Equal(0.0, l[i * n + j]);
        }
        var llt = MatMul(l, l, n, n, n, transposeB: true);
        Assert.True(MaxAbsDiff(a, llt) < 1e-12 * n * a.Max(Math.Abs), $"‖LLᵀ − A‖ = {MaxAbsDiff(a, llt)}");
    }

    [Property(MaxTest = 40)]
    public void Solve_multiple_right_hand_sides_has_small_residual(int seed, byte size, byte rhs)
    {
        int n = size % 20 + 1, c = rhs % 4 + 1;
        var rng = new Random(seed);
        var a = RandomSpd(rng, n);
        var b = Random(rng, n * c);
        var x = Cholesky.Factor(T(a, n, n)).Solve(T(b, n, c));
        Assert.Equal(new Shape(n, c), x.Shape);
        Assert.Equal(DType.Float64, x.DType);
        var ax = MatMul(a, x.ToDoubleArray(), n, n, c);
        Assert.True(MaxAbsDiff(ax, b) < 1e-10, $"residual {MaxAbsDiff(ax, b)}");
    }

    [Fact]
    public void Closed_form_two_by_two_and_vector_right_hand_side()
    {
        // A = [[4, 2], [2, 3]] → L = [[2, 0], [1, √2]]; A⁻¹ = [[3, −2], [−2, 4]] / 8.
        var ch = Cholesky.Factor(Tensor.FromRows([[4, 2], [2, 3]]));
        Assert.Equal(new[] { 2.0, 0, 1, Math.Sqrt(2) }, ch.Lower.ToDoubleArray());
        Assert.Equal(Math.Log(8), ch.LogDeterminant, 14);
        var x = ch.Solve(Tensor.FromArray(1.0, 1.0));
        Assert.Equal(new Shape(2), x.Shape);
        Assert.Equal(1.0 / 8, x[0], 15);
        Assert.Equal(2.0 / 8, x[1], 15);
    }

    [Fact]
    public void Reads_only_the_lower_triangle_and_accepts_float32()
    {
        var ch = Cholesky.Factor(Tensor.FromArray(new float[] { 4, 99, 2, 3 }, new Shape(2, 2)));
        Assert.Equal(new[] { 2.0, 0, 1, Math.Sqrt(2) }, ch.Lower.ToDoubleArray());
    }

    [Fact]
    public void Not_positive_definite_names_the_pivot()
    {
        var ex = Assert.Throws<ArgumentException>(() => Cholesky.Factor(Tensor.FromRows([[1, 2], [2, 1]])));
        Assert.Contains("not positive definite", ex.Message);
        Assert.Contains("pivot 1", ex.Message);
        Assert.Throws<ArgumentException>(() => Cholesky.Factor(Tensor.FromRows([[0, 0], [0, 1]])));
        Assert.Throws<ArgumentException>(() => Cholesky.Factor(Tensor.FromRows([[double.NaN, 0], [0, 1]])));
    }

    [Fact]
    public void Shape_errors_give_the_shapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Cholesky.Factor(Tensor.Zeros(new Shape(2, 3))));
        Assert.Contains("(2, 3)", ex.Message);
        var ch = Cholesky.Factor(Tensor.FromRows([[1, 0], [0, 1]]));
        ex = Assert.Throws<ArgumentException>(() => ch.Solve(Tensor.Zeros(new Shape(3, 1))));
        Assert.Contains("(3, 1)", ex.Message);
        Assert.Contains("(2, 2)", ex.Message);
    }

    [Fact]
    public void Empty_matrix_is_fine()
    {
        var ch = Cholesky.Factor(Tensor.Zeros(new Shape(0, 0)));
        Assert.Equal(new Shape(0, 3), ch.Solve(Tensor.Zeros(new Shape(0, 3))).Shape);
    }
}
