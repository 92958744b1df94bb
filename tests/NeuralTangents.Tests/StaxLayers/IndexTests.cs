using static NeuralTangents.Stax.Stax;
using static NeuralTangents.Tests.StaxLayers.StaxTestUtil;
using Slice = NeuralTangents.Stax.Slice;

namespace NeuralTangents.Tests.StaxLayers;

public class IndexTests
{
    [Fact]
    public void IndexMatchesNumPyBasicIndexing()
    {
        var x = Random(1, 2, 5, 3);
        // x[:, 1::2, 0] → (2, 2)
        var y = Run1(Index(Slice.All, new Slice(1, null, 2), Slice.Int(0)), new Params(), x);
        Assert.Equal(new Shape(2, 2), y.Shape);
        for (int n = 0; n < 2; n++) { Assert.Equal(x[n, 1, 0], y[n, 0]); Assert.Equal(x[n, 3, 0], y[n, 1]); }
        // x[..., -1] → (2, 5)
        var z = Run1(Index(Slice.Ellipsis, Slice.Int(-1)), new Params(), x);
        Assert.Equal(new Shape(2, 5), z.Shape);
        Assert.Equal(x[1, 4, 2], z[1, 4]);
        // x[:, -3:-1] (Python clamps/negative bounds); trailing axes implicit.
        var w = Run1(Index(Slice.All, new Slice(-3, -1)), new Params(), x);
        Assert.Equal(new Shape(2, 2, 3), w.Shape);
        Assert.Equal(x[0, 2, 1], w[0, 0, 1]);
        Assert.Equal(new Shape(7, 2, 3), Index(Slice.All, new Slice(-3, -1)).Init(0, new Shape(7, 5, 3)).OutputShape);
        Assert.Equal("Index[:,-3:-1]", Index(Slice.All, new Slice(-3, -1)).Description);
    }

    [Fact]
    public void IndexErrors()
    {
        Assert.Contains("batch axis", Assert.Throws<ArgumentException>(() => Index(Slice.Int(0)).Init(0, new Shape(2, 3))).Message);
        Assert.Contains("index 3 is out of range for axis 1 of size 3", Assert.Throws<ArgumentException>(() => Index(Slice.All, Slice.Int(3)).Init(0, new Shape(2, 3))).Message);
        Assert.Throws<ArgumentException>(() => Index(Slice.Ellipsis, Slice.Ellipsis));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Slice(0, 2, -1));
    }
}
