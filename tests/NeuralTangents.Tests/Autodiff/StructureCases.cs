using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>
/// One linear primitive applied to a parameter w (the last graph input) and other operands (the first graph inputs).
/// <paramref name="OthersConstant"/>: the other operands are known values (the constant factor of a bilinear primitive:
/// mul, div, dot_general, conv); otherwise they are tangents (add, sub, concatenate — linear in every operand).
/// <paramref name="Expect"/>: the exact structure the rule should claim (order-insensitive), when pinned.
/// </summary>
internal sealed record StructureCase(string Name, Func<Tracer, Tracer[], Tracer> Apply, int[] WShape, int[][] ConstShapes,
    bool OthersConstant = false, StructureRule? Expect = null)
{
    public override string ToString() => $"{Name} w=({string.Join(",", WShape)}) others=[{string.Join(" ", ConstShapes.Select(s => "(" + string.Join(",", s) + ")"))}]";

    /// <summary>The one-equation graph (others…, w) ↦ y, its equation, and w's operand index in it.</summary>
    public (Graph Graph, Equation Eq, int W) Trace()
    {
        var types = ConstShapes.Select(s => new TensorType(new Shape(s), DType.Float64)).Append(new TensorType(new Shape(WShape), DType.Float64)).ToArray();
        var g = Ad.Trace(ins => new[] { Apply(ins[^1], ins[..^1]) }, types);
        if (g.Equations.Count != 1) throw new InvalidOperationException($"{this}: expected one equation, got {g.Equations.Count}");
        var eq = g.Equations[0];
        int w = eq.Inputs.ToList().FindIndex(a => ReferenceEquals(a, g.Inputs[^1]));
        if (w < 0 || eq.Inputs.Count(a => ReferenceEquals(a, g.Inputs[^1])) != 1) throw new InvalidOperationException($"{this}: w must be exactly one operand");
        return (g, eq, w);
    }

    /// <summary>The primitive's own structure rule for w.</summary>
    public static StructureRule RuleOf(Equation eq, int w) => eq.Primitive.Structure(w, eq.Inputs.Select(a => a.Type).ToArray(), eq.Inputs.ToArray());

    /// <summary>Random inputs (others…, w) in float64.</summary>
    public Tensor[] Inputs(Random rng) =>
        ConstShapes.Append(WShape).Select(s => Tensor.RandomNormal(rng, new Shape(s))).ToArray();

    private static StructureRule R((int, int)[] trace, (int, int)[]? diag = null, int[]? bcast = null, bool yInW = false) =>
        new(trace) { Diagonal = diag ?? Array.Empty<(int, int)>(), Broadcast = bcast ?? Array.Empty<int>(), YInWShape = yInW };
    private static (int, int)[] Id(params int[] axes) => axes.Select(a => (a, a)).ToArray();

    /// <summary>Fixed cases for every primitive with a rule (and one without).</summary>
    public static readonly StructureCase[] Simple =
    {
        new("add", (w, c) => Lax.Add(c[0], w), new[] { 2, 3 }, new[] { new[] { 2, 3 } }, Expect: R(Id(0, 1))),
        new("add-w-left", (w, c) => Lax.Add(w, c[0]), new[] { 3, 1, 2 }, new[] { new[] { 3, 1, 2 } }, Expect: R(Id(0, 1, 2))),
        new("sub-subtrahend", (w, c) => Lax.Sub(c[0], w), new[] { 3 }, new[] { new[] { 3 } }, Expect: R(Id(0))),
        new("sub-minuend", (w, c) => Lax.Sub(w, c[0]), new[] { 2, 2 }, new[] { new[] { 2, 2 } }, Expect: R(Id(0, 1))),
        new("mul-scalar", (w, c) => w * 2.5, new[] { 2, 2 }, new int[0][], Expect: R(Id(0, 1))),
        new("div-scalar", (w, c) => w / 4.0, new[] { 3, 1 }, new int[0][], Expect: R(Id(0, 1))),
        new("mul-tensor", (w, c) => Lax.Mul(w, c[0]), new[] { 2, 3, 2 }, new[] { new[] { 2, 3, 2 } }, true, R(Array.Empty<(int, int)>(), Id(0, 1, 2))),
        new("mul-tensor-w-right", (w, c) => Lax.Mul(c[0], w), new[] { 3, 2 }, new[] { new[] { 3, 2 } }, true, R(Array.Empty<(int, int)>(), Id(0, 1))),
        new("mul-tensor-size1-axis", (w, c) => Lax.Mul(w, c[0]), new[] { 2, 1, 3 }, new[] { new[] { 2, 1, 3 } }, true, R(Array.Empty<(int, int)>(), Id(0, 1, 2))),
        new("mul-literal-tensor", (w, c) => Lax.Mul(w, w.Builder.Constant(Tensor.FromArray(new[] { 0.5, -1.5, 2.0, 3.25, -0.75, 1.0 }, new Shape(2, 3)))),
            new[] { 2, 3 }, new int[0][], Expect: R(Array.Empty<(int, int)>(), Id(0, 1))),
        new("div-tensor", (w, c) => Lax.Div(w, c[0]), new[] { 3, 2 }, new[] { new[] { 3, 2 } }, true, R(Array.Empty<(int, int)>(), Id(0, 1))),
        new("neg", (w, c) => Lax.Neg(w), new[] { 2, 3 }, new int[0][], Expect: R(Id(0, 1))),
        new("copy", (w, c) => w.Builder.Emit(new CopyPrimitive(), w), new[] { 2, 2 }, new int[0][], Expect: R(Id(0, 1))),
        new("transpose", (w, c) => Lax.Transpose(w, 2, 0, 1), new[] { 2, 3, 4 }, new int[0][], Expect: R(new[] { (1, 0), (2, 1), (0, 2) })),
        new("transpose-square", (w, c) => Lax.Transpose(w, 1, 0), new[] { 3, 3 }, new int[0][], Expect: R(new[] { (1, 0), (0, 1) })),
        new("reduce_sum", (w, c) => Lax.ReduceSum(w, 1), new[] { 2, 3, 2 }, new int[0][], Expect: R(new[] { (0, 0), (1, 2) })),
        new("reduce_sum-two-axes", (w, c) => Lax.ReduceSum(w, 0, 2), new[] { 2, 3, 2, 2 }, new int[0][], Expect: R(new[] { (0, 1), (1, 3) })),
        new("rev", (w, c) => Lax.Rev(w, 0), new[] { 3, 2 }, new int[0][], Expect: R(Id(1))),
        // broadcast_in_dim: y0 new, y1 ← w0 (kept), y2 ← w1 (size 1 expanded to 5), y3 ← w2 (kept).
        new("broadcast_in_dim-new-and-expanded", (w, c) => Lax.BroadcastInDim(w, new Shape(4, 3, 5, 2), new[] { 1, 2, 3 }), new[] { 3, 1, 2 }, new int[0][],
            Expect: R(new[] { (1, 0), (3, 2) }, bcast: new[] { 0, 2 })),
        new("broadcast_in_dim-trailing-new", (w, c) => Lax.BroadcastInDim(w, new Shape(2, 3), new[] { 0 }), new[] { 2 }, new int[0][], Expect: R(new[] { (0, 0) }, bcast: new[] { 1 })),
        new("broadcast_in_dim-scalar", (w, c) => Lax.BroadcastInDim(w, new Shape(2, 3), Array.Empty<int>()), Array.Empty<int>(), new int[0][], Expect: R(Array.Empty<(int, int)>(), bcast: new[] { 0, 1 })),
        new("broadcast_in_dim-kept-size1", (w, c) => Lax.BroadcastInDim(w, new Shape(1, 3, 2), new[] { 0, 2 }), new[] { 1, 2 }, new int[0][], Expect: R(new[] { (0, 0), (2, 1) }, bcast: new[] { 1 })),
        new("reshape-merge", (w, c) => Lax.Reshape(w, new Shape(6, 2)), new[] { 2, 3, 2 }, new int[0][], Expect: R(Id(0, 1, 2), yInW: true)),
        new("reshape-cube", (w, c) => Lax.Reshape(w, new Shape(4, 2)), new[] { 2, 2, 2 }, new int[0][], Expect: R(Id(0, 1, 2), yInW: true)),
        new("reshape-split", (w, c) => Lax.Reshape(w, new Shape(2, 2, 3)), new[] { 4, 3 }, new int[0][], Expect: R(Id(0, 1), yInW: true)),
        // pad: axis 0 unpadded (traced), axis 1 lo/hi, axis 2 interior, axis 3 (−1, 1, 0) keeps its size but shifts.
        new("pad", (w, c) => Lax.Pad(w, 0, new[] { (0, 0, 0), (1, 2, 0), (0, 0, 1), (-1, 1, 0) }), new[] { 3, 2, 4, 3 }, new int[0][], Expect: R(Id(0))),
        new("pad-interior-only", (w, c) => Lax.Pad(w, 0, new[] { (0, 0, 2), (0, 0, 0) }), new[] { 3, 2 }, new int[0][], Expect: R(Id(1))),
        new("concatenate-w-first", (w, c) => Lax.Concatenate(new[] { w, c[0] }, 1), new[] { 2, 3, 2 }, new[] { new[] { 2, 1, 2 } }, Expect: R(Id(0, 2))),
        new("concatenate-w-middle", (w, c) => Lax.Concatenate(new[] { c[0], w, c[1] }, 0), new[] { 2, 3 }, new[] { new[] { 1, 3 }, new[] { 3, 3 } }, Expect: R(Id(1))),
        new("concatenate-w-last", (w, c) => Lax.Concatenate(new[] { c[0], w }, 2), new[] { 2, 2, 1 }, new[] { new[] { 2, 2, 2 } }, Expect: R(Id(0, 1))),
        // reduce_window_sum: axes 0 and 2 trivial (traced); axis 1 has a window (padded so that the size is kept), axis 3
        // a stride and padding.
        new("reduce_window_sum", (w, c) => Lax.ReduceWindowSum(w, new[] { 1, 2, 1, 1 }, new[] { 1, 1, 1, 2 }, new[] { (0, 0), (1, 0), (0, 0), (1, 0) }),
            new[] { 2, 4, 3, 4 }, new int[0][], Expect: R(Id(0, 2))),
        // Window 1 but padded (axis 0) or strided (axis 1): not trivial; axis 2 trivial.
        new("reduce_window_sum-padded-strided", (w, c) => Lax.ReduceWindowSum(w, new[] { 1, 1, 1 }, new[] { 1, 2, 1 }, new[] { (1, 1), (0, 0), (0, 0) }),
            new[] { 2, 5, 2 }, new int[0][], Expect: R(Id(2))),
        new("dot_general-batch", (w, c) => Lax.DotGeneral(c[0], w, new DotDimensionNumbers(new[] { 2 }, new[] { 1 }, new[] { 0 }, new[] { 2 })),
            new[] { 3, 4, 2 }, new[] { new[] { 2, 3, 4 } }, true, R(new[] { (2, 0) }, new[] { (0, 2) })),
        // Attention logits Q·Kᵀ per (head, example): batch axes (0, 1) block-diagonal, w's position axis traced.
        new("dot_general-attention-keys", (w, c) => Lax.DotGeneral(c[0], w, new DotDimensionNumbers(new[] { 3 }, new[] { 3 }, new[] { 0, 1 }, new[] { 0, 1 })),
            new[] { 2, 2, 3, 2 }, new[] { new[] { 2, 2, 3, 2 } }, true, R(new[] { (3, 2) }, new[] { (0, 0), (1, 1) })),
        // Attention output G·V: the values' position axis is contracted, their channel axis traced.
        new("dot_general-attention-values", (w, c) => Lax.DotGeneral(c[0], w, new DotDimensionNumbers(new[] { 3 }, new[] { 2 }, new[] { 0, 1 }, new[] { 0, 1 })),
            new[] { 2, 1, 3, 2 }, new[] { new[] { 2, 1, 3, 3 } }, true, R(new[] { (3, 3) }, new[] { (0, 0), (1, 1) })),
        // ConvTranspose's input dilation: interior padding of the spatial axis; batch and channels stay traced.
        new("pad-conv-transpose", (w, c) => Lax.Pad(w, 0, new[] { (0, 0, 0), (1, 1, 1), (0, 0, 0) }), new[] { 2, 3, 2 }, new int[0][], Expect: R(Id(0, 2))),
        new("conv-grouped", (w, c) => Lax.Conv(c[0], w, new ConvParams(new[] { 1 }, new[] { (0, 1) }, new[] { 1 }, 2)),
            new[] { 2, 2, 4 }, new[] { new[] { 2, 4, 4 } }, true, R(Array.Empty<(int, int)>(), new[] { (2, 2) })),
        new("slice (no structure)", (w, c) => Lax.Slice(w, new[] { 0, 1 }, new[] { 2, 3 }), new[] { 3, 3 }, new int[0][], Expect: StructureRule.None),
    };

    public static StructureCase ByName(string name) => Simple.Single(c => c.Name == name);

    /// <summary>dot_general with random axis placement and dimension numbers (nb ∈ {0,1} batch, 0–2 contracting and free
    /// axes per side); w on either side.</summary>
    public static StructureCase RandomDotGeneral(Random rng, bool paramOnLeft)
    {
        int nb = rng.Next(0, 2), nc = rng.Next(0, 3), nl = rng.Next(0, 3), nr = rng.Next(0, 3);
        int[] Sizes(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(1, 4)).ToArray();
        var b = Sizes(nb); var c = Sizes(nc); var l = Sizes(nl); var rr = Sizes(nr);
        (int[] shape, int[] batch, int[] contract) Layout(int[] free)
        {
            var roles = b.Select((s, i) => (s, kind: 0, i)).Concat(c.Select((s, i) => (s, kind: 1, i))).Concat(free.Select((s, i) => (s, kind: 2, i))).OrderBy(_ => rng.Next()).ToArray();
            return (roles.Select(x => x.s).ToArray(),
                Enumerable.Range(0, nb).Select(i => Array.FindIndex(roles, x => x.kind == 0 && x.i == i)).ToArray(),
                Enumerable.Range(0, nc).Select(i => Array.FindIndex(roles, x => x.kind == 1 && x.i == i)).ToArray());
        }
        var (ls, lb, lc) = Layout(l);
        var (rs, rb, rc) = Layout(rr);
        var dims = new DotDimensionNumbers(lc, rc, lb, rb);
        var name = $"dot_general lc=[{string.Join(",", lc)}] rc=[{string.Join(",", rc)}] lb=[{string.Join(",", lb)}] rb=[{string.Join(",", rb)}] w={(paramOnLeft ? "lhs" : "rhs")}";
        // Expected: w's free axes traced, its batch axes diagonal.
        int[] wc = paramOnLeft ? lc : rc, wb = paramOnLeft ? lb : rb;
        int wRank = paramOnLeft ? ls.Length : rs.Length;
        int nFree = wRank - wc.Length - wb.Length;
        return paramOnLeft
            ? new(name, (w, cs) => Lax.DotGeneral(w, cs[0], dims), ls, new[] { rs }, true) { ExpectCounts = (nFree, nb) }
            : new(name, (w, cs) => Lax.DotGeneral(cs[0], w, dims), rs, new[] { ls }, true) { ExpectCounts = (nFree, nb) };
    }

    /// <summary>Random conv with w the filter. <paramref name="groups"/>: 0 ordinary, 1 two feature groups, 2 depthwise
    /// (groups = C, one input feature per group, channel multiplier 1 or 2).</summary>
    public static StructureCase RandomConv(Random rng, int groups)
    {
        int d = rng.Next(1, 3), n = rng.Next(1, 3);
        var dil = Enumerable.Range(0, d).Select(_ => rng.Next(1, 3)).ToArray();
        var k = Enumerable.Range(0, d).Select(_ => rng.Next(1, 3)).ToArray();
        var s = Enumerable.Range(0, d).Select(i => (k[i] - 1) * dil[i] + rng.Next(1, 4)).ToArray();
        int g, cin, i, o;
        switch (groups)
        {
            case 0: g = 1; cin = rng.Next(1, 3); i = cin; o = rng.Next(1, 4); break;
            case 1: g = 2; i = rng.Next(1, 3); cin = 2 * i; o = 2 * rng.Next(1, 3); break;
            default: g = rng.Next(2, 4); cin = g; i = 1; o = g * rng.Next(1, 3); break;
        }
        var p = new ConvParams(Enumerable.Range(0, d).Select(_ => rng.Next(1, 3)).ToArray(),
            Enumerable.Range(0, d).Select(_ => (rng.Next(0, 2), rng.Next(0, 2))).ToArray(), dil, g);
        var lhs = new[] { n }.Concat(s).Append(cin).ToArray();
        var rhs = k.Append(i).Append(o).ToArray();
        return new StructureCase($"conv lhs=({string.Join(",", lhs)}) {p}", (w, cs) => Lax.Conv(cs[0], w, p), rhs, new[] { lhs }, true)
        {
            ExpectCounts = g == 1 ? (1, 0) : (0, 1),
        };
    }

    /// <summary>Expected (number of traced pairs, number of diagonal pairs), for random cases where the exact rule is
    /// not pinned.</summary>
    public (int Trace, int Diagonal)? ExpectCounts { get; init; }

    /// <summary>Null when <paramref name="r"/> claims what this case expects; else why not.</summary>
    public string? CheckExpected(StructureRule r)
    {
        if (Expect is { } e)
        {
            bool Same((int, int)[] a, (int, int)[] b) => a.Length == b.Length && a.ToHashSet().SetEquals(b);
            if (!Same(e.Trace, r.Trace) || !Same(e.Diagonal, r.Diagonal) || !e.Broadcast.ToHashSet().SetEquals(r.Broadcast) || e.YInWShape != r.YInWShape)
                return $"expected structure {e}, the rule claims {r}";
        }
        if (ExpectCounts is { } n && (r.Trace.Length != n.Trace || r.Diagonal.Length != n.Diagonal))
            return $"expected {n.Trace} traced and {n.Diagonal} diagonal pairs, the rule claims {r}";
        return null;
    }
}
