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
/// The algebraic simplifier (<see cref="Ad.Simplify"/>): every rewrite computes the same values as the unrewritten
/// graph (float64; reassociating a sum of at most a few hundred products changes it by a few ulps, hence 1e-12
/// relative to the largest magnitude), never costs more FLOPs, and removes NTK-VP's weight-sized cotangents.
/// </summary>
public class SimplifyTests
{
    private static List<T> Shuffle<T>(Random rng, IEnumerable<T> xs) => xs.OrderBy(_ => rng.Next()).ToList();

    /// <summary>
    /// Random chain <c>transpose?(dot_general(C′, transpose(dot_general(A′, B))))</c> (either outer operand order), where
    /// A′ and C′ are transposed inputs: random batch / contracting / free axes and sizes 1–5 on every product.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property SimplifiedDotChainComputesTheSameValues(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        int next = 0;
        var size = new Dictionary<int, int>();
        List<int> Many(int lo, int hi) => Enumerable.Range(0, rng.Next(lo, hi + 1)).Select(_ => { size[next] = rng.Next(1, 6); return next++; }).ToList();
        var ib = Many(0, 1); var ic = Many(1, 2); var af = Many(0, 2); var bf = Many(0, 2);
        var la = Shuffle(rng, ib.Concat(ic).Concat(af));
        var lb = Shuffle(rng, ib.Concat(ic).Concat(bf));
        var inner = new DotDimensionNumbers(ic.Select(l => la.IndexOf(l)).ToArray(), ic.Select(l => lb.IndexOf(l)).ToArray(), ib.Select(l => la.IndexOf(l)).ToArray(), ib.Select(l => lb.IndexOf(l)).ToArray());
        var ld = ib.Concat(la.Where(af.Contains)).Concat(lb.Where(bf.Contains)).ToList();
        var perm = Shuffle(rng, Enumerable.Range(0, ld.Count)).ToArray();
        var ldp = perm.Select(i => ld[i]).ToList();
        var roles = ldp.ToDictionary(l => l, _ => rng.Next(3));   // 0 contracted with C, 1 batch with C, 2 free
        var oc = ldp.Where(l => roles[l] == 0).ToList(); var ob = ldp.Where(l => roles[l] == 1).ToList();
        var lc = Shuffle(rng, oc.Concat(ob).Concat(Many(0, 2)));
        bool dLeft = rng.Next(2) == 0;
        var (lhs, rhs) = dLeft ? (ldp, lc) : (lc, ldp);
        var outer = new DotDimensionNumbers(oc.Select(l => lhs.IndexOf(l)).ToArray(), oc.Select(l => rhs.IndexOf(l)).ToArray(), ob.Select(l => lhs.IndexOf(l)).ToArray(), ob.Select(l => rhs.IndexOf(l)).ToArray());
        // Inputs A and C arrive in a permuted layout and are transposed first (transpose folding / composition).
        var pa = Shuffle(rng, Enumerable.Range(0, la.Count)).ToArray();
        var pc = Shuffle(rng, Enumerable.Range(0, lc.Count)).ToArray();
        int[] Inverse(int[] p) { var q = new int[p.Length]; for (int i = 0; i < p.Length; i++) q[p[i]] = i; return q; }
        Shape ShapeOf(IEnumerable<int> ls) => new(ls.Select(l => size[l]).ToArray());
        var types = new[]
        {
            new TensorType(ShapeOf(Inverse(pa).Select(i => la[i])), DType.Float64),
            new TensorType(ShapeOf(lb), DType.Float64),
            new TensorType(ShapeOf(Inverse(pc).Select(i => lc[i])), DType.Float64),
        };
        bool postTranspose = rng.Next(2) == 0;
        int[]? post = null;
        var g = Ad.Trace(ins =>
        {
            var a = Lax.Transpose(ins[0], pa);
            var c = Lax.Transpose(ins[2], pc);
            var d = Lax.Transpose(Lax.DotGeneral(a, ins[1], inner), perm);
            var e = dLeft ? Lax.DotGeneral(d, c, outer) : Lax.DotGeneral(c, d, outer);
            if (postTranspose) { post = Shuffle(rng, Enumerable.Range(0, e.Rank)).ToArray(); e = Lax.Transpose(e, post); }
            return new[] { e };
        }, types);
        var s = Ad.Simplify(g);
        var xs = types.Select(t => Tensor.RandomNormal(rng, t.Shape)).ToArray();
        var want = Ad.Evaluate(g, xs)[0];
        var got = Ad.Evaluate(s, xs)[0];
        string what = $"A{types[0].Shape} B{types[1].Shape} C{types[2].Shape} inner {inner} perm [{string.Join(",", perm)}] outer {outer} dLeft {dLeft}\n{g}\n{s}";
        if (got.Shape != want.Shape || s.Outputs[0].Type != g.Outputs[0].Type) return false.Label("output type changed: " + what);
        double scale = want.ToDoubleArray().Select(Math.Abs).DefaultIfEmpty(0).Max();
        double err = want.ToDoubleArray().Zip(got.ToDoubleArray(), (x, y) => Math.Abs(x - y)).DefaultIfEmpty(0).Max();
        bool reassociated = GraphCost.Flops(s) < GraphCost.Flops(g) * SimplifyTransformGain;
        return (err <= 1e-12 * Math.Max(scale, 1e-300)).Label($"max error {err:E3} of {scale:E3}: {what}")
            .And((GraphCost.Flops(s) <= GraphCost.Flops(g) * (1 + 1e-12)).Label($"FLOPs {GraphCost.Flops(s)} > {GraphCost.Flops(g)}: {what}"))
            .Classify(reassociated, "reassociated");
    }

    private const double SimplifyTransformGain = 0.99;

    private static void Close(Tensor want, Tensor got) =>
        TestUtil.AssertClose(want, got, 1e-12, 1e-12 * want.ToDoubleArray().Select(Math.Abs).Max());

    [Fact]
    public void MovesUniformScalingOntoTheSmallerDotOperand()
    {
        // transpose(a (2, 3) · b (3, 40)) · 0.5: the scaling moves onto a (6 elements), no mul of the (40, 2) product is left.
        var t = new[] { new TensorType(new Shape(2, 3), DType.Float64), new TensorType(new Shape(3, 40), DType.Float64) };
        var g = Ad.Trace(ins =>
        {
            var d = Lax.Transpose(Lax.DotGeneral(ins[0], ins[1], new DotDimensionNumbers([1], [0], [], [])), 1, 0);
            return new[] { Lax.Mul(d, d.Builder.Constant(Tensor.Scalar(0.5).BroadcastTo(d.Shape))) };
        }, t);
        var s = Ad.Simplify(g);
        Assert.Contains(g.Equations, e => e.Primitive is MulPrimitive && e.Output.Type.Shape.Elements == 80);
        Assert.DoesNotContain(s.Equations, e => e.Primitive is MulPrimitive && e.Output.Type.Shape.Elements == 80);
        Assert.Contains(s.Equations, e => e.Primitive is MulPrimitive && e.Output.Type.Shape.Elements == 6);
        Assert.Equal(g.Outputs[0].Type, s.Outputs[0].Type);
        var rng = new Random(5);
        var xs = t.Select(ty => Tensor.RandomNormal(rng, ty.Shape)).ToArray();
        Close(Ad.Evaluate(g, xs)[0], Ad.Evaluate(s, xs)[0]);
    }

    [Fact]
    public void KeepsScalingOfAProductReadElsewhereOrOfANonUniformConstant()
    {
        var t = new[] { new TensorType(new Shape(2, 3), DType.Float64), new TensorType(new Shape(3, 40), DType.Float64) };
        var dims = new DotDimensionNumbers([1], [0], [], []);
        // The product is also an output: scaling an operand would change that output.
        var shared = Ad.Trace(ins =>
        {
            var d = Lax.DotGeneral(ins[0], ins[1], dims);
            return new[] { d, Lax.Mul(d, d.Builder.Constant(Tensor.Scalar(2.0).BroadcastTo(d.Shape))) };
        }, t);
        Assert.Contains(Ad.Simplify(shared).Equations, e => e.Primitive is MulPrimitive && e.Output.Type.Shape.Elements == 80);
        // A constant with different elements is not a uniform scaling.
        var ramp = Tensor.Wrap(Enumerable.Range(0, 80).Select(i => (double)i).ToArray(), new Shape(2, 40));
        var nonUniform = Ad.Trace(ins =>
        {
            var d = Lax.DotGeneral(ins[0], ins[1], dims);
            return new[] { Lax.Mul(d, d.Builder.Constant(ramp)) };
        }, t);
        Assert.Contains(Ad.Simplify(nonUniform).Equations, e => e.Primitive is MulPrimitive && e.Output.Type.Shape.Elements == 80);
    }

    [Fact]
    public void ReassociatesOuterProductThenContraction()
    {
        // x1 (n, k) · (x2 (m, k)ᵀ · δ (m, o)): the (k, o) weight-sized intermediate goes away.
        var t = new[] { new TensorType(new Shape(3, 200), DType.Float64), new TensorType(new Shape(4, 200), DType.Float64), new TensorType(new Shape(4, 50), DType.Float64) };
        var g = Ad.Trace(ins =>
        {
            var w = Lax.DotGeneral(ins[1], ins[2], new DotDimensionNumbers([0], [0], [], []));      // (k, o)
            return new[] { Lax.DotGeneral(ins[0], w, new DotDimensionNumbers([1], [0], [], [])) };  // (n, o)
        }, t);
        var s = Ad.Simplify(g);
        Assert.Contains(g.Equations, e => e.Output.Type.Shape.Elements == 200 * 50);
        Assert.DoesNotContain(s.Equations, e => e.Output.Type.Shape.Elements >= 200 * 50);
        Assert.True(GraphCost.Flops(s) < GraphCost.Flops(g) / 10, $"{GraphCost.Flops(s)} vs {GraphCost.Flops(g)}");
        var rng = new Random(3);
        var xs = t.Select(ty => Tensor.RandomNormal(rng, ty.Shape)).ToArray();
        Close(Ad.Evaluate(g, xs)[0], Ad.Evaluate(s, xs)[0]);
    }

    [Fact]
    public void ComposesTransposesAndDropsIdentities()
    {
        var g = Ad.Trace(x => Lax.Neg(Lax.Transpose(Lax.Transpose(Lax.Transpose(x, 1, 2, 0), 2, 0, 1), 1, 0, 2)), new TensorType(new Shape(2, 3, 4), DType.Float64));
        var s = Ad.Simplify(g);
        Assert.Equal(2, s.Equations.Count); // one transpose (1,0,2) and the neg
        var x = Tensor.RandomNormal(new Random(1), new Shape(2, 3, 4));
        Assert.Equal(Ad.Evaluate(g, x)[0].ToDoubleArray(), Ad.Evaluate(s, x)[0].ToDoubleArray());
        var id = Ad.Trace(y => Lax.Neg(Lax.Transpose(Lax.Transpose(y, 1, 0), 1, 0)), new TensorType(new Shape(2, 3), DType.Float64));
        Assert.Single(Ad.Simplify(id).Equations);
    }

    [Fact]
    public void KeepsAnInnerProductReadTwice()
    {
        // The inner product is also an output: reassociating would compute it anyway, so the graph stays.
        var t = new[] { new TensorType(new Shape(3, 200), DType.Float64), new TensorType(new Shape(4, 200), DType.Float64), new TensorType(new Shape(4, 50), DType.Float64) };
        var g = Ad.Trace(ins =>
        {
            var w = Lax.DotGeneral(ins[1], ins[2], new DotDimensionNumbers([0], [0], [], []));
            return new[] { Lax.DotGeneral(ins[0], w, new DotDimensionNumbers([1], [0], [], [])), w };
        }, t);
        Assert.Equal(GraphCost.Flops(g), GraphCost.Flops(Ad.Simplify(g)));
    }

    /// <summary>
    /// The graph NtkVectorProducts evaluates for a block of example pairs (vmapped over the basis and both example axes)
    /// on a Dense network: before simplification it holds one weight-sized cotangent per basis vector and x2 example;
    /// after, no intermediate is that large, it needs less than half the FLOPs, and it computes the same block.
    /// </summary>
    [Fact]
    public void NtkVectorProductsPairGraphHasNoWeightSizedIntermediate()
    {
        var net = Serial(Flatten(), Dense(128), Relu(), Dense(128), Relu(), Dense(10));
        var x = Tensor.RandomNormal(new Random(2), new Shape(2, 8, 8, 1));
        var p = net.Init(0, x.Shape, DType.Float64).Params;
        var raw = NtkVectorProducts.DebugPairGraph(net.Apply, p, [x], 0, simplify: false);
        var opt = NtkVectorProducts.DebugPairGraph(net.Apply, p, [x], 0, simplify: true);
        // Smallest weight (128×10) times basis (10) (one x2 example per block).
        long weightSized = 128 * 10 * 10;
        Assert.Contains(raw.Equations, e => e.Output.Type.Shape.Elements >= weightSized);
        Assert.DoesNotContain(opt.Equations, e => e.Output.Type.Shape.Elements >= weightSized);
        Assert.True(GraphCost.Flops(opt) < GraphCost.Flops(raw) / 2, $"{GraphCost.Flops(opt)} vs {GraphCost.Flops(raw)}");
        var xs = x.Reshape(2, 1, 8, 8, 1);
        var basis = StandardBasis.Of(new Shape(1, 10), DType.Float64, 0, 10);
        var x2 = x.Slice([0, 0, 0, 0], [1, 8, 8, 1]).Contiguous().Reshape(1, 1, 8, 8, 1);   // blocks hold one x2 example
        var args = p.Values.Append(xs).Append(x2).Append(basis).ToArray();
        Close(Ad.Evaluate(raw, args)[0], Ad.Evaluate(opt, args)[0]);
    }
}
