using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>
/// The generic rule harness, float64: for every primitive, the inferred type equals the computed
/// result's type, the JVP matches central finite differences, and (for linear primitives) the transpose satisfies
/// ⟨ct, L v⟩ = ⟨Lᵀ ct, v⟩.
/// </summary>
public class PrimitiveRuleTests
{
    /// <summary>A primitive application on inputs of given shapes; Linear flags the inputs it is linear in
    /// (with the others held constant); Positive asks for inputs in (0.5, 2).</summary>
    public sealed record Case(string Name, int[][] Shapes, Func<Tracer[], Tracer> F, bool[]? Linear = null, bool Positive = false, double Eps = 1e-6)
    {
        public override string ToString() => Name;
    }

    private static readonly ConvParams Conv2 = new(new[] { 2, 1 }, new[] { (0, 1), (1, 1) }, new[] { 1, 1 });
    private static readonly ConvParams Conv1Dil = new(new[] { 1 }, new[] { (1, 0) }, new[] { 2 });
    private static readonly ConvParams ConvGroups = new(new[] { 1, 1 }, new[] { (0, 0), (0, 0) }, new[] { 1, 1 }, 2);

    public static readonly Case[] Cases =
    {
        new("add", new[] { new[] { 2, 3 }, new[] { 2, 3 } }, x => Lax.Add(x[0], x[1]), new[] { true, true }),
        new("sub", new[] { new[] { 4 }, new[] { 4 } }, x => Lax.Sub(x[0], x[1]), new[] { true, true }),
        new("mul_lhs", new[] { new[] { 3, 2 }, new[] { 3, 2 } }, x => Lax.Mul(x[0], x[1]), new[] { true, false }),
        new("mul_rhs", new[] { new[] { 3, 2 }, new[] { 3, 2 } }, x => Lax.Mul(x[0], x[1]), new[] { false, true }),
        new("div", new[] { new[] { 5 }, new[] { 5 } }, x => Lax.Div(x[0], x[1]), new[] { true, false }, Positive: true),
        new("max", new[] { new[] { 7 }, new[] { 7 } }, x => Lax.Max(x[0], x[1])),
        new("min", new[] { new[] { 2, 2 }, new[] { 2, 2 } }, x => Lax.Min(x[0], x[1])),
        new("pow", new[] { new[] { 3 }, new[] { 3 } }, x => Lax.Pow(x[0], x[1]), Positive: true),
        new("neg", new[] { new[] { 3 } }, x => Lax.Neg(x[0]), new[] { true }),
        new("exp", new[] { new[] { 2, 3 } }, x => Lax.Exp(x[0])),
        new("log", new[] { new[] { 4 } }, x => Lax.Log(x[0]), Positive: true),
        new("tanh", new[] { new[] { 4 } }, x => Lax.Tanh(x[0])),
        new("logistic", new[] { new[] { 4 } }, x => Lax.Logistic(x[0])),
        new("erf", new[] { new[] { 9 } }, x => Lax.Erf(x[0])),
        new("sin", new[] { new[] { 3 } }, x => Lax.Sin(x[0])),
        new("cos", new[] { new[] { 3 } }, x => Lax.Cos(x[0])),
        new("sqrt", new[] { new[] { 3 } }, x => Lax.Sqrt(x[0]), Positive: true),
        new("rsqrt", new[] { new[] { 3 } }, x => Lax.Rsqrt(x[0]), Positive: true),
        new("abs", new[] { new[] { 6 } }, x => Lax.Abs(x[0])),
        new("integer_pow3", new[] { new[] { 2, 2 } }, x => Lax.IntegerPow(x[0], 3)),
        new("integer_pow-2", new[] { new[] { 3 } }, x => Lax.IntegerPow(x[0], -2), Positive: true),
        new("select", new[] { new[] { 5 }, new[] { 5 }, new[] { 5 } },
            x => Lax.Select(Lax.Compare(CompareOp.Gt, x[0], Lax.FullLike(x[0], 0)), x[1], x[2]), new[] { false, true, true }),
        new("dot_general_matmul", new[] { new[] { 3, 4 }, new[] { 4, 5 } },
            x => Lax.DotGeneral(x[0], x[1], new DotDimensionNumbers(new[] { 1 }, new[] { 0 }, new int[0], new int[0])), new[] { true, false }),
        new("dot_general_batched_rhs", new[] { new[] { 2, 3, 4 }, new[] { 2, 5, 3 } },
            x => Lax.DotGeneral(x[0], x[1], new DotDimensionNumbers(new[] { 1 }, new[] { 2 }, new[] { 0 }, new[] { 0 })), new[] { false, true }),
        new("dot_general_batched_lhs", new[] { new[] { 4, 2, 3 }, new[] { 3, 2 } },
            x => Lax.DotGeneral(x[0], x[1], new DotDimensionNumbers(new[] { 2, 1 }, new[] { 0, 1 }, new int[0], new int[0])), new[] { true, false }),
        new("conv_lhs", new[] { new[] { 2, 5, 4, 3 }, new[] { 3, 2, 3, 4 } }, x => Lax.Conv(x[0], x[1], Conv2), new[] { true, false }),
        new("conv_rhs", new[] { new[] { 2, 5, 4, 3 }, new[] { 3, 2, 3, 4 } }, x => Lax.Conv(x[0], x[1], Conv2), new[] { false, true }),
        new("conv1d_dilated", new[] { new[] { 1, 6, 2 }, new[] { 2, 2, 3 } }, x => Lax.Conv(x[0], x[1], Conv1Dil), new[] { false, true }),
        new("conv_groups", new[] { new[] { 1, 3, 3, 4 }, new[] { 2, 2, 2, 6 } }, x => Lax.Conv(x[0], x[1], ConvGroups), new[] { true, false }),
        new("conv_patches", new[] { new[] { 2, 5, 4, 3 } }, x => x[0].Builder.Emit(new NeuralTangents.Autodiff.Primitives.ConvPatchesPrimitive(Conv2, new[] { 3, 2 }), x[0])),
        new("reduce_sum", new[] { new[] { 2, 3, 4 } }, x => Lax.ReduceSum(x[0], 0, 2), new[] { true }),
        new("reduce_max", new[] { new[] { 3, 5 } }, x => Lax.ReduceMax(x[0], 1)),
        new("reduce_window_sum", new[] { new[] { 1, 5, 4, 2 } },
            x => Lax.ReduceWindowSum(x[0], new[] { 1, 2, 2, 1 }, new[] { 1, 2, 1, 1 }, new[] { (0, 0), (0, 1), (1, 0), (0, 0) }), new[] { true }),
        new("broadcast_in_dim", new[] { new[] { 3, 1 } }, x => Lax.BroadcastInDim(x[0], new Shape(2, 3, 4), new[] { 1, 2 }), new[] { true }),
        new("reshape", new[] { new[] { 2, 6 } }, x => Lax.Reshape(x[0], new Shape(3, 4)), new[] { true }),
        new("transpose", new[] { new[] { 2, 3, 4 } }, x => Lax.Transpose(x[0], 2, 0, 1), new[] { true }),
        new("pad", new[] { new[] { 3, 4 } }, x => Lax.Pad(x[0], 0, new[] { (1, -1, 1), (0, 2, 0) }), new[] { true }),
        new("slice", new[] { new[] { 7, 5 } }, x => Lax.Slice(x[0], new[] { 1, 0 }, new[] { 6, 5 }, new[] { 2, 3 }), new[] { true }),
        new("concatenate", new[] { new[] { 2, 3 }, new[] { 2, 1 } }, x => Lax.Concatenate(x, 1), new[] { true, true }),
        new("rev", new[] { new[] { 3, 4 } }, x => Lax.Rev(x[0], 1), new[] { true }),
        // stop_gradient has a zero derivative; a softmax does not depend on the max it subtracts, so its JVP still
        // matches finite differences only if stop_gradient evaluates as the identity (and its dropped tangent cancels).
        new("stop_gradient (softmax)", new[] { new[] { 2, 4 } }, x => Np.Softmax(x[0], -1)),
        new("copy", new[] { new[] { 2, 3 } }, x => x[0].Builder.Emit(new NeuralTangents.Autodiff.Primitives.CopyPrimitive(), x[0]), new[] { true }),
        // mul(x0, broadcast x1), tanh, add x0: the fused primitive's JVP re-emits the unfused operations' rules.
        new("fused_elementwise", new[] { new[] { 3, 4 }, new[] { 4 } }, x => x[0].Builder.Emit(new NeuralTangents.Autodiff.Primitives.FusedElementwisePrimitive(
            new TensorType(new Shape(3, 4), DType.Float64), [[0, 1], [1]],
            [new(FusedStepKind.Binary, (int)BinaryOp.Mul, FusedArg.Leaf(0), FusedArg.Leaf(1)), new(FusedStepKind.Unary, (int)UnaryOp.Tanh, FusedArg.Step(0), default),
             new(FusedStepKind.Binary, (int)BinaryOp.Add, FusedArg.Step(1), FusedArg.Leaf(0))], 36), x)),
        new("convert_element_type", new[] { new[] { 4 } }, x => Lax.Convert(Lax.Convert(x[0], DType.Float32), DType.Float64), Eps: 1e-2),
    };

