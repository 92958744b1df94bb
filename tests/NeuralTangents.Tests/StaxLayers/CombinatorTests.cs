using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;
using static NeuralTangents.Tests.StaxLayers.StaxTestUtil;

namespace NeuralTangents.Tests.StaxLayers;

public class CombinatorTests
{
    private static string Names(Params p) => string.Join(" ", p.Select(kv => $"{kv.Key}:{kv.Value.Shape}"));

    [Fact]
    public void PlainSerialNamesAreUnchanged()
    {
        var (_, p) = Serial(Conv(3, new[] { 2, 2 }, bStd: 0.1), Relu(), Flatten(), Dense(2)).Init(0, new Shape(1, 4, 4, 2));
        Assert.Equal("0.W:(2, 2, 2, 3) 0.b:(1, 1, 1, 3) 3.W:(27, 2)", Names(p));
    }

    [Fact]
    public void NestedNamesFollowTheParamsTree()
    {
        // params[3][1][0] is the Dense of branch 1's serial inside the parallel at position 3.
        var net = Serial(Dense(4), Relu(), FanOut(2),
            Parallel(Dense(3, bStd: 0.5), Serial(Dense(3), Erf())),
            FanInSum(), Repeat(Serial(Dense(3), Relu()), 2), Dense(1));
        var (shape, p) = net.Init(0, new Shape(5, 2));
        Assert.Equal(new Shape(5, 1), shape);
        Assert.Equal("0.W:(2, 4) 3.0.W:(4, 3) 3.0.b:(1, 3) 3.1.0.W:(4, 3) 5.0.W:(2, 3, 3) 6.W:(3, 1)", Names(p));
        Assert.Equal("Dense(4),Relu,FanOut(2),Parallel(Dense(3,b_std=0.5),Serial(Dense(3),Erf)),FanInSum,Repeat(Serial(Dense(3),Relu),2),Dense(1)", net.Description);
    }

    [Fact]
    public void ResidualBlockComputesMainPlusShortcut()
    {
        var main = Serial(Dense(3), Relu(), Dense(3));
        var net = Serial(FanOut(2), Parallel(main, Identity()), FanInSum());
        var (_, p) = net.Init(2, new Shape(4, 3));
        var x = Random(1, 4, 3);
        var branch = new Params(p.Select(kv => new KeyValuePair<string, Tensor>(kv.Key["1.0.".Length..], kv.Value)));
        var expected = Run1(main, branch, x).ToDoubleArray().Zip(x.ToDoubleArray(), (a, b) => a + b).ToArray();
        TestUtil.AssertClose(expected, Run1(net, p, x).ToDoubleArray(), 1e-15, 1e-15);
    }

    [Fact]
    public void FanInProdAndConcat()
    {
        var a = Random(1, 2, 3); var b = Random(2, 2, 3);
        var prod = Run(FanInProd(), new Params(), a, b).Single().ToDoubleArray();
        Assert.Equal(a.ToDoubleArray().Zip(b.ToDoubleArray(), (u, v) => u * v), prod);
        var c = Random(3, 2, 1);
        var cat = Run(FanInConcat(), new Params(), a, c).Single();
        Assert.Equal(new Shape(2, 4), cat.Shape);
        Assert.Equal(a[1, 2], cat[1, 2]); Assert.Equal(c[1, 0], cat[1, 3]);
        var cat0 = Run(FanInConcat(0), new Params(), a, b).Single();
        Assert.Equal(new Shape(4, 3), cat0.Shape);
        Assert.Equal(b[1, 2], cat0[3, 2]);
        Assert.Equal(new Shape(2, 4), FanInConcat().InitMany(0, new[] { new Shape(2, 3), new Shape(2, 1) }).OutputShapes.Single());
    }

