using FsCheck;
using FsCheck.Fluent;
using NeuralTangents.Implementations;
using NeuralTangents.Linalg;

namespace NeuralTangents.Testing;

/// <summary>
/// FsCheck properties of empirical kernels (<see cref="Empirical.KernelFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/>)
/// on a <see cref="NetworkCase"/>. Each returns a <see cref="Property"/> labelled with what failed and the case as
/// an <c>nt kernel --net …</c> command line; with <see cref="NetworkGen.Arbitrary"/> FsCheck shrinks a failure to
/// the smallest failing network. Tolerances are relative to the largest |entry| (or |eigenvalue|) of the kernel;
/// the defaults suit float64 (float32 cases need about 1e-5).
/// </summary>
public static class KernelProperties
{
    /// <summary>With x2 = null (x2 = x1) the NNGP and NTK are symmetric: |K − Kᵀ| ≤ tolerance·max|K| (x2 and
    /// batch-diagonal settings of the case are ignored).</summary>
    public static Property Symmetric(NetworkCase c, double tolerance = 1e-12, NtkImplementation implementation = NtkImplementation.Auto)
    {
        ArgumentNullException.ThrowIfNull(c);
        foreach (var (name, k) in SameInputKernels(c, implementation))
            foreach (var m in Matrices(c, k))
            {
                double scale = MaxAbs(m.Data);
                for (int i = 0; i < m.Rows; i++)
                    for (int j = 0; j < i; j++)
                        if (Math.Abs(m.Data[i * m.Rows + j] - m.Data[j * m.Rows + i]) > tolerance * scale)
                            return Fail(c, $"{name} not symmetric at ({i},{j}): {m.Data[i * m.Rows + j]:R} vs {m.Data[j * m.Rows + i]:R} (max|K| {scale:G3})");
            }
        return true.ToProperty();
    }

    /// <summary>With x2 = null the NNGP and NTK are positive semi-definite: λ_min ≥ −tolerance·max|λ|.</summary>
    public static Property Psd(NetworkCase c, double tolerance = 1e-10, NtkImplementation implementation = NtkImplementation.Auto)
    {
        ArgumentNullException.ThrowIfNull(c);
        foreach (var (name, k) in SameInputKernels(c, implementation))
            foreach (var m in Matrices(c, k))
            {
                // Symmetrise first: rounding asymmetry is Symmetric's business, not this property's.
                var s = new double[m.Data.Length];
                for (int i = 0; i < m.Rows; i++)
                    for (int j = 0; j < m.Rows; j++) s[i * m.Rows + j] = 0.5 * (m.Data[i * m.Rows + j] + m.Data[j * m.Rows + i]);
                var eig = SymmetricEigen.Eigenvalues(Tensor.FromArray(s, new Shape(m.Rows, m.Rows)));
                double scale = eig.Max(Math.Abs);
                if (eig[0] < -tolerance * scale)
                    return Fail(c, $"{name} not PSD: λ_min = {eig[0]:G4}, max|λ| = {scale:G4}");
            }
        return true.ToProperty();
    }

    /// <summary>JacobianContraction, NtkVectorProducts and StructuredDerivatives give the same NTK for the case's
    /// inputs and axes: max|K_a − K_b| ≤ tolerance·max|K|.</summary>
    public static Property ImplementationsAgree(NetworkCase c, double tolerance = 1e-10)
    {
        ArgumentNullException.ThrowIfNull(c);
        var impls = new[] { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives };
        var p = c.Params; var x1 = c.X1; var x2 = c.X2;
        var ks = impls.Select(i => Empirical.NtkFn(c.Network.Apply, c.TraceAxes, c.DiagonalAxes, c.VmapAxes, i)(x1, x2, p).ToDoubleArray()).ToArray();
        double scale = MaxAbs(ks[0]);
        for (int a = 1; a < ks.Length; a++)
            for (int e = 0; e < ks[0].Length; e++)
                if (Math.Abs(ks[a][e] - ks[0][e]) > tolerance * scale)
                    return Fail(c, $"{impls[a]} differs from {impls[0]} at flat index {e}: {ks[a][e]:R} vs {ks[0][e]:R} (max|K| {scale:G3})");
        return true.ToProperty();
    }

