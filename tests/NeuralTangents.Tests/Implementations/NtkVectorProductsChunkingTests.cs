using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Implementations;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Implementations;

/// <summary>
/// NtkVectorProducts' memory plan (issue 11): blocks of x1 examples against blocks of x2 examples shrink, then the fx2 basis is chunked inside one pair,
/// until one evaluation fits the budget; every plan computes the same kernel (float64: the same products summed in the
/// same order per element, so 1e-13 relative).
/// </summary>
public class NtkVectorProductsChunkingTests
{
    private static KernelRequest Request(Tensor x1, Tensor? x2, long budget)
    {
        var net = Serial(Dense(16, 1.3, 0.2), Relu(), Dense(16), Erf(), Dense(7, 1.1, 0.3));
        var p = net.Init(4, x1.Shape, DType.Float64).Params;
        var f = new TracedApply(net.Apply);
        var axes = KernelAxes.Canonicalize([], [], 2);
        return KernelRequest.ForOutputs(f, p, [x1], x2 is null ? null : [x2], [axes], 0, budget, SdRules.All)[0];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BasisChunksInsideOnePairGiveTheSameKernel(bool distinctX2)
    {
        var rng = new Random(7);
        var x1 = Tensor.RandomNormal(rng, new Shape(3, 5));
        var x2 = distinctX2 ? Tensor.RandomNormal(rng, new Shape(4, 5)) : null;
        var roomy = Request(x1, x2, 1L << 30);
        var whole = NtkVectorProducts.PlanPairs(roomy);
        Assert.Equal((3, distinctX2 ? 4 : 3, 7), (whole.C1, whole.C2, whole.Cb));
        // The smallest plan (one pair, one basis vector) and a budget just above it: one pair, the basis in chunks.
        var tiny = NtkVectorProducts.PlanPairs(Request(x1, x2, 1));
        Assert.Equal((1, 1, 1), (tiny.C1, tiny.C2, tiny.Cb));
        long tight = (long)Math.Ceiling(tiny.PeakBytes + tiny.KernelBytes) + 1;
        var chunked = NtkVectorProducts.PlanPairs(Request(x1, x2, tight));
        Assert.Equal((1, 1), (chunked.C1, chunked.C2));
        Assert.InRange(chunked.Cb, 1, 6);
        Assert.True(chunked.PeakBytes + chunked.KernelBytes <= tight);
        var want = NtkVectorProducts.Ntk(roomy);
        Assert.Equal(new Shape(3, distinctX2 ? 4 : 3, 7, 7), want.Shape);
        foreach (var budget in new[] { 1L, tight })
            TestUtil.AssertClose(want, NtkVectorProducts.Ntk(Request(x1, x2, budget)), 1e-13, 1e-15);
    }

    [Fact]
    public void EstimateCountsTheChunkedPlan()
    {
        var x1 = Tensor.RandomNormal(new Random(8), new Shape(3, 5));
        var roomy = NtkVectorProducts.Estimate(Request(x1, null, 1L << 30));
        var tiny = NtkVectorProducts.Estimate(Request(x1, null, 1));
        // Smaller blocks: a smaller peak, at least as many FLOPs (the forward passes are recomputed per block).
        Assert.True(tiny.Bytes < roomy.Bytes, $"{tiny.Bytes} vs {roomy.Bytes}");
        Assert.True(tiny.Flops >= roomy.Flops, $"{tiny.Flops} vs {roomy.Flops}");
    }

    [Fact]
    public void WideLayersPlanBlocksOfManyPairsWithoutAnOversizedIntermediate()
    {
        // Seed FCN (3072 → 1024 inputs): unsimplified, 16 × 16 pairs × 100 basis vectors would carry a 5·10⁹-element
        // weight-sized cotangent, more than one tensor can hold; simplifying at every vmap stage removes it first.
        var net = Serial(Flatten(), Dense(1024), Relu(), Dense(1024), Relu(), Dense(100));
        var x = Tensor.Zeros(new Shape(16, 32, 32, 3), DType.Float32);
        var p = net.Init(0, x.Shape, DType.Float32).Params;
        var axes = KernelAxes.Canonicalize([-1], [], 2);
        var r = KernelRequest.ForOutputs(new TracedApply(net.Apply), p, [x], null, [axes], 0, 1L << 32, SdRules.All)[0];
        var plan = NtkVectorProducts.PlanPairs(r);
        Assert.Equal((16, 8, 100), (plan.C1, plan.C2, plan.Cb));   // 16 × 16 pairs would exceed the block cap
        Assert.InRange(plan.PeakBytes, 64.0 * (1 << 20), 192.0 * (1 << 20));
        Assert.True(GraphCost.LargestBytes(plan.Graph) < 64.0 * (1 << 20));
    }
}