    public static IEnumerable<object[]> CaseData => Cases.Select(c => new object[] { c });

    private static Tensor[] Inputs(Case c, int seed)
    {
        var rng = new Random(seed);
        return c.Shapes.Select(s =>
        {
            var t = Tensor.RandomNormal(rng, new Shape(s));
            return c.Positive ? Tensor.FromArray(t.ToDoubleArray().Select(v => 0.5 + 1.5 / (1 + Math.Exp(-v))).ToArray(), t.Shape) : t;
        }).ToArray();
    }

    private static Graph Trace(Case c) => Ad.Trace(x => new[] { c.F(x) }, c.Shapes.Select(s => new TensorType(new Shape(s), DType.Float64)).ToArray());

    [Theory, MemberData(nameof(CaseData))]
    public void InferredTypeMatchesComputedType(Case c)
    {
        var g = Trace(c);
        var y = Ad.Evaluate(g, Inputs(c, 1))[0];
        Assert.Equal(g.Outputs[0].Type, TensorType.Of(y));
    }

    [Theory, MemberData(nameof(CaseData))]
    public void JvpMatchesCentralDifferences(Case c)
    {
        var g = Trace(c);
        var x = Inputs(c, 2);
        var t = Inputs(c with { Positive = false }, 3);
        var jvp = Ad.Evaluate(Ad.JvpGraph(g), x.Concat(t).ToArray())[1].ToDoubleArray();
        double eps = c.Eps;
        Tensor Shift(Tensor a, Tensor d, double s) => Tensor.FromArray(a.ToDoubleArray().Zip(d.ToDoubleArray(), (u, v) => u + s * v).ToArray(), a.Shape);
        var fp = Ad.Evaluate(g, x.Zip(t, (a, d) => Shift(a, d, eps)).ToArray())[0].ToDoubleArray();
        var fm = Ad.Evaluate(g, x.Zip(t, (a, d) => Shift(a, d, -eps)).ToArray())[0].ToDoubleArray();
        for (int i = 0; i < jvp.Length; i++)
        {
            double fd = (fp[i] - fm[i]) / (2 * eps);
            // Central differences in float64 with eps=1e-6: truncation O(eps²) plus rounding O(1e-16/eps); the
            // float32 round trip uses eps=1e-2 so its rounding (6e-8) stays below 1e-5 of the difference.
            Assert.True(Math.Abs(fd - jvp[i]) <= Math.Max(1e-6, 1e-3 * eps) * (1 + Math.Abs(fd)), $"{c.Name}[{i}]: jvp {jvp[i]} vs finite difference {fd}");
        }
    }

