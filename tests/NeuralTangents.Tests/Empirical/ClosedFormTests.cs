using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Stax;
using static NeuralTangents.Tests.TestUtil;

namespace NeuralTangents.Tests.Empirical;

/// <summary>Hand-derived closed forms of the NNGP and NTK and a numeric example of the kernel layout's axis order
/// (docs/conventions.md#kernel-layout), float64, exact up to rounding.</summary>
public class ClosedFormTests
{
    private const double Tol = 1e-14;

    [Theory]
    [InlineData(1.0, null, 0.5)]
    [InlineData(2.0, 0.5, 2.25)]
    public void SingleDenseNtkIsScaledDotProductPlusBiasVariance(double wStd, double? bStd, double expected)
    {
        var net = Stax.Stax.Dense(3, wStd, bStd);
        var (_, p) = net.Init(0, new Shape(1, 2));
        var x1 = T(new[] { 1.0, 2 }, 1, 2);
        var x2 = T(new[] { 3.0, -1 }, 1, 2);
        var k = NeuralTangents.Empirical.NtkFn(net.Apply, implementation: TestDefaults.Ntk)(x1, x2, p);
        Assert.Equal(new Shape(1, 1), k.Shape);
        Assert.Equal(expected, k[0, 0], Tol);

        // trace_axes=() gives expected·I₃ laid out (N1, N2, 3, 3).
        var full = NeuralTangents.Empirical.NtkFn(net.Apply, traceAxes: Array.Empty<int>(), implementation: TestDefaults.Ntk)(x1, x2, p);
        Assert.Equal(new Shape(1, 1, 3, 3), full.Shape);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(i == j ? expected : 0.0, full[0, 0, i, j], Tol);
    }

    [Fact]
    public void TwoLayerReluNetHasHandComputedNngpAndNtk()
    {
        var net = Stax.Stax.Serial(Stax.Stax.Dense(2), Stax.Stax.Relu(), Stax.Stax.Dense(1));
        var p = new Params
        {
            { "0.W", T(new[] { 1.0, -1 }, 1, 2) },
            { "2.W", T(new[] { 1.0, 2 }, 2, 1) },
        };
        var x = T(new[] { 1.0, 2 }, 2, 1);
        var kernels = NeuralTangents.Empirical.KernelFn(net.Apply, implementation: TestDefaults.Ntk)(x, null, null, p);
        AssertClose(new[] { 0.5, 1, 1, 2 }, kernels.Nngp!.ToDoubleArray(), Tol);
        AssertClose(new[] { 1.0, 2, 2, 4 }, kernels.Ntk!.ToDoubleArray(), Tol);
        Assert.Equal(KernelKind.Nngp, kernels.Items[0].Kind);
    }

    [Fact]
    public void OneDimensionalConvNtkIsPatchGram()
    {
        var net = Stax.Stax.Conv(2, new[] { 2 });
        var (_, p) = net.Init(3, new Shape(1, 3, 1));
        var x1 = T(new[] { 1.0, 2, 3 }, 1, 3, 1);
        var x2 = T(new[] { 0.0, 1, -1 }, 1, 3, 1);
        var k = NeuralTangents.Empirical.NtkFn(net.Apply, implementation: TestDefaults.Ntk)(x1, x2, p);
        Assert.Equal(new Shape(1, 1, 2, 2), k.Shape);
        AssertClose(new[] { 1, -0.5, 1.5, -0.5 }, k.ToDoubleArray(), Tol);
        var kd = NeuralTangents.Empirical.NtkFn(net.Apply, diagonalAxes: new[] { 1 }, implementation: TestDefaults.Ntk)(x1, x2, p);
        Assert.Equal(new Shape(1, 1, 2), kd.Shape);
        AssertClose(new[] { 1, -0.5 }, kd.ToDoubleArray(), Tol);
    }

    private static readonly ApplyFn Scaled = (p, x) => x * p["s"];
    private static readonly Params One = new() { { "s", Tensor.Scalar(1) } };

    [Fact]
    public void NngpOrderingExampleOfSection2_6()
    {
        var a = T(new[] { 1.0, 2, 3, 4 }, 2, 2);
        var b = T(new[] { 5.0, 6 }, 1, 2);
        var k1 = NeuralTangents.Empirical.NngpFn(Scaled)(a, b, One);
        Assert.Equal(new Shape(2, 1), k1.Shape);
        AssertClose(new[] { 8.5, 19.5 }, k1.ToDoubleArray(), Tol);

        var k2 = NeuralTangents.Empirical.NngpFn(Scaled, traceAxes: Array.Empty<int>())(a, b, One);
        Assert.Equal(new Shape(2, 1, 2, 2), k2.Shape);
        AssertClose(new[] { 5.0, 6, 10, 12, 15, 18, 20, 24 }, k2.ToDoubleArray(), Tol);

        var k3 = NeuralTangents.Empirical.NngpFn(Scaled, traceAxes: Array.Empty<int>(), diagonalAxes: new[] { 1 })(a, b, One);
        Assert.Equal(new Shape(2, 1, 2), k3.Shape);
        AssertClose(new[] { 5.0, 12, 15, 24 }, k3.ToDoubleArray(), Tol);

        var e = Assert.ThrowsAny<ArgumentException>(() => NeuralTangents.Empirical.NngpFn(Scaled, diagonalAxes: new[] { 0 })(a, b, One));
        Assert.Contains("2", e.Message); Assert.Contains("1", e.Message);

        var k4 = NeuralTangents.Empirical.NngpFn(Scaled, diagonalAxes: new[] { 0 })(a, null, One);
        Assert.Equal(new Shape(2), k4.Shape);
        AssertClose(new[] { 2.5, 12.5 }, k4.ToDoubleArray(), Tol);
    }

    [Fact]
    public void NtkOfScaledIdentityEqualsNngp()
    {
        // f = s·x with s = 1: ∂f/∂s = x, so the NTK equals the NNGP for every axes choice.
        var a = T(new[] { 1.0, 2, 3, 4, 5, 6 }, 3, 2);
        var b = T(new[] { 5.0, 6, -1, 2 }, 2, 2);
        foreach (var (t, d) in new[] { (new[] { -1 }, new int[0]), (new int[0], new int[0]), (new int[0], new[] { 1 }) })
            AssertClose(NeuralTangents.Empirical.NngpFn(Scaled, t, d)(a, b, One), NeuralTangents.Empirical.NtkFn(Scaled, t, d, implementation: TestDefaults.Ntk)(a, b, One), Tol);
    }
}
