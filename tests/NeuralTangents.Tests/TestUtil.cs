namespace NeuralTangents.Tests;

internal static class TestUtil
{
    public static Tensor T(double[] data, params int[] shape) => Tensor.FromArray(data, new Shape(shape));

    public static void AssertClose(double[] expected, double[] actual, double rtol, double atol = 0, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= atol + rtol * Math.Abs(expected[i]),
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    public static void AssertClose(Tensor expected, Tensor actual, double rtol, double atol = 0)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        AssertClose(expected.ToDoubleArray(), actual.ToDoubleArray(), rtol, atol);
    }

    /// <summary>Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations (an independent slow path).</summary>
    public static double[] JacobiEigenvalues(double[,] a0) => JacobiEigen(a0).Values.OrderBy(v => v).ToArray();

    /// <summary>
    /// Eigenvalues (unsorted) and eigenvectors (columns of <c>Vectors</c>, in the same order) of a small symmetric
    /// matrix by cyclic Jacobi rotations.
    /// </summary>
    public static (double[] Values, double[,] Vectors) JacobiEigen(double[,] a0)
    {
        int n = a0.GetLength(0);
        var a = (double[,])a0.Clone();
        var v = new double[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += a[p, q] * a[p, q];
            if (off < 1e-30) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = theta == 0 ? 1 : Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) { double akp = a[k, p], akq = a[k, q]; a[k, p] = c * akp - s * akq; a[k, q] = s * akp + c * akq; }
                    for (int k = 0; k < n; k++) { double apk = a[p, k], aqk = a[q, k]; a[p, k] = c * apk - s * aqk; a[q, k] = s * apk + c * aqk; }
                    for (int k = 0; k < n; k++) { double vkp = v[k, p], vkq = v[k, q]; v[k, p] = c * vkp - s * vkq; v[k, q] = s * vkp + c * vkq; }
                }
        }
        return (Enumerable.Range(0, n).Select(i => a[i, i]).ToArray(), v);
    }
}
