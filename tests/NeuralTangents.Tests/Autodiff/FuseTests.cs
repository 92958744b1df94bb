using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Implementations;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>
/// Element-wise loop fusion (<see cref="Ad.Fuse"/>): a fused graph computes what the unfused graph computes. Each fused
/// step runs the same span kernel on the same values as the unfused operation, so float64 and float32 results are
/// equal bit for bit (compared as values, so a size-1 contraction's +0 and the product's −0 count as equal) except
/// for transcendental steps, whose vectorised kernels may round a block's tail differently: ≤ 1e-15 relative in
/// float64, ≤ 1e-6 in float32 (a few ulps).
/// </summary>
public class FuseTests
{
    private static Shape Sub(Random rng, Shape s, out int[] dims)
    {
        // A broadcast source: a random subset of the axes, some kept at size 1.
        var keep = Enumerable.Range(0, s.Rank).Where(_ => rng.Next(2) == 0).ToArray();
        dims = keep;
        return new Shape(keep.Select(a => rng.Next(3) == 0 ? 1 : s[a]).ToArray());
    }

    /// <summary>
    /// Random element-wise DAG over an output shape of rank 1–4 (sizes 1–5, sometimes one axis long enough to span
    /// several blocks): leaves are full inputs, transposed inputs, broadcast inputs (subsets of the axes, size-1 axes)
    /// and broadcast scalars; K = 1 outer products of two inputs; binary, comparison and unary steps; some
    /// intermediates read twice or also returned (so they stay materialised).
    /// </summary>
    [Property(MaxTest = 200)]
    public Property FusedRandomChainsComputeTheSameValues(PositiveInt seed, bool f32)
    {
        var rng = new Random(seed.Get);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        int rank = rng.Next(1, 5);
        var shape = new Shape(Enumerable.Range(0, rank).Select(a => a == rank - 1 && rng.Next(4) == 0 ? rng.Next(1000, 5000) : rng.Next(1, 6)).ToArray());
        var types = new List<TensorType>();
        var makers = new List<Func<Tracer[], Tracer>>();
        int nIn = rng.Next(2, 6);
        for (int i = 0; i < nIn; i++)
        {
            int idx = i, kind = rng.Next(4);
            if (kind == 0) { types.Add(new TensorType(shape, dtype)); makers.Add(x => x[idx]); }
            else if (kind == 1)
            {
                var perm = Enumerable.Range(0, rank).OrderBy(_ => rng.Next()).ToArray();
                // transpose(x, perm): output axis a is x's axis perm[a], so x's axis perm[a] has size shape[a].
                types.Add(new TensorType(new Shape(Enumerable.Range(0, rank).Select(j => shape[Array.IndexOf(perm, j)]).ToArray()), dtype));
                makers.Add(x => Lax.Transpose(x[idx], perm));
            }
            else if (kind == 2)
            {
                var s = Sub(rng, shape, out var dims);
                types.Add(new TensorType(s, dtype));
                makers.Add(x => Lax.BroadcastInDim(x[idx], shape, dims));
            }
            else
            {
                // An outer product with a size-1 contraction: a (rows…, 1) · b (1, cols…) over a split of the output axes.
                int split = rng.Next(0, rank + 1);
                types.Add(new TensorType(new Shape(shape.Take(split).Append(1).ToArray()), dtype));
                int j = types.Count;
                types.Add(new TensorType(new Shape(new[] { 1 }.Concat(shape.Skip(split)).ToArray()), dtype));
                makers.Add(x => Lax.DotGeneral(x[idx], x[j], new DotDimensionNumbers([split], [0], [], [])));
                i++; nIn++;
            }
        }
        int steps = rng.Next(2, 9);
        var ops = Enumerable.Range(0, steps).Select(_ => rng.Next(11)).ToArray();
        var picks = Enumerable.Range(0, 2 * steps).Select(_ => rng.Next(1 << 20)).ToArray();
        double c = Math.Round(rng.NextDouble() * 4 - 2, 3);
        bool alsoReturn = rng.Next(3) == 0;
        var g = Ad.Trace(ins =>
        {
            var vals = makers.Select(m => m(ins)).ToList();
            var b = ins[0].Builder;
            Tracer Pick(int k) => k % 7 == 0 ? b.Constant(Tensor.Scalar(c, dtype).BroadcastTo(shape)) : vals[k % vals.Count];
            for (int s = 0; s < steps; s++)
            {
                Tracer x = Pick(picks[2 * s]), y = Pick(picks[2 * s + 1]);
                vals.Add(ops[s] switch
                {
                    0 => Lax.Add(x, y), 1 => Lax.Sub(x, y), 2 => Lax.Mul(x, y), 3 => Lax.Max(x, y), 4 => Lax.Min(x, y),
                    5 => Lax.Compare(CompareOp.Gt, x, y), 6 => Lax.Compare(CompareOp.Eq, x, y), 7 => Lax.Neg(x),
                    8 => Lax.Tanh(x), 9 => Lax.Abs(x), _ => Lax.Mul(Lax.Add(x, y), y),
                });
            }
            return alsoReturn ? new[] { vals[^1], vals[^2] } : new[] { vals[^1] };
        }, types.ToArray());
        var fused = Ad.Fuse(g);
        var xs = types.Select(t => Tensor.RandomNormal(rng, t.Shape, dtype)).ToArray();
        var want = Ad.Evaluate(g, xs);
        var got = Ad.Evaluate(fused, xs);
        double tol = f32 ? 1e-6 : 1e-15;
        string what = $"{g}\n{fused}";
        var prop = (fused.Outputs.Select(o => o.Type).SequenceEqual(g.Outputs.Select(o => o.Type))).Label("output types changed: " + what);
        for (int o = 0; o < want.Length; o++)
        {
            var w = want[o].ToDoubleArray(); var h = got[o].ToDoubleArray();
            int bad = Enumerable.Range(0, w.Length).FirstOrDefault(i => !(w[i] == h[i] || double.IsNaN(w[i]) && double.IsNaN(h[i])
                || Math.Abs(w[i] - h[i]) <= tol * Math.Abs(w[i])), -1);
            prop = prop.And((bad < 0).Label($"output {o} element {bad}: {(bad < 0 ? 0 : w[bad])} vs {(bad < 0 ? 0 : h[bad])}: {what}"));
        }
        return prop.Classify(fused.Equations.Any(e => e.Primitive is FusedElementwisePrimitive), "fused")
            .Classify(fused.Equations.Count < g.Equations.Count, "fewer equations");
    }

