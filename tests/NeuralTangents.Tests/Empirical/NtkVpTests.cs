using NeuralTangents.Tensors;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Empirical;

/// <summary>Neural Tangents' <c>EmpiricalNtkVpTest.test_ntk_vp_fn</c>: <c>NtkVpFn</c> against the full kernel, by the basis (check 1) and a random cotangent (check 2).</summary>
public class NtkVpTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void NtkVectorProductsMatchTheFullKernel(bool sameInputs)
    {
        var net = Serial(Dense(8), Relu(), Dense(3));
        var rng = new Random(4);
        var x1 = Tensor.RandomNormal(rng, new Shape(4, 7));
        var x2 = sameInputs ? null : Tensor.RandomNormal(rng, new Shape(6, 7));
        int n1 = 4, n2 = sameInputs ? 4 : 6;
        var (_, p) = net.Init(1, x1.Shape);
        var reference = NeuralTangents.Empirical.NtkFn(net.Apply, traceAxes: new int[0], vmapAxes: 0, implementation: TestDefaults.Ntk)(x1, x2, p);   // (N1, N2, 3, 3)
        var refPermuted = reference.Transpose(0, 2, 1, 3);                                                            // (N1, 3, N2, 3)
        var vp = NeuralTangents.Empirical.NtkVpFn(net.Apply, x1, x2, p);

        // Check 1: J1 J2ᵀ e_k for every basis vector of f(x2) rebuilds the permuted kernel.
        for (int j = 0; j < n2; j++)
            for (int o = 0; o < 3; o++)
            {
                var e = new double[n2 * 3]; e[j * 3 + o] = 1;
                var col = vp(Tensor.FromArray(e, new Shape(n2, 3)));
                Assert.Equal(new Shape(n1, 3), col.Shape);
                for (int i = 0; i < n1; i++)
                    for (int q = 0; q < 3; q++)
                        Assert.Equal(refPermuted[i, q, j, o], col[i, q], 1e-12);
            }

        // Check 2: a random cotangent equals tensordot(Θ, c, ((2, 3), (0, 1))).
        var c = Tensor.RandomNormal(rng, new Shape(n2, 3));
        var r = vp(c);
        for (int i = 0; i < n1; i++)
            for (int q = 0; q < 3; q++)
            {
                double expected = 0;
                for (int j = 0; j < n2; j++) for (int o = 0; o < 3; o++) expected += refPermuted[i, q, j, o] * c[j, o];
                Assert.Equal(expected, r[i, q], 1e-11);
            }
    }

    [Fact]
    public void WrongCotangentShapeIsRejected()
    {
        var net = Serial(Dense(2), Relu(), Dense(3));
        var x1 = Tensor.RandomNormal(new Random(1), new Shape(4, 7));
        var (_, p) = net.Init(1, x1.Shape);
        var vp = NeuralTangents.Empirical.NtkVpFn(net.Apply, x1, null, p);
        var e = Assert.Throws<ArgumentException>(() => vp(Tensor.Zeros(new Shape(3, 4))));
        Assert.Equal("cotangents", e.ParamName);
        Assert.Contains("(4, 3)", e.Message.Replace("f64[4,3]", "(4, 3)"));
    }
}
