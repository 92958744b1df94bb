using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>
/// Like Neural Tangents' <c>rules_test.py</c>: every structure claim is checked against the dense Jacobian of the
/// primitive (from <c>JacFwd</c>) — along each claimed (y axis, w axis) pair the Jacobian must be block-diagonal
/// (zero off the diagonal) with the same block for every diagonal position — over random shapes and dimension numbers.
/// </summary>
public class StructureRuleTests
{
    private static string? CheckClaims(Func<Tracer, Tracer[], Tracer> apply, int[] wShape, int[][] constShapes, Random rng, Func<Atom[], TensorType[], StructureRule> rule)
    {
        var types = constShapes.Select(s => new TensorType(new Shape(s), DType.Float64)).Append(new TensorType(new Shape(wShape), DType.Float64)).ToArray();
        var g = Ad.Trace(ins => new[] { apply(ins[^1], ins[..^1]) }, types);
        var inputs = types.Select(t => Tensor.RandomNormal(rng, t.Shape)).ToArray();
        var eq = g.Equations.Last();
        var r = rule(eq.Inputs.ToArray(), eq.Inputs.Select(a => a.Type).ToArray());
        var j = Ad.JacFwd(g, inputs)[0][^1];                     // (y…, w…)
        int ry = g.Outputs[0].Type.Rank, rw = wShape.Length;
        var idx = new int[ry + rw];
        var all = j.ToDoubleArray();
        var shape = j.Shape;
        for (int flat = 0; flat < all.Length; flat++)
        {
            int rem = flat;
            for (int k = shape.Rank - 1; k >= 0; k--) { idx[k] = rem % shape[k]; rem /= shape[k]; }
            foreach (var (y, w) in r.Trace)
            {
                if (g.Outputs[0].Type.Shape[y] != wShape[w]) return $"pair ({y},{w}) sizes differ";
                var i0 = (int[])idx.Clone();
                if (idx[y] != idx[ry + w])
                {
                    if (all[flat] != 0) return $"off-diagonal entry at [{string.Join(",", idx)}] is {all[flat]} for pair ({y},{w})";
                }
                else
                {
                    i0[y] = 0; i0[ry + w] = 0;
                    if (Math.Abs(j[i0] - all[flat]) > 1e-12) return $"block at [{string.Join(",", idx)}] differs from the first block for pair ({y},{w})";
                }
            }
        }
        return null;
    }

    [Property(MaxTest = 60)]
    public Property DotGeneralStructureHoldsForRandomDimensionNumbers(PositiveInt seed, bool paramOnLeft)
    {
        var rng = new Random(seed.Get);
        int nb = rng.Next(0, 2), nc = rng.Next(0, 3), nl = rng.Next(0, 3), nr = rng.Next(0, 3);
        int[] Sizes(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(1, 4)).ToArray();
        var b = Sizes(nb); var c = Sizes(nc); var l = Sizes(nl); var rr = Sizes(nr);
        // Random axis placement on each side.
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
        string? err = paramOnLeft
            ? CheckClaims((w, cs) => Lax.DotGeneral(w, cs[0], dims), ls, new[] { rs }, rng, (ins, t) => new DotGeneralPrimitive(dims).Structure(0, t, ins))
            : CheckClaims((w, cs) => Lax.DotGeneral(cs[0], w, dims), rs, new[] { ls }, rng, (ins, t) => new DotGeneralPrimitive(dims).Structure(1, t, ins));
        return (err is null).Label(err ?? "");
    }

