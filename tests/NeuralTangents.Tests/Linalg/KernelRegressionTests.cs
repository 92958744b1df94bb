using FsCheck.Xunit;
using NeuralTangents.Linalg;
using static NeuralTangents.Tests.Linalg.LinalgTestUtil;

namespace NeuralTangents.Tests.Linalg;

public sealed class KernelRegressionTests
{
    /// <summary>Gauss–Jordan with partial pivoting: an independent reference for (K + λI)⁻¹Y.</summary>
    private static double[] SolveReference(double[] a, double[] b, int n, int c)
    {
        a = (double[])a.Clone();
        b = (double[])b.Clone();
        for (int col = 0; col < n; col++)
        {
            int piv = col;
            for (int r = col + 1; r < n; r++) if (Math.Abs(a[r * n + col]) > Math.Abs(a[piv * n + col])) piv = r;
            for (int k = 0; k < n; k++) (a[col * n + k], a[piv * n + k]) = (a[piv * n + k], a[col * n + k]);
            for (int k = 0; k < c; k++) (b[col * c + k], b[piv * c + k]) = (b[piv * c + k], b[col * c + k]);
            for (int r = 0; r < n; r++)
            {
                if (r == col) continue;
                double f = a[r * n + col] / a[col * n + col];
                for (int k = 0; k < n; k++) a[r * n + k] -= f * a[col * n + k];
                for (int k = 0; k < c; k++) b[r * c + k] -= f * b[col * c + k];
            }
        }
        for (int r = 0; r < n; r++)
            for (int k = 0; k < c; k++) b[r * c + k] /= a[r * n + r];
        return b;
    }

    [Property(MaxTest = 40)]
    public void Matches_reference_with_relative_ridge(int seed, byte nb, byte mb, byte cb)
    {
        int n = nb % 15 + 1, m = mb % 6 + 1, c = cb % 4 + 1;
        var rng = new Random(seed);
        var ktt = RandomSpd(rng, n, shift: 0);
        var kst = Random(rng, m * n);
        var y = Random(rng, n * c);
        const double ridge = 0.1;
        double meanDiag = Enumerable.Range(0, n).Average(i => ktt[i * n + i]);
        var reg = (double[])ktt.Clone();
        for (int i = 0; i < n; i++) reg[i * n + i] += ridge * meanDiag;
        var expected = MatMul(kst, SolveReference(reg, y, n, c), m, n, c);

        var got = KernelRegression.Predict(T(kst, m, n), T(ktt, n, n), T(y, n, c), ridge);
        Assert.Equal(new Shape(m, c), got.Shape);
        Assert.True(MaxAbsDiff(expected, got.ToDoubleArray()) < 1e-9, $"{MaxAbsDiff(expected, got.ToDoubleArray())}");
    }

    [Fact]
    public void Interpolates_training_targets_without_ridge_and_shrinks_with_it()
    {
        var rng = new Random(3);
        const int n = 8;
        var k = T(RandomSpd(rng, n), n, n);
        var y = T(Random(rng, n * 2), n, 2);
        var fit = KernelRegression.Predict(k, k, y, 0);
        Assert.True(MaxAbsDiff(y.ToDoubleArray(), fit.ToDoubleArray()) < 1e-10);

        // K = 2I: mean diag 2, so prediction at training points is 2/(2 + 2r)·Y.
        var eye2 = Tensor.FromRows([[2, 0], [0, 2]]);
        var yy = Tensor.FromRows([[1, -1], [3, 0.5]]);
        var shrunk = KernelRegression.Predict(eye2, eye2, yy, 0.25).ToDoubleArray();
        Assert.True(MaxAbsDiff(yy.ToDoubleArray().Select(v => v / 1.25).ToArray(), shrunk) < 1e-15);
    }

    [Fact]
    public void Float32_inputs_give_float64_output()
    {
        var k = Tensor.FromArray(new float[] { 2, 0, 0, 2 }, new Shape(2, 2));
        var y = Tensor.FromArray(new float[] { 1, 0, 0, 1 }, new Shape(2, 2));
        var p = KernelRegression.Predict(k, k, y, 0);
        Assert.Equal(DType.Float64, p.DType);
        Assert.True(MaxAbsDiff(new[] { 1.0, 0, 0, 1 }, p.ToDoubleArray()) < 1e-15);
    }

    [Fact]
    public void Shape_and_ridge_errors_name_both_shapes()
    {
        var k = Tensor.Zeros(new Shape(3, 3));
        var ex = Assert.Throws<ArgumentException>(() => KernelRegression.Predict(Tensor.Zeros(new Shape(2, 4)), k, Tensor.Zeros(new Shape(3, 1)), 0.1));
        Assert.Contains("(2, 4)", ex.Message);
        Assert.Contains("(3, 3)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => KernelRegression.Predict(Tensor.Zeros(new Shape(2, 3)), k, Tensor.Zeros(new Shape(2, 1)), 0.1));
        Assert.Contains("(2, 1)", ex.Message);
        Assert.Contains("(3, 3)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => KernelRegression.Predict(Tensor.Zeros(new Shape(2, 3)), Tensor.Zeros(new Shape(3, 2)), Tensor.Zeros(new Shape(3, 1)), 0.1));
        Assert.Contains("(3, 2)", ex.Message);
        Assert.Throws<ArgumentException>(() => KernelRegression.Predict(Tensor.Zeros(new Shape(2, 3)), k, Tensor.Zeros(new Shape(3, 1)), -1));
        // Zero kernel with zero ridge is singular.
        Assert.Throws<ArgumentException>(() => KernelRegression.Predict(Tensor.Zeros(new Shape(2, 3)), k, Tensor.Zeros(new Shape(3, 1)), 0));
    }
}
