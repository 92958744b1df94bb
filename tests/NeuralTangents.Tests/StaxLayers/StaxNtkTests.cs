using NeuralTangents.Implementations;
using NeuralTangents.Stax;
using NeuralTangents.Tests.Empirical;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.StaxLayers;

/// <summary>
/// Every NTK implementation (with and without vmapAxes) against a float64 reference from central-difference
/// Jacobians and the naive kernel loops, on residual, attention and "zoo" networks using every new layer.
/// </summary>
public class StaxNtkTests
{
    public sealed record Net(string Name, Layer Layer, int[] X1, int[] X2, bool Vmap = true)
    {
        public override string ToString() => Name;
    }

    private static Layer NonlinearityZoo() => Serial(Dense(5, 1.2, 0.1), FanOut(20), Parallel(
            ABRelu(-0.3, 1.5), LeakyRelu(0.2), Abs(), Tanh(), Sigmoid_like(), Gelu(), Sign(), Cos(1.5, 0.7, 0.2), Exp(0.5, 0.3), Gaussian(),
            Rbf(0.7), Monomial(3), RectifiedMonomial(2), Polynomial(new[] { 0.1, -1, 0.5 }), Hermite(3), Elementwise(x => x * NeuralTangents.Autodiff.Tracing.Lax.Sin(x)),
            Gelu(approximate: true), Sin(), Erf(), Relu()),
        FanInConcat(), Dense(2, 1, 0.05));

    private static Layer ConvZoo() => Serial(
        Conv(4, new[] { 2, 2 }, padding: Padding.Same, rhsDilation: new[] { 2, 1 }, bStd: 0.1), FanOut(3), Parallel(
            Serial(Relu(), Conv(4, new[] { 3, 3 }, padding: Padding.Same, bStd: 0.2, parameterization: Parameterization.Standard, featureGroupCount: 2)),
            Serial(Gelu(), ConvTranspose(4, new[] { 2, 2 }, new[] { 2, 2 }, bStd: 0.3), AvgPool(new[] { 2, 2 }, new[] { 2, 2 })),
            Serial(LayerNorm(), SumPool(new[] { 3, 3 }, padding: Padding.Same))),
        FanInSum(), AvgPool(new[] { 2, 2 }, new[] { 1, 1 }, Padding.Same, normalizeEdges: true), Dropout(0.5, "test"),
        Repeat(Serial(Dense(4, 1.1), Tanh()), 2), FanOut(2), Parallel(GlobalSumPool(), GlobalAvgPool()), FanInProd(), Dense(2, bStd: 0.1));

    private static Layer AttentionNet() => Serial(Dense(4), FanOut(2), Parallel(Identity(),
            GlobalSelfAttention(4, 3, 2, 2, linearScaling: false, wKeyStd: 1.2, bStd: 0.1, posEmbType: PositionalEmbedding.Concat, nChanPosEmb: 2)),
        FanInConcat(-1), LayerNorm(new[] { 1, 2 }), Flatten(), Dense(2, parameterization: Parameterization.Standard, s: (1, 1)));

    public static readonly Net[] Nets =
    {
        new("wide-resnet(1,0.125)", Examples.WideResnet(1, 0.125, 2, new[] { 2, 2 }), new[] { 2, 8, 8, 1 }, new[] { 1, 8, 8, 1 }),
        new("transformer(1,4,2,4)", Examples.TransformerEncoder(1, 4, 2, 4, 2), new[] { 2, 3, 2 }, new[] { 3, 3, 2 }),
        new("nonlinearity-zoo", NonlinearityZoo(), new[] { 3, 2 }, new[] { 2, 2 }),
        new("conv-zoo", ConvZoo(), new[] { 2, 4, 4, 2 }, new[] { 1, 4, 4, 2 }),
        new("attention-concat-layernorm", AttentionNet(), new[] { 2, 2, 2, 2 }, new[] { 1, 2, 2, 2 }),
        new("circular-conv-pool", Serial(Conv(3, new[] { 3, 2 }, new[] { 2, 1 }, Padding.Circular, bStd: 0.1), Erf(), AvgPool(new[] { 2, 2 }, padding: Padding.Circular), Flatten(), Dense(2)),
            new[] { 2, 4, 3, 2 }, new[] { 1, 4, 3, 2 }),
        new("index-slices", Serial(Conv(3, new[] { 2, 2 }, padding: Padding.Same), Relu(),
            Index(NeuralTangents.Stax.Slice.All, new NeuralTangents.Stax.Slice(1, null, 2), NeuralTangents.Stax.Slice.Ellipsis, NeuralTangents.Stax.Slice.Int(-1)), Flatten(), Dense(2)),
            new[] { 2, 5, 3, 2 }, new[] { 1, 5, 3, 2 }),
        // A train-mode mask depends on the traced shape, so only the whole-batch path is comparable.
        new("dropout-train", Serial(Dense(6), Dropout(0.6, seed: 2), Relu(), Dense(2)), new[] { 3, 3 }, new[] { 2, 3 }, Vmap: false),
    };

