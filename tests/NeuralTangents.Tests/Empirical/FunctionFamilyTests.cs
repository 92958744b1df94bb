using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Tests.Empirical;

/// <summary>
/// Neural Tangents' <c>StructuredDerivativesTest.test_function</c>: every implementation agrees on function families our
/// primitives express — element-wise algebra, broadcasting, matmul chains, reductions, reshapes and transposes, pad,
/// concatenate, rev, reduce_window_sum, all dot_general patterns with the parameter left/right/both — and on
/// parameters used twice, outputs that are parameters, and functions that do not depend on the parameters.
/// trace_axes = (), no vmap, x2 given; float64 within 1e-10 (plus closed forms where they exist).
/// </summary>
public class FunctionFamilyTests
{
    public sealed record Family(string Name, int[][] P, int[] X1, int[] X2, Func<Tracer[], Tracer, Tracer> F)
    {
        public override string ToString() => Name;
    }

    private static DotDimensionNumbers D(int[] lc, int[] rc, int[]? lb = null, int[]? rb = null) => new(lc, rc, lb ?? new int[0], rb ?? new int[0]);

    public static readonly Family[] Families =
    {
        new("p0*p1", new[] { new[] { 3, 3 }, new[] { 3, 3 }, new[] { 3, 3 } }, new[] { 3, 3 }, new[] { 3, 3 }, (p, x) => p[0] * p[1]),
        new("p1/p0", new[] { new[] { 3, 3 }, new[] { 3, 3 }, new[] { 3, 3 } }, new[] { 3, 3 }, new[] { 3, 3 }, (p, x) => p[1] / (p[0] * p[0] + 1)),
        new("p0+p1.T", new[] { new[] { 3, 3 }, new[] { 3, 3 }, new[] { 3, 3 } }, new[] { 3, 3 }, new[] { 3, 3 }, (p, x) => p[0] + Lax.Transpose(p[1], 1, 0)),
        new("-p0", new[] { new[] { 2, 3 }, new[] { 1 }, new[] { 1 } }, new[] { 2, 3 }, new[] { 2, 3 }, (p, x) => -p[0]),
        new("x+p0", new[] { new[] { 2, 3 }, new[] { 1 }, new[] { 1 } }, new[] { 2, 3 }, new[] { 2, 3 }, (p, x) => x + p[0]),
        new("x-p1", new[] { new[] { 1 }, new[] { 2, 3 }, new[] { 1 } }, new[] { 2, 3 }, new[] { 2, 3 }, (p, x) => x - p[1]),
        new("p1**2", new[] { new[] { 1 }, new[] { 2, 3 }, new[] { 1 } }, new[] { 2, 3 }, new[] { 2, 3 }, (p, x) => Lax.IntegerPow(p[1], 2)),
        new("|p0|**(p1+x)", new[] { new[] { 2, 3 }, new[] { 2, 3 }, new[] { 1 } }, new[] { 2, 3 }, new[] { 2, 3 }, (p, x) => Lax.Pow(Lax.Abs(p[0]) + 0.5, p[1] + x)),
        new("p1*arange", new[] { new[] { 1 }, new[] { 2, 3 }, new[] { 1 } }, new[] { 2, 3 }, new[] { 2, 3 },
            (p, x) => p[1] * p[1].Builder.Constant(Tensor.FromArray(new double[] { 1, 2, 3 }, new Shape(1, 3)))),
        new("p0@p1@p2", new[] { new[] { 3, 3 }, new[] { 3, 3 }, new[] { 3, 3 } }, new[] { 3, 3 }, new[] { 3, 3 }, (p, x) => Np.Dot(Np.Dot(p[0], p[1]), p[2])),
        new("(p0@p1.T)@(p2.T@p1)@x", new[] { new[] { 3, 2 }, new[] { 2, 2 }, new[] { 2, 2 } }, new[] { 2, 3 }, new[] { 2, 4 },
            (p, x) => Np.Dot(Np.Dot(Np.Dot(p[0], Lax.Transpose(p[1], 1, 0)), Np.Dot(Lax.Transpose(p[2], 1, 0), p[1])), x)),
        new("sum(p0)", new[] { new[] { 2, 3 }, new[] { 1 }, new[] { 1 } }, new[] { 2 }, new[] { 2 }, (p, x) => Np.Sum(p[0])),
        new("sum(p0,1,keepdims)", new[] { new[] { 2, 3 }, new[] { 1 }, new[] { 1 } }, new[] { 2 }, new[] { 2 }, (p, x) => Lax.ExpandDims(Np.Sum(p[0], 1), 1)),
        new("sum(p0*x,0)", new[] { new[] { 4, 3 }, new[] { 1 }, new[] { 1 } }, new[] { 4, 3 }, new[] { 4, 3 }, (p, x) => Np.Sum(p[0] * x, 0)),
        new("reshape", new[] { new[] { 2, 6 }, new[] { 1 }, new[] { 1 } }, new[] { 3 }, new[] { 3 }, (p, x) => Lax.Reshape(p[0], new Shape(3, 4))),
        new("reshape.T", new[] { new[] { 2, 6 }, new[] { 1 }, new[] { 1 } }, new[] { 3 }, new[] { 3 }, (p, x) => Lax.Transpose(Lax.Reshape(p[0], new Shape(3, 2, 2)), 2, 0, 1)),
        new("rev", new[] { new[] { 3, 4 }, new[] { 1 }, new[] { 1 } }, new[] { 3 }, new[] { 3 }, (p, x) => Lax.Rev(p[0], 1)),
        new("pad", new[] { new[] { 3, 4 }, new[] { 1 }, new[] { 1 } }, new[] { 3 }, new[] { 3 }, (p, x) => Lax.Pad(p[0], 0, new[] { (1, 0, 1), (0, 2, 0) })),
        new("concatenate0", new[] { new[] { 2, 3 }, new[] { 1, 3 }, new[] { 1 } }, new[] { 3 }, new[] { 3 }, (p, x) => Lax.Concatenate(new[] { p[0], p[1] }, 0)),
        new("concatenate1", new[] { new[] { 2, 3 }, new[] { 2, 1 }, new[] { 1 } }, new[] { 2, 5 }, new[] { 2, 5 }, (p, x) => Lax.Concatenate(new[] { p[0], p[1], x }, 1)),
        new("reduce_window_sum", new[] { new[] { 1, 5, 4, 2 }, new[] { 1 }, new[] { 1 } }, new[] { 3 }, new[] { 3 },
            (p, x) => Lax.ReduceWindowSum(p[0], new[] { 1, 2, 2, 1 }, new[] { 1, 1, 2, 1 }, new[] { (0, 0), (0, 1), (0, 0), (0, 0) })),
        new("dot-l", new[] { new[] { 3, 4 }, new[] { 1 }, new[] { 1 } }, new[] { 4, 2 }, new[] { 4, 5 }, (p, x) => Lax.DotGeneral(p[0], x, D(new[] { 1 }, new[] { 0 }))),
        new("dot-r", new[] { new[] { 4, 3 }, new[] { 1 }, new[] { 1 } }, new[] { 2, 4 }, new[] { 5, 4 }, (p, x) => Lax.DotGeneral(x, p[0], D(new[] { 1 }, new[] { 0 }))),
        new("dot-p", new[] { new[] { 3, 4 }, new[] { 4, 2 }, new[] { 1 } }, new[] { 2 }, new[] { 2 }, (p, x) => Lax.DotGeneral(p[0], p[1], D(new[] { 1 }, new[] { 0 }))),
        new("dot-batch-l", new[] { new[] { 2, 3, 4 }, new[] { 1 }, new[] { 1 } }, new[] { 2, 4, 5 }, new[] { 2, 4, 3 }, (p, x) => Lax.DotGeneral(p[0], x, D(new[] { 2 }, new[] { 1 }, new[] { 0 }, new[] { 0 }))),
        new("dot-batch-r", new[] { new[] { 2, 4, 3 }, new[] { 1 }, new[] { 1 } }, new[] { 2, 5, 4 }, new[] { 2, 1, 4 }, (p, x) => Lax.DotGeneral(x, p[0], D(new[] { 2 }, new[] { 1 }, new[] { 0 }, new[] { 0 }))),
        new("dot-batch-p", new[] { new[] { 2, 3, 4 }, new[] { 2, 4, 2 }, new[] { 1 } }, new[] { 1 }, new[] { 1 }, (p, x) => Lax.DotGeneral(p[0], p[1], D(new[] { 2 }, new[] { 1 }, new[] { 0 }, new[] { 0 }))),
        new("dot-outer", new[] { new[] { 3 }, new[] { 1 }, new[] { 1 } }, new[] { 2 }, new[] { 4 }, (p, x) => Lax.DotGeneral(p[0], x, D(new int[0], new int[0]))),
        new("dot-contract2", new[] { new[] { 2, 3, 4 }, new[] { 1 }, new[] { 1 } }, new[] { 4, 5, 3 }, new[] { 4, 1, 3 }, (p, x) => Lax.DotGeneral(p[0], x, D(new[] { 1, 2 }, new[] { 2, 0 }))),
        new("param-used-twice", new[] { new[] { 3, 3 }, new[] { 1 }, new[] { 1 } }, new[] { 2, 3 }, new[] { 4, 3 }, (p, x) => Lax.Tanh(Np.Dot(Lax.Tanh(Np.Dot(x, p[0])), p[0]))),
        new("output-is-param", new[] { new[] { 2, 3 }, new[] { 1 }, new[] { 1 } }, new[] { 3 }, new[] { 3 }, (p, x) => p[0]),
        new("independent-of-params", new[] { new[] { 2 }, new[] { 1 }, new[] { 1 } }, new[] { 2, 3 }, new[] { 4, 3 }, (p, x) => Lax.Sin(x)),
        new("conv-filter-param", new[] { new[] { 2, 2, 3, 4 }, new[] { 1 }, new[] { 1 } }, new[] { 2, 5, 5, 3 }, new[] { 1, 5, 5, 3 },
            (p, x) => Lax.Conv(x, p[0], new ConvParams(new[] { 1, 2 }, new[] { (0, 1), (1, 0) }, new[] { 1, 1 }))),
        new("grouped-conv", new[] { new[] { 2, 2, 2, 4 }, new[] { 1 }, new[] { 1 } }, new[] { 2, 4, 4, 4 }, new[] { 1, 4, 4, 4 },
            (p, x) => Lax.Conv(x, p[0], new ConvParams(new[] { 1, 1 }, new[] { (0, 0), (0, 0) }, new[] { 1, 1 }, 2))),
        new("scalars", new[] { new int[0], new int[0], new int[0] }, new int[0], new int[0], (p, x) => p[0] * x + Lax.Sin(p[1]) * p[2]),
        new("zero-size", new[] { new[] { 1, 1 }, new[] { 0, 0 }, new[] { 0, 1 } }, new[] { 1, 0 }, new[] { 1, 0 }, (p, x) => Np.Dot(x, p[2]) + p[0]),
    };

