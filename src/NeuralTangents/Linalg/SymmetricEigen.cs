namespace NeuralTangents.Linalg;

/// <summary>
/// Eigendecomposition <c>A = Q·diag(λ)·Qᵀ</c> of a real symmetric float64 matrix: Householder reduction to
/// tridiagonal form, then the implicit QL algorithm with Wilkinson-type shifts (EISPACK tred2/tql2, as in JAMA).
/// Eigenvalues come out ascending (as <c>numpy.linalg.eigh</c>). Only the lower triangle of A is read.
/// Single-threaded, hence bitwise reproducible.
/// </summary>
internal sealed class SymmetricEigen
{
    private const int MaxIterationsPerEigenvalue = 100;

    /// <summary>The N eigenvalues, ascending.</summary>
    public double[] Values { get; }

    /// <summary>(N, N) float64 orthogonal matrix whose column i is the unit eigenvector of <see cref="Values"/>[i];
    /// null when vectors were not requested. Signs are arbitrary.</summary>
    public Tensor? Vectors { get; }

    private SymmetricEigen(double[] values, Tensor? vectors)
    {
        Values = values;
        Vectors = vectors;
    }

    /// <summary>Decomposes the (N, N) symmetric matrix <paramref name="a"/> (any dtype; computed in float64).</summary>
    /// <param name="a">The matrix; only its lower triangle is used.</param>
    /// <param name="computeVectors">Also compute eigenvectors (about twice the work).</param>
    /// <exception cref="ArgumentException">Not square, or an element is NaN or infinite.</exception>
    /// <exception cref="ArithmeticException">QL iteration did not converge (not expected for finite input).</exception>
    public static SymmetricEigen Decompose(Tensor a, bool computeVectors = true)
    {
        var m = DenseMatrix.ToRowMajor(a, nameof(a), square: true);
        int n = a.Shape[0];
        foreach (var v in m)
            if (!double.IsFinite(v)) throw new ArgumentException($"matrix {a.Shape} has a non-finite element ({v})", nameof(a));
        // u holds Vᵀ of the classic column-oriented algorithm so that every inner loop runs along a contiguous row.
        var u = new double[n * n];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) u[c * n + r] = m[r * n + c];
        var d = new double[n];
        var e = new double[n];
        if (n > 0)
        {
            Tridiagonalize(u, d, e, n, computeVectors);
            Ql(u, d, e, n, computeVectors);
        }
        // Selection sort keeps the pairing with the vectors (rows of u) and is O(N²), negligible here.
        for (int i = 0; i < n - 1; i++)
        {
            int k = i;
            for (int j = i + 1; j < n; j++) if (d[j] < d[k]) k = j;
            if (k == i) continue;
            (d[i], d[k]) = (d[k], d[i]);
            if (computeVectors)
                for (int c = 0; c < n; c++) (u[i * n + c], u[k * n + c]) = (u[k * n + c], u[i * n + c]);
        }
        Tensor? vectors = null;
        if (computeVectors)
        {
            var q = new double[n * n];
            for (int r = 0; r < n; r++)
                for (int c = 0; c < n; c++) q[r * n + c] = u[c * n + r];
            vectors = Tensor.Wrap(q, new Shape(n, n));
        }
        return new SymmetricEigen(d, vectors);
    }

    /// <summary>The eigenvalues of <paramref name="a"/>, ascending (no vectors).</summary>
    public static double[] Eigenvalues(Tensor a) => Decompose(a, computeVectors: false).Values;

    private static void Tridiagonalize(double[] u, double[] d, double[] e, int n, bool vectors)
    {
        for (int j = 0; j < n; j++) d[j] = u[j * n + n - 1];
        for (int i = n - 1; i > 0; i--)
        {
            double scale = 0, h = 0;
            for (int k = 0; k < i; k++) scale += Math.Abs(d[k]);
            if (scale == 0)
            {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++)
                {
                    d[j] = u[j * n + i - 1];
                    u[j * n + i] = 0;
                    u[i * n + j] = 0;
                }
            }
            else
            {
                // Householder vector, scaled against under/overflow.
                for (int k = 0; k < i; k++)
                {
                    d[k] /= scale;
                    h += d[k] * d[k];
                }
                double f = d[i - 1];
                double g = Math.Sqrt(h);
                if (f > 0) g = -g;
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                Array.Clear(e, 0, i);
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    u[i * n + j] = f;
                    var row = u.AsSpan(j * n, i);
                    g = e[j] + row[j] * f + DenseMatrix.Dot(row[(j + 1)..], d.AsSpan(j + 1, i - j - 1));
                    DenseMatrix.Axpy(e.AsSpan(j + 1, i - j - 1), row[(j + 1)..], f);
                    e[j] = g;
                }
                f = 0;
                for (int j = 0; j < i; j++)
                {
                    e[j] /= h;
                    f += e[j] * d[j];
                }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++) e[j] -= hh * d[j];
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    g = e[j];
                    DenseMatrix.Rank2Update(u.AsSpan(j * n + j, i - j), f, e.AsSpan(j, i - j), g, d.AsSpan(j, i - j));
                    d[j] = u[j * n + i - 1];
                    u[j * n + i] = 0;
                }
            }
            d[i] = h;
        }

        if (!vectors)
        {
            for (int j = 0; j < n; j++) d[j] = u[j * n + j];
            e[0] = 0;
            return;
        }
        // Accumulate the Householder reflections into the orthogonal factor.
        for (int i = 0; i < n - 1; i++)
        {
            u[i * n + n - 1] = u[i * n + i];
            u[i * n + i] = 1;
            double h = d[i + 1];
            var hv = u.AsSpan((i + 1) * n, i + 1);
            if (h != 0)
            {
                for (int k = 0; k <= i; k++) d[k] = hv[k] / h;
                for (int j = 0; j <= i; j++)
                {
                    var row = u.AsSpan(j * n, i + 1);
                    DenseMatrix.Axpy(row, d.AsSpan(0, i + 1), -DenseMatrix.Dot(hv, row));
                }
            }
            hv.Clear();
        }
        for (int j = 0; j < n; j++)
        {
            d[j] = u[j * n + n - 1];
            u[j * n + n - 1] = 0;
        }
        u[n * n - 1] = 1;
        e[0] = 0;
    }

    private static void Ql(double[] u, double[] d, double[] e, int n, bool vectors)
    {
        for (int i = 1; i < n; i++) e[i - 1] = e[i];
        e[n - 1] = 0;
        double f = 0, tst1 = 0;
        const double eps = 2.220446049250313e-16; // 2⁻⁵²
        for (int l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n && Math.Abs(e[m]) > eps * tst1) m++;
            if (m > l)
            {
                int iter = 0;
                do
                {
                    if (++iter > MaxIterationsPerEigenvalue)
                        throw new ArithmeticException($"symmetric eigensolver: QL iteration did not converge for eigenvalue {l} of {n}");
                    // Implicit shift from the leading 2×2 block.
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2 * e[l]);
                    double r = double.Hypot(p, 1);
                    if (p < 0) r = -r;
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= h;
                    f += h;

                    p = d[m];
                    double c = 1, c2 = 1, c3 = 1, el1 = e[l + 1], s = 0, s2 = 0;
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = double.Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        if (vectors)
                        {
                            var ri = u.AsSpan(i * n, n);
                            var ri1 = u.AsSpan((i + 1) * n, n);
                            for (int k = 0; k < n; k++)
                            {
                                double t = ri1[k];
                                ri1[k] = s * ri[k] + c * t;
                                ri[k] = c * ri[k] - s * t;
                            }
                        }
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                } while (Math.Abs(e[l]) > eps * tst1);
            }
            d[l] += f;
            e[l] = 0;
        }
    }
}