    public static IEnumerable<object[]> Cases()
    {
        foreach (var n in Nets)
        {
            yield return new object[] { n, new[] { -1 }, false };
            yield return new object[] { n, new int[0], true };
        }
    }

    internal static Tensor FdJacobian(TracedApply f, Params p, Tensor x)
    {
        const double eps = 1e-6;
        var y0 = f.Evaluate(p, x);
        int P = (int)p.ParameterCount, m = y0.Size;
        var j = new double[m * P];
        int col = 0;
        foreach (var key in p.Keys.ToArray())
        {
            var w = p[key].ToDoubleArray();
            for (int q = 0; q < w.Length; q++, col++)
            {
                double[] Eval(double delta)
                {
                    var wq = (double[])w.Clone(); wq[q] += delta;
                    return f.Evaluate(p.Map((k, t) => k == key ? Tensor.FromArray(wq, t.Shape) : t), x).ToDoubleArray();
                }
                var yp = Eval(eps); var ym = Eval(-eps);
                for (int i = 0; i < m; i++) j[i * P + col] = (yp[i] - ym[i]) / (2 * eps);
            }
        }
        return Tensor.FromArray(j, y0.Shape.Concat(new Shape(P)));
    }

    [Theory, MemberData(nameof(Cases))]
    public void EveryImplementationMatchesFiniteDifferences(Net net, int[] trace, bool sameInputs)
    {
        var rng = new Random(3);
        var x1 = Tensor.RandomNormal(rng, new Shape(net.X1));
        var x2 = sameInputs ? null : Tensor.RandomNormal(rng, new Shape(net.X2));
        var (_, p) = net.Layer.Init(5, new Shape(net.X1));
        var f = new TracedApply(net.Layer.Apply);
        var j1 = FdJacobian(f, p, x1);
        var reference = NaiveKernel.Compute(j1, x2 is null ? j1 : FdJacobian(f, p, x2), trace, new int[0], trailingP: true);
        double scale = reference.ToDoubleArray().Select(Math.Abs).Max();
        Assert.True(scale > 1e-3, $"degenerate reference kernel (max |K| = {scale})");
        foreach (var impl in new[] { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives, NtkImplementation.Auto })
        foreach (var vmap in net.Vmap ? new VmapAxes?[] { null, 0 } : new VmapAxes?[] { null })
        {
            var k = NeuralTangents.Empirical.NtkFn(net.Layer.Apply, trace, null, vmap, impl)(x1, x2, p);
            // Central differences with eps = 1e-6 in float64: truncation ~1e-12·f''' and rounding ~1e-10 relative;
            // 1e-8 of the kernel's scale leaves margin.
            TestUtil.AssertClose(reference, k, 0, 1e-8 * scale);
        }
    }

    /// <summary>A wider WideResnet (k = 1, 16/32/64 channels, ≈100k parameters): the implementations agree with each other.</summary>
    [Fact]
    public void WideResnetK1ImplementationsAgree()
    {
        var net = Examples.WideResnet(1, 1, 3, new[] { 2, 2 });
        var rng = new Random(1);
        var x1 = Tensor.RandomNormal(rng, new Shape(2, 8, 8, 1));
        var x2 = Tensor.RandomNormal(rng, new Shape(3, 8, 8, 1));
        var (_, p) = net.Init(0, x1.Shape);
        var sd = NeuralTangents.Empirical.NtkFn(net.Apply, vmapAxes: 0, implementation: NtkImplementation.StructuredDerivatives)(x1, x2, p);
        double scale = sd.ToDoubleArray().Select(Math.Abs).Max();
        foreach (var impl in new[] { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts })
            TestUtil.AssertClose(sd, NeuralTangents.Empirical.NtkFn(net.Apply, vmapAxes: 0, implementation: impl)(x1, x2, p), 0, 1e-10 * scale);
    }
}