    public static IEnumerable<object[]> Cases => Families.Select(f => new object[] { f });

    [Theory, MemberData(nameof(Cases))]
    public void AllImplementationsAgree(Family fam)
    {
        var rng = new Random(fam.Name.Length * 31 + fam.P.Length);
        var p = new Params();
        for (int i = 0; i < fam.P.Length; i++) p.Add($"p{i}", Tensor.RandomNormal(rng, new Shape(fam.P[i])));
        ApplyFn f = (pt, x) => fam.F(Enumerable.Range(0, fam.P.Length).Select(i => pt[$"p{i}"]).ToArray(), x);
        var x1 = Tensor.RandomNormal(rng, new Shape(fam.X1));
        var x2 = Tensor.RandomNormal(rng, new Shape(fam.X2));
        var reference = NeuralTangents.Empirical.NtkFn(f, traceAxes: new int[0], implementation: NtkImplementation.JacobianContraction)(x1, x2, p);
        double scale = reference.ToDoubleArray().Select(Math.Abs).DefaultIfEmpty(0).Max();
        foreach (var impl in new[] { NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives, NtkImplementation.Auto })
        {
            var k = NeuralTangents.Empirical.NtkFn(f, traceAxes: new int[0], implementation: impl)(x1, x2, p);
            Assert.Equal(reference.Shape, k.Shape);
            TestUtil.AssertClose(reference.ToDoubleArray(), k.ToDoubleArray(), 1e-10, 1e-10 * scale, impl.ToString());
        }
        if (fam.Name == "independent-of-params") Assert.All(reference.ToDoubleArray(), v => Assert.Equal(0.0, v));
    }

