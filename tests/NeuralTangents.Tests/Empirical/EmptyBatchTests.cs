using static NeuralTangents.Stax.Stax;
using NtEmpirical = NeuralTangents.Empirical;

namespace NeuralTangents.Tests.Empirical;

/// <summary>An empty batch gives an empty kernel of the layout's shape, as NumPy/JAX do, for every implementation.</summary>
public sealed class EmptyBatchTests
{
    [Theory]
    [InlineData(NtkImplementation.JacobianContraction, false)]
    [InlineData(NtkImplementation.NtkVectorProducts, true)]
    [InlineData(NtkImplementation.StructuredDerivatives, true)]
    [InlineData(NtkImplementation.Auto, false)]
    public void Empty_x1_or_x2_gives_an_empty_kernel(NtkImplementation impl, bool vmap)
    {
        var net = Serial(Dense(3, 1, 0.1), Relu(), Dense(2, 1, 0.1));
        var x = Tensor.RandomNormal(new Random(0), new Shape(4, 5));
        var empty = Tensor.Zeros(new Shape(0, 5));
        var p = net.Init(0, x.Shape).Params;
        var fn = NtEmpirical.KernelFn(net.Apply, vmapAxes: vmap ? 0 : null, implementation: impl);
        var k = fn(empty, x, null, p);
        Assert.Equal(new Shape(0, 4), k.Ntk!.Shape);
        Assert.Equal(new Shape(0, 4), k.Nngp!.Shape);
        Assert.Equal(new Shape(4, 0, 2, 2), NtEmpirical.NtkFn(net.Apply, traceAxes: [], implementation: impl)(x, empty, p).Shape);
        Assert.Equal(new Shape(0, 0), NtEmpirical.NtkFn(net.Apply, implementation: impl)(empty, null, p).Shape);
        Assert.Equal(DType.Float64, k.Ntk.DType);
    }

    [Fact]
    public void Broadcasting_a_size_1_axis_against_0_gives_0_as_numpy()
    {
        var g = NeuralTangents.Autodiff.Ad.Trace(xs => new[] { xs[0] + xs[1] },
            new[] { new NeuralTangents.Autodiff.Ir.TensorType(new Shape(0, 3), DType.Float64), new NeuralTangents.Autodiff.Ir.TensorType(new Shape(1, 3), DType.Float64) });
        Assert.Equal(new Shape(0, 3), g.OutputTypes[0].Shape);
    }
}