    [Property(MaxTest = 30)]
    public Property ConvFilterStructureHolds(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        int d = rng.Next(1, 3), c = rng.Next(1, 3), o = rng.Next(1, 4), n = rng.Next(1, 3);
        var k = Enumerable.Range(0, d).Select(_ => rng.Next(1, 3)).ToArray();
        var s = Enumerable.Range(0, d).Select(_ => rng.Next(2, 5)).ToArray();
        var p = new ConvParams(Enumerable.Range(0, d).Select(_ => rng.Next(1, 3)).ToArray(), Enumerable.Range(0, d).Select(_ => (rng.Next(0, 2), rng.Next(0, 2))).ToArray(), Enumerable.Repeat(1, d).ToArray());
        var err = CheckClaims((w, cs) => Lax.Conv(cs[0], w, p), k.Append(c).Append(o).ToArray(), new[] { new[] { n }.Concat(s).Append(c).ToArray() }, rng,
            (ins, t) => new ConvPrimitive(p).Structure(1, t, ins));
        return (err is null).Label(err ?? "");
    }

    public static IEnumerable<object[]> SimpleRules() => new[]
    {
        new object[] { "add", (Func<Tracer, Tracer[], Tracer>)((w, c) => Lax.Add(c[0], w)), new[] { 2, 3 }, new[] { new[] { 2, 3 } } },
        new object[] { "sub", (Func<Tracer, Tracer[], Tracer>)((w, c) => Lax.Sub(c[0], w)), new[] { 3 }, new[] { new[] { 3 } } },
        new object[] { "mul-scalar", (Func<Tracer, Tracer[], Tracer>)((w, c) => w * 2.5), new[] { 2, 2 }, new int[0][] },
        new object[] { "div-scalar", (Func<Tracer, Tracer[], Tracer>)((w, c) => w / 4.0), new[] { 3, 1 }, new int[0][] },
        new object[] { "neg", (Func<Tracer, Tracer[], Tracer>)((w, c) => Lax.Neg(w)), new[] { 2, 3 }, new int[0][] },
        new object[] { "transpose", (Func<Tracer, Tracer[], Tracer>)((w, c) => Lax.Transpose(w, 2, 0, 1)), new[] { 2, 3, 4 }, new int[0][] },
        new object[] { "reduce_sum", (Func<Tracer, Tracer[], Tracer>)((w, c) => Lax.ReduceSum(w, 1)), new[] { 2, 3, 2 }, new int[0][] },
        new object[] { "rev", (Func<Tracer, Tracer[], Tracer>)((w, c) => Lax.Rev(w, 0)), new[] { 3, 2 }, new int[0][] },
        new object[] { "copy", (Func<Tracer, Tracer[], Tracer>)((w, c) => w.Builder.Emit(new CopyPrimitive(), w)), new[] { 2, 2 }, new int[0][] },
        new object[] { "mul-tensor (no structure)", (Func<Tracer, Tracer[], Tracer>)((w, c) => Lax.Mul(w, c[0])), new[] { 2, 2 }, new[] { new[] { 2, 2 } } },
    };

    [Theory, MemberData(nameof(SimpleRules))]
    public void ElementwiseAndShapeRuleClaimsHold(string name, Func<Tracer, Tracer[], Tracer> f, int[] wShape, int[][] consts)
    {
        var err = CheckClaims(f, wShape, consts, new Random(name.Length), (ins, t) =>
        {
            // The structure of the last equation w.r.t. the operand that is the parameter (the last graph input).
            return StructureOfLast(f, wShape, consts);
        });
        Assert.True(err is null, $"{name}: {err}");
        // A rule that claims nothing passes vacuously; make sure the claims exist where we expect them.
        Assert.Equal(name.Contains("no structure"), StructureOfLast(f, wShape, consts).IsEmpty);
    }

    private static StructureRule StructureOfLast(Func<Tracer, Tracer[], Tracer> f, int[] wShape, int[][] consts)
    {
        var types = consts.Select(s => new TensorType(new Shape(s), DType.Float64)).Append(new TensorType(new Shape(wShape), DType.Float64)).ToArray();
        var g = Ad.Trace(ins => new[] { f(ins[^1], ins[..^1]) }, types);
        var eq = g.Equations.Last();
        int k = eq.Inputs.ToList().FindIndex(a => ReferenceEquals(a, g.Inputs[^1]));
        return eq.Primitive.Structure(k, eq.Inputs.Select(a => a.Type).ToArray(), eq.Inputs.ToArray());
    }
}
