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

public class AggregateTests
{
    [Fact]
    public void AggregateSumsPredecessorsAndItsNtkMatchesFiniteDifferences()
    {
        // x (N=2, H=3, W=2, C=2), pattern over both spatial axes (2, 3, 2, 3, 2): y[n,j,c] = Σ_i x[n,i,c]·A[n,i,j].
        var x = Random(1, 2, 3, 2, 2);
        var a = Random(2, 2, 3, 2, 3, 2);
        var y = Run(Aggregate(), new Params(), x, a).Single();
        Assert.Equal(x.Shape, y.Shape);
        for (int n = 0; n < 2; n++)
            for (int j = 0; j < 6; j++)
                for (int c = 0; c < 2; c++)
                {
                    double s = 0;
                    for (int i = 0; i < 6; i++) s += x[n, i / 2, i % 2, c] * a[n, i / 2, i % 2, j / 2, j % 2];
                    Assert.Equal(s, y[n, j / 2, j % 2, c], 13);
                }
        // One axis (W): a (2, 2, 2) pattern applied to every row.
        var a1 = Random(3, 2, 2, 2);
        var y1 = Run(Aggregate(new[] { 2 }), new Params(), x, a1).Single();
        Assert.Equal(x[1, 2, 0, 1] * a1[1, 0, 1] + x[1, 2, 1, 1] * a1[1, 1, 1], y1[1, 2, 1, 1], 13);
        Assert.Contains("pattern must have shape (2, 3, 2, 3, 2)", Assert.Throws<ArgumentException>(() => Run(Aggregate(), new Params(), x, a1)).Message);

        // A graph network on [x, pattern]: the pattern is threaded past the Dense by Parallel(…, Identity).
        var net = Serial(Parallel(Dense(3, bStd: 0.1), Identity()), Aggregate(), Relu(), GlobalAvgPool(), Dense(2));
        var (_, p) = net.InitMany(0, new[] { x.Shape, a.Shape });
        var x2 = Random(4, 1, 3, 2, 2); var a2 = Random(5, 1, 3, 2, 3, 2);
        var sd = NeuralTangents.Empirical.NtkFn(net.ApplyMany, vmapAxes: 0, implementation: NtkImplementation.StructuredDerivatives)(new[] { x, a }, new[] { x2, a2 }, p)[0];
        var jc = NeuralTangents.Empirical.NtkFn(net.ApplyMany, implementation: NtkImplementation.JacobianContraction)(new[] { x, a }, new[] { x2, a2 }, p)[0];
        Assert.Equal(new Shape(2, 1), sd.Shape);
        TestUtil.AssertClose(jc, sd, 1e-10, 1e-12);
    }
}
