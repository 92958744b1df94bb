namespace NeuralTangents.Tests.Linalg;

/// <summary>Naive reference matrix arithmetic on row-major double arrays.</summary>
internal static class LinalgTestUtil
{
    public static double[] MatMul(double[] a, double[] b, int m, int k, int n, bool transposeB = false)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * (transposeB ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = s;
            }
        return c;
    }

    public static double[] Random(Random rng, int count) => Enumerable.Range(0, count).Select(_ => rng.NextDouble() * 2 - 1).ToArray();

    /// <summary>B·Bᵀ + shift·I with B of shape (n, n): SPD with smallest eigenvalue ≥ shift.</summary>
    public static double[] RandomSpd(Random rng, int n, double shift = 0.5)
    {
        var b = Random(rng, n * n);
        var a = MatMul(b, b, n, n, n, transposeB: true);
        for (int i = 0; i < n; i++) a[i * n + i] += shift;
        return a;
    }

    public static double[] RandomSymmetric(Random rng, int n)
    {
        var a = Random(rng, n * n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
        return a;
    }

    public static double MaxAbsDiff(double[] a, double[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    public static Tensor T(double[] data, params int[] shape) => Tensor.FromArray(data, new Shape(shape));
}
