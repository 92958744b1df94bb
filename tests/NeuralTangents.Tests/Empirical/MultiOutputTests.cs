using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Tests.Empirical;

/// <summary>
/// Several inputs and outputs (docs/conventions.md#outputs, Neural Tangents' <c>test_parallel_in_out</c>): one kernel per output leaf, no cross
/// terms, every implementation with and without per-leaf <c>VmapAxes</c>, x2 given and null.
/// </summary>
public class MultiOutputTests
{
    // parallel(Dense(n), Dense(n+1)) twice: inputs ((N,10), (N,11)) -> outputs ((N,1), (N,2)).
    private static Tracer Dense(ParamTracers p, string w, Tracer x) => Np.Dot(x, p[w]) / Math.Sqrt(x.Shape[-1]);

    private static readonly MultiApplyFn F = (p, xs) =>
    {
        var a = Lax.Tanh(Dense(p, "0.0.W", xs[0]));
        var b = Lax.Erf(Dense(p, "0.1.W", xs[1]));
        return new[] { Dense(p, "1.0.W", a), Dense(p, "1.1.W", b) };
    };

    private static Params Init(Random rng) => new()
    {
        { "0.0.W", Tensor.RandomNormal(rng, new Shape(10, 16)) },
        { "0.1.W", Tensor.RandomNormal(rng, new Shape(11, 17)) },
        { "1.0.W", Tensor.RandomNormal(rng, new Shape(16, 1)) },
        { "1.1.W", Tensor.RandomNormal(rng, new Shape(17, 2)) },
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OneKernelPerOutputAndAllImplementationsAgree(bool sameInputs)
    {
        var rng = new Random(9);
        var p = Init(rng);
        var x1 = new[] { Tensor.RandomNormal(rng, new Shape(3, 10)), Tensor.RandomNormal(rng, new Shape(3, 11)) };
        var x2 = sameInputs ? null : new[] { Tensor.RandomNormal(rng, new Shape(4, 10)), Tensor.RandomNormal(rng, new Shape(4, 11)) };
        int n2 = sameInputs ? 3 : 4;
        var nngp = NeuralTangents.Empirical.NngpFn(F)(x1, x2, p);
        Assert.Equal(2, nngp.Length);
        Assert.All(nngp, k => Assert.Equal(new Shape(3, n2), k.Shape));
        var reference = NeuralTangents.Empirical.NtkFn(F, implementation: TestDefaults.Ntk)(x1, x2, p);

        // No cross terms: output 0 depends only on the first branch's parameters, so its NTK equals the NTK of
        // that branch alone.
        MultiApplyFn first = (q, xs) => new[] { F(q, xs)[0] };
        TestUtil.AssertClose(NeuralTangents.Empirical.NtkFn(first, implementation: TestDefaults.Ntk)(x1, x2, p)[0], reference[0], 1e-13, 1e-13);

        var perLeaf = new VmapAxes(new int?[] { 0, 0 }, new[] { 0, 0 });
        foreach (var impl in ImplementationAgreementTests.Implementations)
            foreach (var vmap in new VmapAxes?[] { null, 0, perLeaf })
            {
                var k = NeuralTangents.Empirical.NtkFn(F, vmapAxes: vmap, implementation: impl)(x1, x2, p);
                for (int j = 0; j < 2; j++) TestUtil.AssertClose(reference[j], k[j], 1e-10, 1e-10);
            }
        var both = NeuralTangents.Empirical.KernelFn(F, implementation: TestDefaults.Ntk)(x1, x2, null, p);
        Assert.Equal(2, both.Length);
        TestUtil.AssertClose(nngp[1], both[1].Nngp!, 0, 0);
    }

    [Fact]
    public void AnUnbatchedInputIsSharedByEveryExample()
    {
        // f(p, (x, s)) = tanh(x·W)·s with s shared: in_axes (0, None).
        MultiApplyFn f = (p, xs) => new[] { Lax.Tanh(Np.Dot(xs[0], p["W"])) * xs[1] };
        var rng = new Random(3);
        var p = new Params { { "W", Tensor.RandomNormal(rng, new Shape(4, 3)) } };
        var x = new[] { Tensor.RandomNormal(rng, new Shape(5, 4)), Tensor.RandomNormal(rng, new Shape(3)) };
        var reference = NeuralTangents.Empirical.NtkFn(f, traceAxes: new int[0], implementation: TestDefaults.Ntk)(x, null, p)[0];
        foreach (var impl in ImplementationAgreementTests.Implementations)
        {
            var k = NeuralTangents.Empirical.NtkFn(f, traceAxes: new int[0], vmapAxes: new VmapAxes(new int?[] { 0, null }, new[] { 0 }), implementation: impl)(x, null, p)[0];
            TestUtil.AssertClose(reference, k, 1e-12, 1e-12);
        }
    }

    [Fact]
    public void BatchCouplingNetworksGiveAPerExampleResultUnderVmapAxes()
    {
        // Batch centring couples examples: with VmapAxes each example is centred on its own (so its output is 0),
        // exactly as Neural Tangents documents; without VmapAxes the true kernel is returned.
        ApplyFn f = (p, x) => { var y = Np.Dot(x, p["W"]); return y - Np.Mean(y, 0); };
        var rng = new Random(5);
        var p = new Params { { "W", Tensor.RandomNormal(rng, new Shape(3, 2)) } };
        var x = Tensor.RandomNormal(rng, new Shape(4, 3));
        var exact = NeuralTangents.Empirical.NtkFn(f, implementation: TestDefaults.Ntk)(x, null, p);
        var perExample = NeuralTangents.Empirical.NtkFn(f, vmapAxes: 0, implementation: TestDefaults.Ntk)(x, null, p);
        Assert.True(exact.ToDoubleArray().Max(Math.Abs) > 0.1);
        Assert.All(perExample.ToDoubleArray(), v => Assert.Equal(0.0, v, 1e-14));
    }
}