    [Theory, MemberData(nameof(CaseData))]
    public void TransposeSatisfiesInnerProductIdentity(Case c)
    {
        if (c.Linear is null) return; // non-linear primitives have no transpose rule
        var g = Trace(c);
        var x = Inputs(c, 4);
        var y = Ad.Evaluate(g, x)[0];
        var ct = Tensor.RandomNormal(new Random(5), y.Shape);
        var tg = Ad.TransposeGraph(g, c.Linear, new[] { true });
        var consts = x.Where((_, i) => !c.Linear[i]);
        var cts = Ad.Evaluate(tg, consts.Append(ct).ToArray());
        double lhs = Reductions.Dot(ct, y);
        double rhs = 0;
        int k = 0;
        for (int i = 0; i < x.Length; i++)
            if (c.Linear[i]) rhs += Reductions.Dot(cts[k++], x[i]);
        Assert.Equal(lhs, rhs, 1e-10 * (1 + Math.Abs(lhs)));
    }

    /// <summary>
    /// Every primitive the harness covers, by class name: each must occur in a case's graph, in its JVP graph or (for
    /// linear cases) in its transpose graph, so its rules ran above. A primitive added to the library without a case
    /// fails <see cref="EveryPrimitiveIsCovered"/> until it is listed here and given one.
    /// </summary>
    public static readonly string[] CoveredPrimitives =
    {
        "AbsPrimitive", "AddPrimitive", "BroadcastInDimPrimitive", "ComparePrimitive", "ConcatenatePrimitive",
        "ConvLhsTransposePrimitive", "ConvPatchesPrimitive", "ConvPrimitive", "ConvRhsTransposePrimitive", "FusedElementwisePrimitive",
        "ConvertElementTypePrimitive", "CopyPrimitive", "CosPrimitive", "DivPrimitive", "DotGeneralPrimitive",
        "ErfPrimitive", "ExpPrimitive", "IntegerPowPrimitive", "LogPrimitive", "LogisticPrimitive", "MaxPrimitive",
        "MinPrimitive", "MulPrimitive", "NegPrimitive", "PadPrimitive", "PowPrimitive", "ReduceMaxPrimitive",
        "ReduceSumPrimitive", "ReduceWindowSumPrimitive", "ReduceWindowSumTransposePrimitive", "ReshapePrimitive",
        "RevPrimitive", "RsqrtPrimitive", "SelectPrimitive", "SignPrimitive", "SinPrimitive", "SlicePrimitive",
        "SqrtPrimitive", "StopGradientPrimitive", "SubPrimitive", "TanhPrimitive", "TransposePrimitive",
    };

    [Fact]
    public void EveryPrimitiveIsCovered()
    {
        var all = typeof(NeuralTangents.Autodiff.Primitives.Primitive).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(NeuralTangents.Autodiff.Primitives.Primitive)) && !t.IsAbstract)
            .Select(t => t.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(all, CoveredPrimitives.Order(StringComparer.Ordinal).ToArray());

        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(Graph g) { foreach (var e in g.Equations) seen.Add(e.Primitive.GetType().Name); }
        foreach (var c in Cases)
        {
            var g = Trace(c);
            Add(g);
            Add(Ad.JvpGraph(g));
            if (c.Linear is not null) Add(Ad.TransposeGraph(g, c.Linear, new[] { true }));
        }
        Assert.Equal(Array.Empty<string>(), CoveredPrimitives.Where(n => !seen.Contains(n)).ToArray());
    }
}
