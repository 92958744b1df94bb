using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Primitives;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>
/// Like Neural Tangents' <c>rules_test.py</c>: every structure claim is checked against the dense Jacobian of the
/// primitive (from <c>JacFwd</c>) over fixed cases and random shapes and dimension numbers:
/// <list type="bullet">
/// <item>traced (y, w) pairs: zero off the diagonal and the same block at every diagonal position;</item>
/// <item>diagonal pairs: zero off the diagonal (the blocks may differ);</item>
/// <item>broadcast y axes: the Jacobian is the same at every index along the axis;</item>
/// <item>y-in-w-shape: the Jacobian's y part is read in w's shape before the checks.</item>
/// </list>
/// Each case also pins what the rule claims, so a rule that silently claims less (or nothing) fails.
/// </summary>
public class StructureRuleTests
{
    /// <summary>Null when every claim of <paramref name="r"/> holds for the dense Jacobian <paramref name="j"/> (y…, w…);
    /// otherwise the first violation.</summary>
    internal static string? CheckClaims(Tensor j, Shape y, Shape w, StructureRule r)
    {
        if (r.YInWShape)
        {
            if (y.Size != w.Size) return $"y-in-w-shape: y {y} and w {w} differ in size";
            y = w;
            j = j.Reshape(new Shape(w.Concat(w)));
        }
        int ry = y.Rank, rw = w.Rank;
        // Well-formed: axes in range, each y axis claimed once, each w axis compressed once, matching sizes.
        var yAxes = r.Trace.Select(p => p.Y).Concat(r.Diagonal.Select(p => p.Y)).Concat(r.Broadcast).ToArray();
        var wAxes = r.Trace.Select(p => p.W).Concat(r.Diagonal.Select(p => p.W)).ToArray();
        if (yAxes.Any(a => a < 0 || a >= ry) || wAxes.Any(a => a < 0 || a >= rw)) return $"axis out of range in {r} for y {y}, w {w}";
        if (yAxes.Distinct().Count() != yAxes.Length) return $"a y axis is claimed twice in {r}";
        if (wAxes.Distinct().Count() != wAxes.Length) return $"a w axis is compressed twice in {r}";
        foreach (var (ya, wa) in r.Trace.Concat(r.Diagonal))
            if (y[ya] != w[wa]) return $"pair ({ya},{wa}) sizes differ: y {y}, w {w}";

        var all = j.ToDoubleArray();
        var shape = j.Shape;
        var idx = new int[ry + rw];
        string At(int[] i) => "[" + string.Join(",", i) + "]";
        for (int flat = 0; flat < all.Length; flat++)
        {
            int rem = flat;
            for (int k = shape.Rank - 1; k >= 0; k--) { idx[k] = rem % shape[k]; rem /= shape[k]; }
            foreach (var (ya, wa) in r.Trace)
            {
                if (idx[ya] != idx[ry + wa])
                {
                    if (all[flat] != 0) return $"traced pair ({ya},{wa}): off-diagonal entry at {At(idx)} is {all[flat]}";
                }
                else
                {
                    var i0 = (int[])idx.Clone();
                    i0[ya] = 0; i0[ry + wa] = 0;
                    if (Math.Abs(j[i0] - all[flat]) > 1e-12 * Math.Max(1, Math.Abs(all[flat])))
                        return $"traced pair ({ya},{wa}): block at {At(idx)} is {all[flat]}, the first block has {j[i0]}";
                }
            }
            foreach (var (ya, wa) in r.Diagonal)
                if (idx[ya] != idx[ry + wa] && all[flat] != 0) return $"diagonal pair ({ya},{wa}): off-diagonal entry at {At(idx)} is {all[flat]}";
            foreach (var ya in r.Broadcast)
            {
                var i0 = (int[])idx.Clone();
                i0[ya] = 0;
                if (Math.Abs(j[i0] - all[flat]) > 1e-12 * Math.Max(1, Math.Abs(all[flat])))
                    return $"broadcast y axis {ya}: entry at {At(idx)} is {all[flat]}, at index 0 it is {j[i0]}";
            }
        }
        return null;
    }