    /// <summary>The fused primitive's vmap and JVP rules give what the unfused graph's rules give (float64).</summary>
    [Fact]
    public void FusedGraphsSupportVmapAndJvp()
    {
        var t = new[] { new TensorType(new Shape(3, 4), DType.Float64), new TensorType(new Shape(4), DType.Float64), new TensorType(new Shape(3, 1), DType.Float64) };
        var g = Ad.Trace(x =>
        {
            var bcast = Lax.BroadcastInDim(x[1], new Shape(3, 4), [1]);
            var outer = Lax.DotGeneral(x[2], Lax.Reshape(x[1], new Shape(1, 4)), new DotDimensionNumbers([1], [0], [], []));
            var y = Lax.Mul(Lax.Tanh(Lax.Add(x[0], bcast)), outer);
            return new[] { Lax.Sub(y, Lax.Mul(x[0], x[0])) };
        }, t);
        var f = Ad.Fuse(g);
        Assert.Single(f.Equations, e => e.Primitive is FusedElementwisePrimitive);
        Assert.DoesNotContain(f.Equations, e => e.Primitive is DotGeneralPrimitive);
        var rng = new Random(4);
        var xs = t.Select(ty => Tensor.RandomNormal(rng, ty.Shape)).ToArray();
        var ts = t.Select(ty => Tensor.RandomNormal(rng, ty.Shape)).ToArray();
        TestUtil.AssertClose(Ad.Evaluate(Ad.JvpGraph(g), xs.Concat(ts).ToArray())[1], Ad.Evaluate(Ad.JvpGraph(f), xs.Concat(ts).ToArray())[1], 1e-15, 1e-15);
        // vmap over a batch of x0 at axis 1 and of x2 at axis 0, x1 unbatched.
        var inAxes = new int?[] { 1, null, 0 };
        var bx = new[] { Tensor.RandomNormal(rng, new Shape(3, 5, 4)), xs[1], Tensor.RandomNormal(rng, new Shape(5, 3, 1)) };
        TestUtil.AssertClose(Ad.Evaluate(Ad.Vmap(g, inAxes, [0], 5), bx)[0], Ad.Evaluate(Ad.Vmap(f, inAxes, [0], 5), bx)[0], 1e-15, 1e-15);
    }

