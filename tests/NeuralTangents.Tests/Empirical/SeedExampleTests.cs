using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Empirical;

/// <summary>The seed documentation's examples (Neural Tangents' <c>examples/empirical_ntk.py</c> network and the
/// seed page's 32×32×3 CNN), every implementation.</summary>
public class SeedExampleTests
{
    [Fact]
    public void SeedNetworkGivesTheTestTrainKernelForEveryImplementation()
    {
        // serial(Conv(8,(3,3)), Relu, Conv(8,(3,3)), Relu, Conv(8,(3,3)), Flatten, Dense(10)) on (3,8,8,3) vs (2,8,8,3).
        var net = Serial(Conv(8, new[] { 3, 3 }), Relu(), Conv(8, new[] { 3, 3 }), Relu(), Conv(8, new[] { 3, 3 }), Flatten(), Dense(10));
        var rng = new Random(1);
        var x1 = Tensor.RandomNormal(rng, new Shape(2, 8, 8, 3));
        var x2 = Tensor.RandomNormal(rng, new Shape(3, 8, 8, 3));
        var (outShape, p) = net.Init(3, x1.Shape);
        Assert.Equal(new Shape(2, 10), outShape);
        Assert.Equal(new[] { "0.W", "2.W", "4.W", "6.W" }, p.Keys.ToArray());
        Assert.Equal(new Shape(32, 10), p["6.W"].Shape);
        Tensor? first = null;
        foreach (var impl in ImplementationAgreementTests.Implementations)
        {
            var k = NeuralTangents.Empirical.NtkFn(net.Apply, traceAxes: new int[0], vmapAxes: 0, implementation: impl)(x2, x1, p);
            Assert.Equal(new Shape(3, 2, 10, 10), k.Shape);
            first ??= k;
            TestUtil.AssertClose(first.ToDoubleArray(), k.ToDoubleArray(), 1e-10, 1e-10);
        }
    }

    [Fact]
    public void SeedPageNarrowCnnShapes()
    {
        // The seed page's CNN on 32×32×3 (float32, VmapAxes = 0, fewer examples to keep the suite fast).
        var net = Serial(Conv(32, new[] { 3, 3 }), Relu(), Conv(32, new[] { 3, 3 }), Relu(), Conv(32, new[] { 3, 3 }), Flatten(), Dense(10));
        var rng = new Random(2);
        var xTrain = Tensor.RandomNormal(rng, new Shape(4, 32, 32, 3), DType.Float32);
        var xTest = Tensor.RandomNormal(rng, new Shape(2, 32, 32, 3), DType.Float32);
        var (_, p) = net.Init(3, xTrain.Shape, DType.Float32);
        Tensor? reference = null;
        foreach (var impl in ImplementationAgreementTests.Implementations)
        {
            var kernelFn = NeuralTangents.Empirical.KernelFn(net.Apply, traceAxes: new[] { -1 }, vmapAxes: 0, implementation: impl);
            var k = kernelFn(xTest, xTrain, null, p);
            Assert.Equal(new Shape(2, 4), k.Nngp!.Shape);
            Assert.Equal(new Shape(2, 4), k.Ntk!.Shape);
            reference ??= k.Ntk;
            TestUtil.AssertClose(reference.ToDoubleArray(), k.Ntk.ToDoubleArray(), 5e-3, 5e-3 * reference.ToDoubleArray().Max(Math.Abs));
        }
        var full = NeuralTangents.Empirical.KernelFn(net.Apply, traceAxes: new int[0], vmapAxes: 0, implementation: TestDefaults.Ntk)(xTest, xTrain, null, p);
        Assert.Equal(new Shape(2, 4, 10, 10), full.Ntk!.Shape);
        var diag = NeuralTangents.Empirical.NngpFn(net.Apply, diagonalAxes: new[] { 0 })(xTrain, null, p);
        Assert.Equal(new Shape(4), diag.Shape);
    }
}
