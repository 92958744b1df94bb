namespace NeuralTangents.Linalg;

/// <summary>Row-major float64 helpers shared by the factorizations (not a public matrix type).</summary>
internal static class DenseMatrix
{
    /// <summary>The elements of a rank-2 tensor as a row-major float64 copy, checking its shape.</summary>
    /// <exception cref="ArgumentException">Not rank 2, or not square when <paramref name="square"/>.</exception>
    public static double[] ToRowMajor(Tensor t, string paramName, bool square)
    {
        ArgumentNullException.ThrowIfNull(t, paramName);
        if (t.Rank != 2 || (square && t.Shape[0] != t.Shape[1]))
            throw new ArgumentException($"{paramName} must be a {(square ? "square matrix (N, N)" : "matrix (M, N)")}, got shape {t.Shape}", paramName);
        return t.ToDoubleArray();
    }

    /// <summary>Σ a[i]·b[i] with four fixed accumulators: fast without SIMD-width-dependent rounding.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Debug.Assert(a.Length == b.Length);
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= a.Length; i += 4)
        {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
        }
        for (; i < a.Length; i++) s0 += a[i] * b[i];
        return (s0 + s1) + (s2 + s3);
    }
}