    /// <summary>
    /// NtkVectorProducts' pair graph on a Dense network: fusing removes every K = 1 dot_general and most element-wise
    /// equations, and computes the same block (float64, bit for bit up to signed zeros).
    /// </summary>
    [Fact]
    public void NtkVectorProductsPairGraphFusesToTheSameBlock()
    {
        var net = Serial(Flatten(), Dense(96), Relu(), Dense(64), Relu(), Dense(10));
        var x = Tensor.RandomNormal(new Random(2), new Shape(3, 4, 4, 2));
        var p = net.Init(0, x.Shape, DType.Float64).Params;
        var opt = NtkVectorProducts.DebugPairGraph(net.Apply, p, [x], 0, simplify: true);
        var fused = NtkVectorProducts.DebugPairGraph(net.Apply, p, [x], 0, simplify: true, fuse: true);
        static bool IsOuter(Equation e) => e.Primitive is DotGeneralPrimitive d && d.Dims.LhsContracting.All(a => e.Inputs[0].Type.Shape[a] == 1);
        Assert.Contains(opt.Equations, IsOuter);
        Assert.DoesNotContain(fused.Equations, IsOuter);
        Assert.True(fused.Equations.Count < opt.Equations.Count * 3 / 4, $"{fused.Equations.Count} vs {opt.Equations.Count} equations");
        Assert.True(GraphCost.PeakBytes(fused) < GraphCost.PeakBytes(opt));
        var xs = x.Reshape(3, 1, 4, 4, 2);
        var basis = StandardBasis.Of(new Shape(1, 10), DType.Float64, 0, 10);
        var x2 = x.Slice([1, 0, 0, 0], [2, 4, 4, 2]).Contiguous().Reshape(1, 1, 4, 4, 2);
        var args = p.Values.Append(xs).Append(x2).Append(basis).ToArray();
        Assert.Equal(Ad.Evaluate(opt, args)[0].ToDoubleArray(), Ad.Evaluate(fused, args)[0].ToDoubleArray());
    }

    [Fact]
    public void LeavesSingleOperationsAndBroadcastComputationsUnfused()
    {
        // exp(x) broadcast into a larger product: exp stays its own equation (fusing would recompute it per output element).
        var t = new[] { new TensorType(new Shape(4), DType.Float64), new TensorType(new Shape(3, 4), DType.Float64) };
        var g = Ad.Trace(x => new[] { Lax.Mul(Lax.BroadcastInDim(Lax.Exp(Lax.Neg(x[0])), new Shape(3, 4), [1]), x[1]) }, t);
        var f = Ad.Fuse(g);
        Assert.Contains(f.Equations, e => e.Primitive is FusedElementwisePrimitive && e.Output.Type.Shape.Size == 4);
        Assert.DoesNotContain(f.Equations, e => e.Primitive is FusedElementwisePrimitive && e.Output.Type.Shape.Size == 12);
        var single = Ad.Trace(x => new[] { Lax.Add(x[0], x[0]) }, new[] { t[0] });
        Assert.Same(single, Ad.Fuse(single));
    }
}
