using System.Runtime.Intrinsics;

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

    // Vector256 has a fixed width (software-emulated lane by lane where unsupported) and no FMA is used, so these
    // give the same bits on every machine; summation order is fixed (8 partial sums, then a fixed tree).

    /// <summary>Σ a[i]·b[i] in a fixed order.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Debug.Assert(a.Length == b.Length);
        int n = a.Length, i = 0;
        var acc0 = Vector256<double>.Zero;
        var acc1 = Vector256<double>.Zero;
        for (; i + 8 <= n; i += 8)
        {
            acc0 += Vector256.Create(a.Slice(i, 4)) * Vector256.Create(b.Slice(i, 4));
            acc1 += Vector256.Create(a.Slice(i + 4, 4)) * Vector256.Create(b.Slice(i + 4, 4));
        }
        var acc = acc0 + acc1;
        double s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>y[i] += alpha·x[i].</summary>
    public static void Axpy(Span<double> y, ReadOnlySpan<double> x, double alpha)
    {
        Debug.Assert(x.Length == y.Length);
        int n = y.Length, i = 0;
        var va = Vector256.Create(alpha);
        for (; i + 4 <= n; i += 4)
            (Vector256.Create(y.Slice(i, 4)) + va * Vector256.Create(x.Slice(i, 4))).CopyTo(y.Slice(i, 4));
        for (; i < n; i++) y[i] += alpha * x[i];
    }

    /// <summary>y[i] −= f·u[i] + g·v[i] (the symmetric rank-2 update of one row).</summary>
    public static void Rank2Update(Span<double> y, double f, ReadOnlySpan<double> u, double g, ReadOnlySpan<double> v)
    {
        Debug.Assert(u.Length == y.Length && v.Length == y.Length);
        int n = y.Length, i = 0;
        var vf = Vector256.Create(f);
        var vg = Vector256.Create(g);
        for (; i + 4 <= n; i += 4)
            (Vector256.Create(y.Slice(i, 4)) - (vf * Vector256.Create(u.Slice(i, 4)) + vg * Vector256.Create(v.Slice(i, 4)))).CopyTo(y.Slice(i, 4));
        for (; i < n; i++) y[i] -= f * u[i] + g * v[i];
    }
}