    [Fact]
    public void RepeatStacksDrawsAndAppliesSliceIPerRepetition()
    {
        var layer = Serial(Dense(3, bStd: 0.2), Erf());
        var (_, p) = Repeat(layer, 3).Init(4, new Shape(2, 3));
        Assert.Equal("0.W:(3, 3, 3) 0.b:(3, 1, 3)", Names(p));
        // The unrolled serial over the three slices gives the same output.
        var unrolled = new Params();
        for (int i = 0; i < 3; i++)
            foreach (var kv in p)
                unrolled.Add($"{i}.{kv.Key}", kv.Value.Slice(new[] { i }.Concat(new int[kv.Value.Rank - 1]).ToArray(), new[] { i + 1 }.Concat(kv.Value.Shape.Skip(1)).ToArray()).Reshape(new Shape(kv.Value.Shape.Skip(1))));
        var x = Random(5, 2, 3);
        TestUtil.AssertClose(Run1(Serial(layer, layer, layer), unrolled, x), Run1(Repeat(layer, 3), p, x), 1e-15, 1e-15);
        // Distinct draws per repetition.
        Assert.NotEqual(unrolled["0.0.W"].ToDoubleArray(), unrolled["1.0.W"].ToDoubleArray());
    }

    [Fact]
    public void ArityErrorsAreClear()
    {
        var e1 = Assert.Throws<ArgumentException>(() => Serial(FanOut(2), Dense(3)).Init(0, new Shape(2, 3)));
        Assert.Contains("Dense(3) takes one input tensor, got 2", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Serial(FanOut(3), Parallel(Dense(1), Dense(1))).InitMany(0, new[] { new Shape(2, 3) }));
        Assert.Contains("takes 2 input tensors (one per branch), got 3", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => Serial(FanOut(2), Parallel(Dense(1), Dense(2)), FanInSum()).Init(0, new Shape(2, 3)));
        Assert.Contains("FanInSum: input tensors must have equal shapes", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => FanOut(2).Init(0, new Shape(2, 3)));
        Assert.Contains("returns 2 tensors", e4.Message);
        var e5 = Assert.Throws<ArgumentException>(() => Repeat(Dense(4), 2).Init(0, new Shape(2, 3)));
        Assert.Contains("must keep its input shape", e5.Message);
    }

    [Fact]
    public void ParallelReturnsOneOutputPerBranch()
    {
        var net = Serial(FanOut(2), Parallel(Dense(2), Dense(5)));
        var (shapes, p) = net.InitMany(0, new[] { new Shape(3, 4) });
        Assert.Equal(new[] { new Shape(3, 2), new Shape(3, 5) }, shapes);
        var ys = Run(net, p, Random(0, 3, 4));
        Assert.Equal(new[] { new Shape(3, 2), new Shape(3, 5) }, ys.Select(y => y.Shape));
    }

    [Fact]
    public void WideResnetParameterNamesAndShapes()
    {
        var (shape, p) = Examples.WideResnet(2, 0.25, 10, new[] { 2, 2 }).Init(0, new Shape(1, 8, 8, 1));
        Assert.Equal(new Shape(1, 10), shape);
        // Group 2 (layer 2), block 0 (channel mismatch): Main's convs "2.0.1.0.1.W", "2.0.1.0.3.W"; shortcut "2.0.1.1.W".
        Assert.Equal(new Shape(3, 3, 16, 4), p["1.0.1.0.1.W"].Shape);
        Assert.Equal(new Shape(3, 3, 4, 8), p["2.0.1.0.1.W"].Shape);
        Assert.Equal(new Shape(3, 3, 8, 8), p["2.0.1.0.3.W"].Shape);
        Assert.Equal(new Shape(3, 3, 4, 8), p["2.0.1.1.W"].Shape);
        Assert.Equal(new Shape(3, 3, 8, 8), p["2.1.1.0.1.W"].Shape);
        Assert.False(p.ContainsKey("2.1.1.1.W"));                 // identity shortcut
        Assert.Equal(new Shape(16, 10), p["6.W"].Shape);
        Assert.Equal(new Shape(1, 10), p["6.b"].Shape);
        Assert.Equal(1 + 3 * 2 * 2 + 3 + 2, p.Count);
    }
}
