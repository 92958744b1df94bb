using FsCheck.Xunit;
using NeuralTangents.Linalg;
using static NeuralTangents.Tests.Linalg.LinalgTestUtil;

namespace NeuralTangents.Tests.Linalg;

public sealed class SymmetricEigenTests
{
    [Property(MaxTest = 40)]
    public void Reconstructs_random_symmetric_matrices(int seed, byte size)
    {
        int n = size % 24 + 1;
        var a = RandomSymmetric(new Random(seed), n);
        var eig = SymmetricEigen.Decompose(T(a, n, n));
        var q = eig.Vectors!.ToDoubleArray();
        var lam = eig.Values;
        for (int i = 1; i < n; i++) Assert.True(lam[i - 1] <= lam[i], "eigenvalues must ascend");

        // A = QΛQᵀ
        var ql = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) ql[i * n + j] = q[i * n + j] * lam[j];
        var back = MatMul(ql, q, n, n, n, transposeB: true);
        Assert.True(MaxAbsDiff(a, back) < 1e-12 * n, $"‖QΛQᵀ − A‖ = {MaxAbsDiff(a, back)}");

        // QᵀQ = I
        var qt = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) qt[j * n + i] = q[i * n + j];
        var qtq = MatMul(qt, q, n, n, n);
        var eye = new double[n * n];
        for (int i = 0; i < n; i++) eye[i * n + i] = 1;
        Assert.True(MaxAbsDiff(qtq, eye) < 1e-12 * n, $"‖QᵀQ − I‖ = {MaxAbsDiff(qtq, eye)}");

        // Eigenvalues alone are the same numbers; trace is their sum.
        var only = SymmetricEigen.Eigenvalues(T(a, n, n));
        Assert.True(MaxAbsDiff(lam, only) < 1e-12 * n);
        Assert.Equal(Enumerable.Range(0, n).Sum(i => a[i * n + i]), lam.Sum(), 10);
    }

    [Fact]
    public void Second_difference_matrix_matches_closed_form()
    {
        // tridiag(−1, 2, −1) of order n has eigenvalues 2 − 2cos(kπ/(n+1)), k = 1..n.
        const int n = 50;
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            a[i * n + i] = 2;
            if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
        }
        var lam = SymmetricEigen.Eigenvalues(T(a, n, n));
        var expected = Enumerable.Range(1, n).Select(k => 2 - 2 * Math.Cos(k * Math.PI / (n + 1))).ToArray();
        Assert.True(MaxAbsDiff(expected, lam) < 1e-13, $"{MaxAbsDiff(expected, lam)}");
    }

    [Fact]
    public void Diagonal_and_rank_one_closed_forms()
    {
        var d = SymmetricEigen.Decompose(Tensor.FromRows([[3, 0, 0], [0, -1, 0], [0, 0, 2]]));
        Assert.Equal(new[] { -1.0, 2, 3 }, d.Values);
        // Column 0 is ±e₁.
        Assert.Equal(1.0, Math.Abs(d.Vectors![1, 0]), 15);

        // v·vᵀ with |v|² = 14: eigenvalues 0, 0, 14; top eigenvector ∥ v.
        double[] v = [1, 2, 3];
        var r1 = new double[9];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) r1[i * 3 + j] = v[i] * v[j];
        var e = SymmetricEigen.Decompose(T(r1, 3, 3));
        Assert.Equal(0, e.Values[0], 13);
        Assert.Equal(0, e.Values[1], 13);
        Assert.Equal(14, e.Values[2], 13);
        double dot = Enumerable.Range(0, 3).Sum(i => e.Vectors![i, 2] * v[i]);
        Assert.Equal(Math.Sqrt(14), Math.Abs(dot), 13);
    }

    [Fact]
    public void Uses_only_the_lower_triangle_is_deterministic_and_handles_tiny_sizes()
    {
        var lower = SymmetricEigen.Eigenvalues(Tensor.FromRows([[2, 100], [1, 2]]));
        Assert.Equal(1, lower[0], 14);
        Assert.Equal(3, lower[1], 14);
        Assert.Equal(new[] { 5.0 }, SymmetricEigen.Eigenvalues(Tensor.FromRows([[5]])));
        Assert.Empty(SymmetricEigen.Eigenvalues(Tensor.Zeros(new Shape(0, 0))));

        var a = T(RandomSymmetric(new Random(7), 30), 30, 30);
        Assert.Equal(SymmetricEigen.Decompose(a).Vectors!.ToDoubleArray(), SymmetricEigen.Decompose(a).Vectors!.ToDoubleArray());
    }

    [Fact]
    public void Rejects_non_square_and_non_finite()
    {
        var ex = Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose(Tensor.Zeros(new Shape(3, 2))));
        Assert.Contains("(3, 2)", ex.Message);
        Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose(Tensor.FromRows([[double.PositiveInfinity]])));
    }
}
