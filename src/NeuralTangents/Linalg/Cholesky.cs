namespace NeuralTangents.Linalg;

/// <summary>
/// Cholesky factorization <c>A = L·Lᵀ</c> of a symmetric positive definite float64 matrix, and solves with it.
/// Only the lower triangle of A is read. Single-threaded, hence bitwise reproducible.
/// </summary>
internal sealed class Cholesky
{
    private readonly double[] _l; // row-major N×N, zero above the diagonal

    /// <summary>Order N of the factored matrix.</summary>
    public int Size { get; }

    private Cholesky(double[] l, int n)
    {
        _l = l;
        Size = n;
    }

    /// <summary>Factors the (N, N) matrix <paramref name="a"/> (any dtype; computed in float64).</summary>
    /// <exception cref="ArgumentException">Not square, or not (numerically) positive definite: the message gives
    /// the failing pivot; a kernel matrix usually needs a ridge.</exception>
    public static Cholesky Factor(Tensor a) => Factor(DenseMatrix.ToRowMajor(a, nameof(a), square: true), a.Shape[0]);

    /// <summary>Factors a row-major N×N matrix, overwriting <paramref name="a"/> with L.</summary>
    internal static Cholesky Factor(double[] a, int n)
    {
        if (a.Length != n * n) throw new ArgumentException($"expected {n}×{n} = {n * n} elements, got {a.Length}", nameof(a));
        // Row-oriented (left-looking): row i of L needs only rows j < i, all dot products run over contiguous rows.
        for (int i = 0; i < n; i++)
        {
            var li = a.AsSpan(i * n, n);
            for (int j = 0; j <= i; j++)
            {
                double s = li[j] - DenseMatrix.Dot(li[..j], a.AsSpan(j * n, j));
                if (j < i)
                {
                    li[j] = s / a[j * n + j];
                }
                else
                {
                    if (!(s > 0) || double.IsInfinity(s))
                        throw new ArgumentException(
                            $"matrix ({n}, {n}) is not positive definite: pivot {i} is {s:G6} (expected > 0); add a ridge (diagonal regularization)", "a");
                    li[i] = Math.Sqrt(s);
                }
            }
            li[(i + 1)..].Clear();
        }
        return new Cholesky(a, n);
    }

    /// <summary>The lower-triangular factor L as an (N, N) float64 tensor.</summary>
    public Tensor Lower => Tensor.Wrap((double[])_l.Clone(), new Shape(Size, Size));

    /// <summary>log det A = 2 Σ log L_ii.</summary>
    public double LogDeterminant
    {
        get
        {
            double s = 0;
            for (int i = 0; i < Size; i++) s += Math.Log(_l[i * Size + i]);
            return 2 * s;
        }
    }

    /// <summary>Solves <c>A·X = B</c> for B of shape (N) or (N, C) (several right-hand sides); returns float64 X of B's shape.</summary>
    /// <exception cref="ArgumentException">B's leading dimension is not N, or B has rank other than 1 or 2.</exception>
    public Tensor Solve(Tensor b)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (b.Rank is not (1 or 2) || b.Shape[0] != Size)
            throw new ArgumentException($"right-hand side must have shape ({Size}) or ({Size}, C) for a ({Size}, {Size}) matrix, got {b.Shape}", nameof(b));
        int c = b.Rank == 2 ? b.Shape[1] : 1;
        var x = b.ToDoubleArray();
        SolveInPlace(x, c);
        return Tensor.Wrap(x, b.Shape);
    }

    /// <summary>Overwrites row-major N×C <paramref name="x"/> (holding B) with A⁻¹·B.</summary>
    internal void SolveInPlace(double[] x, int c)
    {
        int n = Size;
        // Work column by column on a contiguous copy so the substitutions are dot products over rows of L.
        var col = new double[n];
        for (int k = 0; k < c; k++)
        {
            for (int i = 0; i < n; i++) col[i] = x[i * c + k];
            // L·y = b
            for (int i = 0; i < n; i++)
                col[i] = (col[i] - DenseMatrix.Dot(_l.AsSpan(i * n, i), col.AsSpan(0, i))) / _l[i * n + i];
            // Lᵀ·x = y, as column sweeps (axpy over rows of L) to stay contiguous.
            for (int i = n - 1; i >= 0; i--)
            {
                double xi = col[i] / _l[i * n + i];
                col[i] = xi;
                DenseMatrix.Axpy(col.AsSpan(0, i), _l.AsSpan(i * n, i), -xi);
            }
            for (int i = 0; i < n; i++) x[i * c + k] = col[i];
        }
    }
}
