using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;
using static NeuralTangents.Tests.StaxLayers.StaxTestUtil;

namespace NeuralTangents.Tests.StaxLayers;

/// <summary>Every nonlinearity against closed forms / hand-computed values (float64).</summary>
public class NonlinearityTests
{
    private static readonly double[] Xs = { -2.0, -0.5, 0.0, 0.3, 1.0, 2.0 };

    // erf and Φ values (Python math.erf): erf(x) for x in Xs, Φ(x) = (1 + erf(x/√2))/2.
    private static readonly Dictionary<double, double> Erf = new()
    {
        [-2.0] = -0.9953222650189527, [-0.5] = -0.5204998778130465, [0.0] = 0.0, [0.3] = 0.3286267594591274, [1.0] = 0.8427007929497149, [2.0] = 0.9953222650189527,
    };
    private static readonly Dictionary<double, double> Phi = new()
    {
        [-2.0] = 0.02275013194817921, [-0.5] = 0.3085375387259869, [0.0] = 0.5, [0.3] = 0.6179114221889526, [1.0] = 0.8413447460685429, [2.0] = 0.9772498680518208,
    };

    public static IEnumerable<object[]> Cases() => new (string, Layer, Func<double, double>)[]
    {
        ("ABRelu(-0.5,2)", ABRelu(-0.5, 2), x => x < 0 ? -0.5 * x : 2 * x),
        ("LeakyRelu(0.1)", LeakyRelu(0.1), x => x < 0 ? 0.1 * x : x),
        ("Abs", Abs(), Math.Abs),
        ("Relu", Relu(), x => Math.Max(x, 0)),
        ("Tanh", Tanh(), Math.Tanh),
        ("Sign", Sign(), x => Math.Sign(x)),
        ("Cos(2,0.5,0.1)", Cos(2, 0.5, 0.1), x => 2 * Math.Cos(0.5 * x + 0.1)),
        ("Sin", Sin(), Math.Sin),
        ("Exp(1.5,-0.5)", Exp(1.5, -0.5), x => 1.5 * Math.Exp(-0.5 * x)),
        ("Gaussian", Gaussian(), x => Math.Exp(-x * x)),
        ("Gaussian(2,-0.5)", Gaussian(2, -0.5), x => 2 * Math.Exp(-0.5 * x * x)),
        ("Rbf(0.5)", Rbf(0.5), x => Math.Sqrt(2) * Math.Sin(x + Math.PI / 4)),
        ("Monomial(3)", Monomial(3), x => x * x * x),
        ("Monomial(0)", Monomial(0), x => 1),
        ("RectifiedMonomial(2)", RectifiedMonomial(2), x => x >= 0 ? x * x : 0),
        ("RectifiedMonomial(0)", RectifiedMonomial(0), x => x >= 0 ? 1 : 0),
        ("Polynomial(1,-2,0,0.5)", Polynomial(new[] { 1, -2, 0, 0.5 }), x => 1 - 2 * x + 0.5 * x * x * x),
        ("Hermite(3)", Hermite(3), x => (x * x * x - 3 * x) / Math.Sqrt(6)),
        ("Hermite(4)", Hermite(4), x => (Math.Pow(x, 4) - 6 * x * x + 3) / Math.Sqrt(24)),
        ("Hermite(0)", Hermite(0), x => 1),
        ("Erf(2,1,0.5)", Erf(2, 1, 0.5), x => 2 * Erf[x] + 0.5),
        ("Sigmoid_like", Sigmoid_like(), x => double.NaN),                 // checked separately below
        ("Gelu", Gelu(), x => x * Phi[x]),
        ("Gelu(approximate)", Gelu(approximate: true), x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))),
        ("Elementwise(x*sin x)", Elementwise(x => x * Lax.Sin(x), "xsinx"), x => x * Math.Sin(x)),
    }.Select(c => new object[] { c.Item1, c.Item2, c.Item3 });

    [Theory, MemberData(nameof(Cases))]
    public void ValuesMatchClosedForms(string name, Layer layer, Func<double, double> f)
    {
        var x = TestUtil.T(Xs, 2, 3);
        var y = Run1(layer, new Params(), x).ToDoubleArray();
        if (name == "Sigmoid_like")
        {
            // 0.5·erf(x/2.4020563531719796) + 0.5 at x = 0 and its antisymmetry about (0, 0.5); erf(1) at x = 2.4020563531719796.
            Assert.Equal(0.5, y[2], 15);
            var at = Run1(layer, new Params(), TestUtil.T(new[] { 2.4020563531719796, -2.4020563531719796 }, 2)).ToDoubleArray();
            Assert.Equal(0.5 * Erf[1.0] + 0.5, at[0], 14);
            Assert.Equal(1, at[0] + at[1], 14);
            return;
        }
        TestUtil.AssertClose(Xs.Select(f).ToArray(), y, 1e-14, 1e-15, name);
    }

    [Fact]
    public void HermitePolynomialsAreOrthonormalUnderTheGaussian()
    {
        // Gauss–Hermite(e) quadrature with 20 nodes is exact for degree ≤ 39: E[Heₘ Heₙ]/√(m! n!) = δₘₙ.
        var (nodes, weights) = ProbabilistsGaussHermite(20);
        for (int m = 0; m <= 6; m++)
            for (int n = 0; n <= 6; n++)
            {
                var cm = NeuralTangents.Stax.Stax.HermiteCoefficients(m); var cn = NeuralTangents.Stax.Stax.HermiteCoefficients(n);
                double e = nodes.Select((t, i) => weights[i] * Poly(cm, t) * Poly(cn, t)).Sum();
                Assert.Equal(m == n ? 1 : 0, e, 10);
            }
    }

    private static double Poly(double[] c, double x) => c.Select((v, i) => v * Math.Pow(x, i)).Sum();

    /// <summary>Nodes and weights for E over N(0, 1) by Golub–Welsch on the Heₙ recurrence (Jacobi eigenproblem).</summary>
    private static (double[], double[]) ProbabilistsGaussHermite(int n)
    {
        var a = new double[n, n];
        for (int i = 1; i < n; i++) a[i, i - 1] = a[i - 1, i] = Math.Sqrt(i);
        var (nodes, v) = TestUtil.JacobiEigen(a);
        return (nodes, Enumerable.Range(0, n).Select(i => v[0, i] * v[0, i]).ToArray());
    }

    [Fact]
    public void ElementwiseMustKeepTheShape()
    {
        var e = Assert.Throws<ArgumentException>(() => Run1(Elementwise(x => Np.Sum(x), "sum"), new Params(), TestUtil.T(Xs, 6)));
        Assert.Contains("sum: the function must keep the shape", e.Message);
    }
}