    /// <summary>
    /// The NTK equals Σ_p ∂f(x1)/∂θ_p · ∂f(x2)/∂θ_p with the Jacobian from central finite differences (step
    /// <paramref name="step"/> on every parameter; float64 only), and the NNGP equals f(x1)·f(x2)ᵀ, both reduced
    /// over the case's trace (mean) and diagonal axes: max|K − K_fd| ≤ tolerance·max|K|. An independent slow path:
    /// 2·P forward passes per input.
    /// </summary>
    /// <exception cref="ArgumentException">A float32 case (differences would drown in rounding).</exception>
    public static Property MatchesFiniteDifferences(NetworkCase c, double tolerance = 1e-6, double step = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.DType != DType.Float64) throw new ArgumentException("finite differences need a float64 case", nameof(c));
        var p = c.Params; var x1 = c.X1; var x2 = c.X2 ?? x1;
        var f = new TracedApply(c.Network.Apply);
        var (f1, j1) = Jacobian(f, p, x1, step);
        var (f2, j2) = Jacobian(f, p, x2, step);
        var kernels = Empirical.KernelFn(c.Network.Apply, c.TraceAxes, c.DiagonalAxes, c.VmapAxes, NtkImplementation.JacobianContraction)(c.X1, c.X2, null, p);
        foreach (var (name, k, expected) in new[] { ("NTK", kernels.Ntk!, Reduce(c, j1, j2)), ("NNGP", kernels.Nngp!, Reduce(c, f1, f2)) })
        {
            var actual = k.ToDoubleArray();
            if (actual.Length != expected.Length) return Fail(c, $"{name} has {actual.Length} entries, expected {expected.Length}");
            double scale = Math.Max(MaxAbs(actual), 1e-300);
            for (int e = 0; e < actual.Length; e++)
                if (Math.Abs(actual[e] - expected[e]) > tolerance * scale)
                    return Fail(c, $"{name} differs from finite differences at flat index {e}: {actual[e]:R} vs {expected[e]:R} (max|K| {scale:G3})");
        }
        return true.ToProperty();
    }

    private static Property Fail(NetworkCase c, string what) => false.Label($"{what}; smallest failing case so far: {c}");

    private static double MaxAbs(double[] a) => a.Length == 0 ? 0 : a.Max(Math.Abs);

    private static IEnumerable<(string Name, Tensor K)> SameInputKernels(NetworkCase c, NtkImplementation implementation)
    {
        var same = c with { Batch2 = null, DiagonalAxes = c.DiagonalAxes.Where(a => a != 0).ToArray() };
        var k = Empirical.KernelFn(same.Network.Apply, same.TraceAxes, same.DiagonalAxes, same.VmapAxes, implementation)(same.X1, null, null, same.Params);
        yield return ("NNGP", k.Nngp!);
        yield return ("NTK", k.Ntk!);
    }

    /// <summary>The square matrices of a same-input kernel: (N, N); (N·O, N·O) indexed (n, o) for (N, N, O, O);
    /// one (N, N) per logit for (N, N, O).</summary>
    private static IEnumerable<(double[] Data, int Rows)> Matrices(NetworkCase c, Tensor k)
    {
        var d = k.ToDoubleArray();
        int n = k.Shape[0];
        if (k.Rank == 2) { yield return (d, n); yield break; }
        int o = k.Shape[2];
        if (k.Rank == 3)
        {
            for (int l = 0; l < o; l++)
            {
                var m = new double[n * n];
                for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) m[a * n + b] = d[(a * n + b) * o + l];
                yield return (m, n);
            }
            yield break;
        }
        var full = new double[n * o * n * o];
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
                for (int i = 0; i < o; i++)
                    for (int j = 0; j < o; j++)
                        full[(a * o + i) * (n * o) + b * o + j] = d[((a * n + b) * o + i) * o + j];
        yield return (full, n * o);
    }

    /// <summary>f(x) as (N, O, 1) and its (N, O, P) Jacobian by central differences.</summary>
    private static (double[,,] F, double[,,] J) Jacobian(TracedApply f, Params p, Tensor x, double h)
    {
        var y0 = f.Evaluate(p, x);
        int n = y0.Shape[0], o = y0.Shape[1];
        var y = y0.ToDoubleArray();
        var fv = new double[n, o, 1];
        for (int a = 0; a < n; a++) for (int i = 0; i < o; i++) fv[a, i, 0] = y[a * o + i];
        int total = (int)p.ParameterCount, col = 0;
        var j = new double[n, o, total];
        foreach (var name in p.Keys.ToArray())
        {
            var theta = p[name].ToDoubleArray();
            var shape = p[name].Shape;
            for (int e = 0; e < theta.Length; e++, col++)
            {
                double saved = theta[e];
                theta[e] = saved + h;
                var plus = f.Evaluate(With(p, name, Tensor.FromArray(theta, shape)), x).ToDoubleArray();
                theta[e] = saved - h;
                var minus = f.Evaluate(With(p, name, Tensor.FromArray(theta, shape)), x).ToDoubleArray();
                theta[e] = saved;
                for (int a = 0; a < n; a++) for (int i = 0; i < o; i++) j[a, i, col] = (plus[a * o + i] - minus[a * o + i]) / (2 * h);
            }
        }
        return (fv, j);
    }

    private static Params With(Params p, string name, Tensor value) =>
        new(p.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Key == name ? value : kv.Value)));

    /// <summary>Σ_p A[n1,o1,p]·B[n2,o2,p] reduced over the case's axes, flattened row-major like the kernel.</summary>
    private static double[] Reduce(NetworkCase c, double[,,] a, double[,,] b)
    {
        int n1 = a.GetLength(0), n2 = b.GetLength(0), o = a.GetLength(1), q = a.GetLength(2);
        double Dot(int x, int i, int y, int j)
        {
            double s = 0;
            for (int t = 0; t < q; t++) s += a[x, i, t] * b[y, j, t];
            return s;
        }
        var r = new List<double>();
        bool trace = c.TraceAxes.Length == 1, diag = c.DiagonalAxes.Length == 1;
        for (int x = 0; x < n1; x++)
            for (int y = 0; y < n2; y++)
                if (trace)
                {
                    double s = 0;
                    for (int i = 0; i < o; i++) s += Dot(x, i, y, i);
                    r.Add(s / o);
                }
                else if (diag)
                    for (int i = 0; i < o; i++) r.Add(Dot(x, i, y, i));
                else
                    for (int i = 0; i < o; i++) for (int j = 0; j < o; j++) r.Add(Dot(x, i, y, j));
        return r.ToArray();
    }
}
