using NeuralTangents.Implementations;

namespace NeuralTangents.Tests.Implementations;

/// <summary>
/// Structured derivatives read a ∂f/∂y shared by all examples (the seed CNN's last conv layer: (10, 1, 26, 26, 32)
/// broadcast to (20, 10, 1, 26, 26, 32)) through <see cref="StructuredDerivatives.ReshapeView"/>: reshapes that only
/// add or drop size-1 axes keep the broadcast as a view (same storage, no copy) with the values of the copying
/// reshape; other reshapes copy as before.
/// </summary>
public class ReshapeViewTests
{
    [Fact]
    public void SizeOneAxesOfABroadcastStayAView()
    {
        var rng = new Random(4);
        var shared = Tensor.RandomNormal(rng, new Shape(10, 1, 6, 5, 3), DType.Float32);
        var b = shared.BroadcastInDim(new Shape(4, 10, 1, 6, 5, 3), [1, 2, 3, 4, 5]);
        var view = StructuredDerivatives.ReshapeView(b, new Shape(4, 10, 6, 1, 5, 3));
        Assert.Same(shared.Storage, view.Storage);
        Assert.Equal(new Shape(4, 10, 6, 1, 5, 3), view.Shape);
        Assert.Equal(b.Reshape(new Shape(4, 10, 6, 1, 5, 3)).ToDoubleArray(), view.ToDoubleArray());
        // Merging axes cannot be a view of a broadcast: the copying reshape.
        var merged = StructuredDerivatives.ReshapeView(b, new Shape(40, 6, 5, 3));
        Assert.Equal(b.Reshape(new Shape(40, 6, 5, 3)).ToDoubleArray(), merged.ToDoubleArray());
        Assert.True(merged.IsContiguous);
    }
}
