using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;
using static NeuralTangents.Tests.Taylor.TaylorTestUtil;
using static NeuralTangents.Tests.TestUtil;
using NtEmpirical = NeuralTangents.Empirical;

namespace NeuralTangents.Tests.Taylor;

/// <summary>
/// Neural Tangents' <c>testLinearization</c> / <c>testTaylorExpansion</c> (<c>EmpiricalTest</c>): a function with a quadratic, a
/// linear and a constant output leaf, expanded in x (x plays the parameters; w1, w2, b are ordinary inputs).
/// </summary>
public class NtLinearizationTests
{
    /// <summary>_f(x, w1, w2, b): ([½·xsᵀw1xs + w2·xs + b] (n, n), w1·xs (n, 1), w2 (n, n)).</summary>
    private static MultiApplyFn F(bool doAlter, bool doShiftX) => (p, ins) =>
    {
        var x = p["x"];
        var (w1, w2, b) = (ins[0], ins[1], ins[2]);
        var xs = doShiftX ? x * 2.0 + 1.0 : x;
        if (doAlter)
        {
            b = b * 2.0;
            w1 = w1 + 5.0;
            w2 = w2 / 0.9;
        }
        var xsT = Lax.Transpose(xs, 1, 0);
        var quadratic = Np.Dot(Np.Dot(xsT, w1), xs) * 0.5 + Np.Dot(w2, xs) + b;
        return new[] { quadratic, Np.Dot(w1, xs), w2 };
    };

    public static IEnumerable<object[]> Cases() =>
        from n in new[] { 3, 4 } from alter in new[] { false, true } from shift in new[] { false, true }
        select new object[] { n, alter, shift };

    [Theory]
    [MemberData(nameof(Cases))]
    public void LinearizationAndDegreeTwoMatchClosedForms(int n, bool doAlter, bool doShiftX)
    {
        var rng = new Random(n * 4 + (doAlter ? 2 : 0) + (doShiftX ? 1 : 0));
        var a = Normal(rng, n, n).ToDoubleArray();
        var w1 = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) w1[i * n + j] = (a[i * n + j] + a[j * n + i]) / 2;
        var w2 = Normal(rng, n, n).ToDoubleArray();
        var b = Normal(rng, 1, n).ToDoubleArray();
        var x0 = Normal(rng, n, 1).ToDoubleArray();
        var inputs = new[] { T(w1, n, n), T(w2, n, n), T(b, 1, n) };
        var f = F(doAlter, doShiftX);
        var p0 = P(("x", T(x0, n, 1)));
        var lin = NtEmpirical.Linearize(f, p0);
        var t1 = NtEmpirical.TaylorExpand(f, p0, 1);
        var t2 = NtEmpirical.TaylorExpand(f, p0, 2);

        // The closed forms, in plain double arithmetic.
        var (aw1, aw2, ab) = doAlter
            ? (w1.Select(v => v + 5).ToArray(), w2.Select(v => v / 0.9).ToArray(), b.Select(v => 2 * v).ToArray())
            : (w1, w2, b);
        double[] Shift(double[] x) => doShiftX ? x.Select(v => 2 * v + 1).ToArray() : x;
        double Quad(double[] u, double[] v) { double s = 0; for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) s += u[i] * aw1[i * n + j] * v[j]; return s; }
        double[] MatVec(double[] m, double[] v) => Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Sum(j => m[i * n + j] * v[j])).ToArray();
        var x0s = Shift(x0);
        var f0Quad = new double[n * n];
        var w2x0 = MatVec(aw2, x0s);
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) f0Quad[i * n + j] = 0.5 * Quad(x0s, x0s) + w2x0[i] + ab[j];

        for (int trial = 0; trial < 10; trial++)
        {
            var x = Normal(rng, n, 1).ToDoubleArray();
            var dxs = Shift(x).Zip(x0s, (u, v) => u - v).ToArray();
            var p = P(("x", T(x, n, 1)));
            var w2dx = MatVec(aw2, dxs);
            double cross = Quad(x0s, dxs), second = 0.5 * Quad(dxs, dxs);
            var quadLin = new double[n * n];
            var quad2 = new double[n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    quadLin[i * n + j] = f0Quad[i * n + j] + cross + w2dx[i];
                    quad2[i * n + j] = quadLin[i * n + j] + second;
                }
            var linear = MatVec(aw1, Shift(x));

            var yExact = Eval(f, p, inputs);
            var yLin = Eval(lin, p, inputs);
            var y1 = Eval(t1, p, inputs);
            var y2 = Eval(t2, p, inputs);
            AssertClose(quadLin, yLin[0].ToDoubleArray(), 1e-12, 1e-11, "quadratic (linearize)");
            AssertClose(linear, yLin[1].ToDoubleArray(), 1e-12, 1e-11, "linear (linearize)");
            AssertClose(aw2, yLin[2].ToDoubleArray(), 0, 0, "w2 (linearize)");
            Assert.Equal(yLin.Select(t => t.ToDoubleArray()), y1.Select(t => t.ToDoubleArray()));
            AssertClose(quad2, y2[0].ToDoubleArray(), 1e-12, 1e-11, "quadratic (degree 2)");
            AssertClose(linear, y2[1].ToDoubleArray(), 1e-12, 1e-11, "linear (degree 2)");
            AssertClose(aw2, y2[2].ToDoubleArray(), 0, 0, "w2 (degree 2)");
            // Degree 2 is exact for this function.
            for (int k = 0; k < 3; k++) AssertClose(yExact[k], y2[k], 1e-12, 1e-11);
        }
    }
}
