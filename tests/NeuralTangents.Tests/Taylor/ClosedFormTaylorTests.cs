using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;
using static NeuralTangents.Tests.Taylor.TaylorTestUtil;
using static NeuralTangents.Tests.TestUtil;
using NtEmpirical = NeuralTangents.Empirical;

namespace NeuralTangents.Tests.Taylor;

/// <summary>Closed forms of <c>nt.taylor_expand</c> (docs/conventions.md#taylor) and a bilinear model: Taylor polynomials by nested JVPs, degrees 0…6.</summary>
public class ClosedFormTaylorTests
{
    private static readonly Tensor Scalar1 = Tensor.FromArray(new[] { 1.0 }, new Shape(1));

    [Theory]
    [InlineData(0, 3.0)]
    [InlineData(1, 9.0)]
    [InlineData(2, 12.0)]
    [InlineData(3, 12.0)]
    public void SquareTimesXAtOne(int degree, double expected)
    {
        // f(p, x) = p²·x around p0 = 1, x = 3, evaluated at p = 2 (f = 12).
        ApplyFn f = (p, x) => p["p"] * p["p"] * x;
        var fT = NtEmpirical.TaylorExpand(f, P(("p", Scalar1)), degree);
        var y = Eval(fT, P(("p", T(new[] { 2.0 }, 1))), T(new[] { 3.0 }, 1));
        Assert.Equal(expected, y[0], 1e-15);
    }

    [Fact]
    public void LinearizeOfSquareTimesXIsNine()
    {
        ApplyFn f = (p, x) => p["p"] * p["p"] * x;
        var fLin = NtEmpirical.Linearize(f, P(("p", Scalar1)));
        Assert.Equal(9.0, Eval(fLin, P(("p", T(new[] { 2.0 }, 1))), T(new[] { 3.0 }, 1))[0], 1e-15);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(1, 2.0)]
    [InlineData(2, 2.5)]
    [InlineData(3, 8.0 / 3)]
    [InlineData(6, 1 + 1 + 1 / 2.0 + 1 / 6.0 + 1 / 24.0 + 1 / 120.0 + 1 / 720.0)]
    public void ExpAtZero(int degree, double expected)
    {
        ApplyFn f = (p, x) => Lax.Exp(p["p"]) * x;
        var fT = NtEmpirical.TaylorExpand(f, P(("p", T(new[] { 0.0 }, 1))), degree);
        Assert.Equal(expected, Eval(fT, P(("p", T(new[] { 1.0 }, 1))), T(new[] { 1.0 }, 1))[0], 1e-14);
    }

    [Fact]
    public void BilinearModelIsExactAtDegreeTwoNotOne()
    {
        // f = x·w1·w2: D²f[Δ,Δ]/2 = x·Δ1·Δ2, the only term the linearization misses.
        var rng = new Random(5);
        ApplyFn f = (p, x) => Np.Dot(Np.Dot(x, p["w1"]), p["w2"]);
        var x = Normal(rng, 4, 3);
        var p0 = P(("w1", Normal(rng, 3, 5)), ("w2", Normal(rng, 5, 2)));
        var p = P(("w1", Normal(rng, 3, 5)), ("w2", Normal(rng, 5, 2)));
        var d = P(("w1", Sub(p["w1"], p0["w1"])), ("w2", Sub(p["w2"], p0["w2"])));
        Tensor F(Tensor w1, Tensor w2) => Eval(f, P(("w1", w1), ("w2", w2)), x);

        var exact = F(p["w1"], p["w2"]);
        var linear = Add(Add(F(p0["w1"], p0["w2"]), F(d["w1"], p0["w2"])), F(p0["w1"], d["w2"]));
        var t1 = Eval(NtEmpirical.TaylorExpand(f, p0, 1), p, x);
        var t2 = Eval(NtEmpirical.TaylorExpand(f, p0, 2), p, x);
        var t4 = Eval(NtEmpirical.TaylorExpand(f, p0, 4), p, x);
        AssertClose(linear, t1, 1e-12, 1e-12);
        AssertClose(exact, t2, 1e-12, 1e-12);
        AssertClose(exact, t4, 1e-12, 1e-12);
        // The missing term x·Δ1·Δ2 is O(1) here, so degree 1 is far from exact.
        Assert.True(MaxAbsDiff(exact, t1) > 0.5, $"degree 1 unexpectedly close: {MaxAbsDiff(exact, t1)}");
    }

    [Fact]
    public void NegativeDegreeThrows()
    {
        ApplyFn f = (p, x) => p["p"] * x;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => NtEmpirical.TaylorExpand(f, P(("p", Scalar1)), -1));
        Assert.Equal("degree", e.ParamName);
        MultiApplyFn g = (p, xs) => xs;
        Assert.Throws<ArgumentOutOfRangeException>(() => NtEmpirical.TaylorExpand(g, P(("p", Scalar1)), -3));
    }

    [Fact]
    public void ParameterOfAnotherShapeIsRejectedAtTraceTime()
    {
        ApplyFn f = (p, x) => p["p"] * x;
        var fLin = NtEmpirical.Linearize(f, P(("p", Scalar1)));
        var e = Assert.Throws<ArgumentException>(() => Eval(fLin, P(("p", T(new[] { 1.0, 2 }, 2))), T(new[] { 1.0, 2 }, 2)));
        Assert.Contains("'p'", e.Message);
    }

    private static Tensor Sub(Tensor a, Tensor b) => Tensor.FromArray(a.ToDoubleArray().Zip(b.ToDoubleArray(), (u, v) => u - v).ToArray(), a.Shape);
    private static Tensor Add(Tensor a, Tensor b) => Tensor.FromArray(a.ToDoubleArray().Zip(b.ToDoubleArray(), (u, v) => u + v).ToArray(), a.Shape);
}
