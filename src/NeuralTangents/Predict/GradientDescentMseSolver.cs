using NeuralTangents.Linalg;

namespace NeuralTangents.Predict;

/// <summary>
/// State behind <see cref="Predictors.GradientDescentMse"/>: the regularized training kernel and targets in float64,
/// with the eigendecomposition (finite t) and Cholesky factor (t = ∞) computed lazily, once, thread-safely.
/// All arithmetic is sequential float64, hence reproducible.
/// </summary>
internal sealed class GradientDescentMseSolver
{
    private readonly int _n, _c;
    private readonly double[] _k;   // regularized K, row-major N×N
    private readonly double[] _y;   // N×C
    private readonly double _learningRate;
    private readonly DType _dtype;
    private readonly Lazy<(double[] Values, double[] Vectors)> _eigen;
    private readonly Lazy<Cholesky> _cholesky;

    public GradientDescentMseSolver(Tensor kTrainTrain, Tensor yTrain, double learningRate, double diagReg, bool absolute)
    {
        ArgumentNullException.ThrowIfNull(kTrainTrain);
        ArgumentNullException.ThrowIfNull(yTrain);
        if (kTrainTrain.Rank != 2 || kTrainTrain.Shape[0] != kTrainTrain.Shape[1])
            throw new ArgumentException($"kTrainTrain must be a square matrix (N, N), got shape {kTrainTrain.Shape}", nameof(kTrainTrain));
        _n = kTrainTrain.Shape[0];
        if (yTrain.Rank != 2 || yTrain.Shape[0] != _n)
            throw new ArgumentException($"yTrain must have shape ({_n}, C) to match kTrainTrain {kTrainTrain.Shape}, got {yTrain.Shape}", nameof(yTrain));
        if (!(learningRate > 0) || double.IsInfinity(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, $"learningRate must be positive and finite, got {learningRate}");
        if (!(diagReg >= 0) || double.IsInfinity(diagReg))
            throw new ArgumentOutOfRangeException(nameof(diagReg), diagReg, $"diagReg must be non-negative and finite, got {diagReg}");
        _c = yTrain.Shape[1];
        _learningRate = learningRate;
        _dtype = kTrainTrain.DType;
        _k = kTrainTrain.ToDoubleArray();
        _y = yTrain.ToDoubleArray();
        if (diagReg > 0 && _n > 0)
        {
            double scale = diagReg;
            if (!absolute)
            {
                double trace = 0;
                for (int i = 0; i < _n; i++) trace += _k[i * _n + i];
                scale *= trace / _n;
            }
            for (int i = 0; i < _n; i++) _k[i * _n + i] += scale;
        }
        _eigen = new Lazy<(double[], double[])>(Eigen);
        _cholesky = new Lazy<Cholesky>(() => Cholesky.Factor((double[])_k.Clone(), _n));
    }

    public (Tensor? Train, Tensor? Test) Predict(double t, Tensor? fxTrain0, Tensor? fxTest0, Tensor? kTestTrain)
    {
        if (double.IsNaN(t) || t < 0) throw new ArgumentOutOfRangeException(nameof(t), t, $"training time must be non-negative (or +∞), got {t}");
        if (fxTrain0 is null && fxTest0 is null)
            throw new ArgumentException("both fxTrain0 and fxTest0 are null: nothing to predict", nameof(fxTrain0));
        if (fxTrain0 is not null && (fxTrain0.Rank != 2 || fxTrain0.Shape[0] != _n || fxTrain0.Shape[1] != _c))
            throw new ArgumentException($"fxTrain0 must have shape ({_n}, {_c}) like yTrain, got {fxTrain0.Shape}", nameof(fxTrain0));
        int m = 0;
        if (fxTest0 is not null)
        {
            if (kTestTrain is null)
                throw new ArgumentException("kTestTrain is required to predict the test set (fxTest0 is not null)", nameof(kTestTrain));
            if (fxTest0.Rank != 2 || fxTest0.Shape[1] != _c)
                throw new ArgumentException($"fxTest0 must have shape (M, {_c}), got {fxTest0.Shape}", nameof(fxTest0));
            m = fxTest0.Shape[0];
            if (kTestTrain.Rank != 2 || kTestTrain.Shape[0] != m || kTestTrain.Shape[1] != _n)
                throw new ArgumentException($"kTestTrain must have shape ({m}, {_n}) for fxTest0 {fxTest0.Shape} and kTrainTrain ({_n}, {_n}), got {kTestTrain.Shape}", nameof(kTestTrain));
        }

        var f0 = fxTrain0?.ToDoubleArray() ?? new double[_n * _c];
        Tensor? train = null, test = null;
        if (double.IsPositiveInfinity(t))
        {
            if (fxTrain0 is not null) train = Wrap((double[])_y.Clone(), _n, _c);
            if (fxTest0 is not null)
            {
                var rhs = new double[_n * _c];
                for (int i = 0; i < rhs.Length; i++) rhs[i] = _y[i] - f0[i];
                _cholesky.Value.SolveInPlace(rhs, _c);
                test = Wrap(AddProduct(fxTest0.ToDoubleArray(), kTestTrain!.ToDoubleArray(), rhs, m), m, _c);
            }
            return (train, test);
        }

        double tau = t * _learningRate, norm = (double)_n * _c;
        var (values, vectors) = _eigen.Value;
        // w = Vᵀ(f₀ − y), one row per eigenvector.
        var r = new double[_n * _c];
        for (int i = 0; i < r.Length; i++) r[i] = f0[i] - _y[i];
        var w = new double[_n * _c];
        for (int i = 0; i < _n; i++)
        {
            var vi = vectors.AsSpan(i * _n, _n);   // eigenvector i (stored as a row)
            for (int k = 0; k < _n; k++)
            {
                double v = vi[k];
                if (v == 0) continue;
                for (int j = 0; j < _c; j++) w[i * _c + j] += v * r[k * _c + j];
            }
        }
        if (fxTrain0 is not null)
        {
            var scaled = Scale(w, i => Expm1(-Math.Max(values[i], 0) * tau / norm));
            train = Wrap(AddProduct(f0, null, Back(scaled, vectors), _n), _n, _c);
        }
        if (fxTest0 is not null)
        {
            var scaled = Scale(w, i =>
            {
                double lambda = Math.Max(values[i], 0);
                return lambda > 0 ? Expm1(-lambda * tau / norm) / Math.Abs(values[i]) : -tau / norm;
            });
            test = Wrap(AddProduct(fxTest0.ToDoubleArray(), kTestTrain!.ToDoubleArray(), Back(scaled, vectors), m), m, _c);
        }
        return (train, test);
    }

    private double[] Scale(double[] w, Func<int, double> factor)
    {
        var s = new double[w.Length];
        for (int i = 0; i < _n; i++)
        {
            double f = factor(i);
            for (int j = 0; j < _c; j++) s[i * _c + j] = f * w[i * _c + j];
        }
        return s;
    }

    /// <summary>V·s (N×C) with V's columns stored as the rows of <paramref name="vectors"/>.</summary>
    private double[] Back(double[] s, double[] vectors)
    {
        var u = new double[_n * _c];
        for (int i = 0; i < _n; i++)
        {
            var vi = vectors.AsSpan(i * _n, _n);
            for (int k = 0; k < _n; k++)
            {
                double v = vi[k];
                for (int j = 0; j < _c; j++) u[k * _c + j] += v * s[i * _c + j];
            }
        }
        return u;
    }

    /// <summary><c>baseValues + A·u</c> for A of shape (rows, N) (identity when null) and u of shape (N, C).</summary>
    private double[] AddProduct(double[] baseValues, double[]? a, double[] u, int rows)
    {
        var result = (double[])baseValues.Clone();
        if (a is null)
        {
            for (int i = 0; i < result.Length; i++) result[i] += u[i];
            return result;
        }
        var uT = new double[_c * _n];
        for (int k = 0; k < _n; k++)
            for (int j = 0; j < _c; j++) uT[j * _n + k] = u[k * _c + j];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < _c; j++)
                result[i * _c + j] += DenseMatrix.Dot(a.AsSpan(i * _n, _n), uT.AsSpan(j * _n, _n));
        return result;
    }

    private (double[], double[]) Eigen()
    {
        var e = SymmetricEigen.Decompose(Tensor.Wrap((double[])_k.Clone(), new Shape(_n, _n)));
        // Transpose Q so eigenvector i is the contiguous row i.
        var q = e.Vectors!.ToDoubleArray();
        var rows = new double[_n * _n];
        for (int r = 0; r < _n; r++)
            for (int c = 0; c < _n; c++) rows[c * _n + r] = q[r * _n + c];
        return (e.Values, rows);
    }

    /// <summary>eˣ − 1 to a few ulps for small |x| (Kahan's trick; .NET's ExpM1 is exp(x) − 1).</summary>
    internal static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1) return x;
        double um1 = u - 1;
        if (um1 == -1) return -1;
        return um1 * x / Math.Log(u);
    }

    private Tensor Wrap(double[] data, int rows, int cols) => Tensor.Wrap(data, new Shape(rows, cols)).AsType(_dtype);
}
