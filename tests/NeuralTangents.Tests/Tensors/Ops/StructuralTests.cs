using Xunit;
using FsCheck.Xunit;
using NeuralTangents.Tensors;
using static NeuralTangents.Tests.Tensors.Ops.OpsTestUtil;

namespace NeuralTangents.Tests.Tensors.Ops;

public class StructuralTests
{
    private static double[] NaivePad(Tensor x, double value, (int Lo, int Hi, int Interior)[] cfg, Shape outShape)
    {
        var res = Enumerable.Repeat(value, outShape.Size).ToArray();
        var st = outShape.ContiguousStrides();
        foreach (var idx in Indices(x.Shape))
        {
            int o = 0;
            bool inside = true;
            for (int k = 0; k < idx.Length && inside; k++)
            {
                int p = cfg[k].Lo + idx[k] * (cfg[k].Interior + 1);
                inside = p >= 0 && p < outShape[k];
                o += p * st[k];
            }
            if (inside) res[o] = x[idx];
        }
        return res;
    }

    [Property(MaxTest = 150)]
    public void Pad_matches_naive_with_negative_edges_and_interior(int seed)
    {
        var rng = new Random(seed);
        var dtype = AllDTypes[rng.Next(2)];
        var shape = RandomShape(rng, maxDim: 5);
        var x = RandomView(rng, shape, dtype);
        var cfg = new (int, int, int)[shape.Rank];
        for (int i = 0; i < shape.Rank; i++)
        {
            int interior = rng.Next(3);
            int full = shape[i] + Math.Max(shape[i] - 1, 0) * interior;
            int lo, hi;
            do { lo = rng.Next(-4, 4); hi = rng.Next(-4, 4); } while (lo + hi + full < 0);
            cfg[i] = (lo, hi, interior);
        }
        double value = rng.Next(2) == 0 ? 0 : -7.25;
        var y = Structural.Pad(x, value, cfg);
        var outShape = Structural.PadShape(shape, cfg);
        Assert.Equal(outShape, y.Shape);
        Assert.Equal(dtype, y.DType);
        Assert.True(y.IsContiguous || y.Size == 0);
        Assert.Equal(NaivePad(x, value, cfg, outShape), Values(y));
    }

    [Fact]
    public void Pad_known_example()
    {
        // lax.pad([1, 2, 3], 0, [(1, -1, 1)]) -> [0, 1, 0, 2, 0]  (the trailing 3 is cropped)
        var y = Structural.Pad(Tensor.FromArray(1, 2, 3), 0, [(1, -1, 1)]);
        Assert.Equal([0.0, 1, 0, 2, 0], y.ToDoubleArray());
        // Cropping everything leaves only padding.
        Assert.Equal([9.0, 9], Structural.Pad(Tensor.FromArray(1, 2), 9, [(-3, 3, 0)]).ToDoubleArray());
        Assert.Equal(new Shape(0), Structural.Pad(Tensor.FromArray(1, 2), 9, [(-1, -1, 0)]).Shape);
    }

    [Fact]
    public void Pad_errors_are_clear()
    {
        var x = Tensor.Zeros(new Shape(2, 3));
        var e = Assert.Throws<ArgumentException>(() => Structural.Pad(x, 0, [(0, 0, 0)]));
        Assert.StartsWith("pad: config has 1 entries but the operand shape (2, 3) has rank 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => Structural.PadShape(x.Shape, [(0, 0, 0), (0, 0, -1)]));
        Assert.StartsWith("pad: interior padding must be non-negative, got -1 on axis 1 of shape (2, 3)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Structural.PadShape(x.Shape, [(-2, -1, 0), (0, 0, 0)]));
        Assert.StartsWith("pad: config (lo=-2, hi=-1, interior=0) on axis 0 of shape (2, 3) gives negative size -1", e.Message);
    }

    [Property(MaxTest = 150)]
    public void Concatenate_matches_naive(int seed)
    {
        var rng = new Random(seed);
        var dtype = AllDTypes[rng.Next(2)];
        var baseShape = RandomShape(rng);
        if (baseShape.Rank == 0) baseShape = new Shape(rng.Next(4));
        int axis = rng.Next(baseShape.Rank);
        int parts = rng.Next(1, 4);
        var xs = new List<Tensor>();
        for (int j = 0; j < parts; j++)
        {
            var d = baseShape.ToArray();
            d[axis] = rng.Next(4);
            xs.Add(RandomView(rng, new Shape(d), dtype));
        }
        int spelled = rng.Next(2) == 0 ? axis : axis - baseShape.Rank;
        var y = Structural.Concatenate(xs, spelled);
        var outShape = Structural.ConcatenateShape(xs.Select(t => t.Shape).ToArray(), spelled);
        Assert.Equal(outShape, y.Shape);
        Assert.Equal(dtype, y.DType);
        var expected = Indices(outShape).Select(idx =>
        {
            int j = 0, at = idx[axis];
            while (at >= xs[j].Shape[axis]) { at -= xs[j].Shape[axis]; j++; }
            var src = (int[])idx.Clone();
            src[axis] = at;
            return xs[j][src];
        }).ToArray();
        Assert.Equal(expected, Values(y));
    }

    [Fact]
    public void Concatenate_errors_are_clear()
    {
        var a = Tensor.Zeros(new Shape(2, 3));
        var e = Assert.Throws<ArgumentException>(() => Structural.Concatenate([a, Tensor.Zeros(new Shape(2, 4))], 0));
        Assert.StartsWith("concatenate: operand 1 has shape (2, 4) but operand 0 has shape (2, 3); sizes must be equal except on axis 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => Structural.Concatenate([a, Tensor.Zeros(new Shape(2, 3, 1))], 1));
        Assert.StartsWith("concatenate: operand 1 has shape (2, 3, 1) of rank 3, but operand 0 has shape (2, 3) of rank 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => Structural.Concatenate([a, a.AsType(DType.Float32)], 1));
        Assert.StartsWith("concatenate: operand 1 has dtype float32 but operand 0 has float64", e.Message);
        e = Assert.Throws<ArgumentException>(() => Structural.Concatenate([], 0));
        Assert.StartsWith("concatenate: needs at least one operand", e.Message);
        e = Assert.Throws<ArgumentException>(() => Structural.Concatenate([Tensor.Scalar(1)], 0));
        Assert.StartsWith("concatenate: operands must have rank >= 1", e.Message);
        var o = Assert.Throws<ArgumentOutOfRangeException>(() => Structural.ConcatenateShape([a.Shape], 2));
        Assert.StartsWith("concatenate: axis 2 is out of range for operands of rank 2, shape (2, 3)", o.Message);
        Assert.Equal(new Shape(2, 7), Structural.ConcatenateShape([a.Shape, new Shape(2, 4)], -1));
    }
}