    /// <summary>NT's <c>_s_rules</c>/<c>_j_rules</c> switches: without structure rules (nothing compressed, the generic
    /// fallback everywhere) and without Jacobian rules, structured derivatives give the same kernel, with VmapAxes too.</summary>
    [Theory, MemberData(nameof(Cases))]
    public void StructuredDerivativesWithoutRulesAgree(Family fam)
    {
        var rng = new Random(fam.Name.Length * 17 + 3);
        var p = new Params();
        for (int i = 0; i < fam.P.Length; i++) p.Add($"p{i}", Tensor.RandomNormal(rng, new Shape(fam.P[i])));
        ApplyFn f = (pt, x) => fam.F(Enumerable.Range(0, fam.P.Length).Select(i => pt[$"p{i}"]).ToArray(), x);
        var x1 = Tensor.RandomNormal(rng, new Shape(fam.X1));
        var x2 = Tensor.RandomNormal(rng, new Shape(fam.X2));
        var reference = NeuralTangents.Empirical.NtkFn(f, traceAxes: new int[0], implementation: NtkImplementation.StructuredDerivatives)(x1, x2, p);
        double scale = reference.ToDoubleArray().Select(Math.Abs).DefaultIfEmpty(0).Max();
        foreach (var rules in new[] { new NeuralTangents.Implementations.SdRules(false, false), new(true, false), new(false, true) })
        {
            var k = NeuralTangents.Empirical.NtkFn(f, new int[0], null, null, rules)(x1, x2, p);
            TestUtil.AssertClose(reference.ToDoubleArray(), k.ToDoubleArray(), 1e-10, 1e-10 * scale, rules.ToString());
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void StaxNetworksWithoutRulesAgree(bool structureRules, bool jacobianRules)
    {
        // Biases (broadcast_in_dim + add), pooling (reduce_window_sum, mul by a scalar), Dense and Conv J rules.
        var net = NeuralTangents.Stax.Stax.Serial(NeuralTangents.Stax.Stax.Conv(4, new[] { 2, 2 }, bStd: 0.1), NeuralTangents.Stax.Stax.Relu(),
            NeuralTangents.Stax.Stax.AvgPool(new[] { 2, 2 }), NeuralTangents.Stax.Stax.Flatten(), NeuralTangents.Stax.Stax.Dense(3, bStd: 0.2));
        var rng = new Random(7);
        var x1 = Tensor.RandomNormal(rng, new Shape(2, 5, 5, 2)); var x2 = Tensor.RandomNormal(rng, new Shape(3, 5, 5, 2));
        var (_, p) = net.Init(1, x1.Shape);
        foreach (var vmap in new VmapAxes?[] { null, 0 })
        {
            var reference = NeuralTangents.Empirical.NtkFn(net.Apply, traceAxes: new int[0], vmapAxes: vmap, implementation: NtkImplementation.JacobianContraction)(x1, x2, p);
            var k = NeuralTangents.Empirical.NtkFn(net.Apply, new int[0], null, vmap, new NeuralTangents.Implementations.SdRules(structureRules, jacobianRules))(x1, x2, p);
            TestUtil.AssertClose(reference.ToDoubleArray(), k.ToDoubleArray(), 1e-10, 1e-10 * reference.ToDoubleArray().Max(Math.Abs), $"vmap {vmap}");
        }
    }

    /// <summary>A 40,000-element parameter consumed by <c>slice</c> (no structure rule): the generic Jacobian takes reverse
    /// mode over the 3 outputs — forward mode over a basis of w would be 40,000² doubles (12.8 GB).</summary>
    [Fact]
    public void LargeParameterWithoutStructureUsesReverseMode()
    {
        var rng = new Random(4);
        var p = new Params { { "w", Tensor.RandomNormal(rng, new Shape(40000)) } };
        ApplyFn f = (q, x) => Lax.Slice(q["w"], new[] { 5 }, new[] { 8 }) * x;
        var x1 = Tensor.RandomNormal(rng, new Shape(3)); var x2 = Tensor.RandomNormal(rng, new Shape(3));
        var sd = NeuralTangents.Empirical.NtkFn(f, traceAxes: new int[0], implementation: NtkImplementation.StructuredDerivatives)(x1, x2, p);
        // Θ[i, j] = δ_ij x1[i] x2[j]: output i depends on w[5 + i] with coefficient x[i].
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) Assert.Equal(i == j ? x1[i] * x2[j] : 0, sd[i, j], 1e-14);
    }

    [Fact]
    public void ClosedForms()
    {
        var rng = new Random(1);
        var p0 = Tensor.RandomNormal(rng, new Shape(2, 3)); var p1 = Tensor.RandomNormal(rng, new Shape(2, 3));
        var p = new Params { { "a", p0 }, { "b", p1 } };
        var x = Tensor.Zeros(new Shape(1));
        foreach (var impl in new[] { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives })
        {
            // 'p' → Θ = I; 'p0 + p1' → 2·I; 'p0 * p1' → diag(p1² + p0²); 'sum(p0)' → number of elements.
            var id = NeuralTangents.Empirical.NtkFn((q, _) => q["a"], traceAxes: new int[0], implementation: impl)(x, x, p);
            var sum = NeuralTangents.Empirical.NtkFn((q, _) => q["a"] + q["b"], traceAxes: new int[0], implementation: impl)(x, x, p);
            var prod = NeuralTangents.Empirical.NtkFn((q, _) => q["a"] * q["b"], traceAxes: new int[0], implementation: impl)(x, x, p);
            var total = NeuralTangents.Empirical.NtkFn((q, _) => Np.Sum(q["a"]), traceAxes: new int[0], implementation: impl)(x, x, p);
            Assert.Equal(new Shape(2, 2, 3, 3), id.Shape);
            for (int i = 0; i < 2; i++) for (int k = 0; k < 2; k++) for (int j = 0; j < 3; j++) for (int l = 0; l < 3; l++)
                    {
                        double d = i == k && j == l ? 1 : 0;
                        Assert.Equal(d, id[i, k, j, l], 1e-14);
                        Assert.Equal(2 * d, sum[i, k, j, l], 1e-14);
                        Assert.Equal(d * (p0[i, j] * p0[i, j] + p1[i, j] * p1[i, j]), prod[i, k, j, l], 1e-13);
                    }
            Assert.Equal(6.0, total.ToScalar(), 1e-14);
        }
    }
}