    /// <summary>Traces the case, checks its rule against the dense Jacobian and against what the case expects.</summary>
    internal static string? Check(StructureCase c, Random rng, Func<StructureRule, StructureRule>? tamper = null)
    {
        var (g, eq, w) = c.Trace();
        var rule = StructureCase.RuleOf(eq, w);
        var j = Ad.JacFwd(g, c.Inputs(rng))[0][^1];                     // (y…, w…)
        var err = CheckClaims(j, eq.Output.Type.Shape, eq.Inputs[w].Type.Shape, tamper is null ? rule : tamper(rule));
        if (err is null && tamper is null) err = c.CheckExpected(rule);
        return err is null ? null : $"{c}: {err}";
    }

    [Property(MaxTest = 60)]
    public Property DotGeneralStructureHoldsForRandomDimensionNumbers(PositiveInt seed, bool paramOnLeft)
    {
        var rng = new Random(seed.Get);
        var err = Check(StructureCase.RandomDotGeneral(rng, paramOnLeft), rng);
        return (err is null).Label(err ?? "");
    }

    /// <summary>Filter operand of an ordinary (kind 0), grouped (1) or depthwise (2) convolution over random shapes.</summary>
    [Property(MaxTest = 70)]
    public Property ConvFilterStructureHolds(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        var err = Check(StructureCase.RandomConv(rng, seed.Get % 3), rng);
        return (err is null).Label(err ?? "");
    }

    public static IEnumerable<object[]> SimpleRules() => StructureCase.Simple.Select(c => new object[] { c.Name });

    [Theory, MemberData(nameof(SimpleRules))]
    public void RuleClaimsHold(string name)
    {
        var c = StructureCase.ByName(name);
        var err = Check(c, new Random(name.Length));
        Assert.True(err is null, err);
        // A rule that claims nothing passes vacuously; make sure the claims exist where we expect them.
        var (_, eq, w) = c.Trace();
        Assert.Equal(name.Contains("no structure"), StructureCase.RuleOf(eq, w).IsEmpty);
    }

    /// <summary>Deliberately wrong claims, each on a case where the Jacobian's values (not just the sizes) refute it.</summary>
    private static readonly Dictionary<string, Func<StructureRule, StructureRule>> Wrong = new()
    {
        ["mul-tensor: traced instead of diagonal"] = r => r with { Trace = r.Diagonal, Diagonal = Array.Empty<(int, int)>() },
        ["conv-grouped: traced instead of diagonal"] = r => r with { Trace = r.Diagonal, Diagonal = Array.Empty<(int, int)>() },
        ["dot_general-batch: traced instead of diagonal"] = r => r with { Trace = r.Trace.Concat(r.Diagonal).ToArray(), Diagonal = Array.Empty<(int, int)>() },
        ["pad: shifted axis traced"] = r => r with { Trace = r.Trace.Append((3, 3)).ToArray() },
        ["reduce_window_sum: windowed axis traced"] = r => r with { Trace = r.Trace.Append((1, 1)).ToArray() },
        ["broadcast_in_dim-new-and-expanded: kept axis broadcast"] = r => r with { Trace = r.Trace.Skip(1).ToArray(), Broadcast = r.Broadcast.Append(r.Trace[0].Y).ToArray() },
        ["transpose-square: pairs swapped"] = r => r with { Trace = new[] { (0, 0), (1, 1) } },
        ["transpose-square: diagonal on swapped pairs"] = r => r with { Trace = Array.Empty<(int, int)>(), Diagonal = new[] { (0, 0) } },
        ["reshape-cube: pairs in y's own shape"] = r => new StructureRule(new[] { (1, 1) }),
        ["slice (no structure): broadcast"] = r => r with { Broadcast = new[] { 0 } },
    };

    public static IEnumerable<object[]> WrongClaims() => Wrong.Keys.Select(k => new object[] { k });

    /// <summary>The checker itself can fail: wrong claims on real primitives are rejected.</summary>
    [Theory, MemberData(nameof(WrongClaims))]
    public void CheckerRejectsWrongClaims(string key)
    {
        var name = key[..key.LastIndexOf(':')];
        var err = Check(StructureCase.ByName(name), new Random(1), Wrong[key]);
        Assert.True(err is not null, $"{key}: the wrong claim was accepted");
        Assert.DoesNotContain("sizes differ", err);
    }
}
