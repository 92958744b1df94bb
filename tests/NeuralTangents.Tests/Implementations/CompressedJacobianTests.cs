using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Implementations;
using NeuralTangents.Tests.Autodiff;

namespace NeuralTangents.Tests.Implementations;

/// <summary>
/// <see cref="CompressedJacobian.Build"/> against the dense Jacobian <c>J = ∂y/∂w</c> from <c>JacFwd</c>, compressed by
/// the structure: J (its y part read in w's shape for reshape) at index 0 on every traced y axis, broadcast y axis and
/// traced w axis, summed over every diagonal w axis (kept as size 1); diagonal y axes stay full. Checked for each
/// primitive's full rule and for the rule restricted to subsets of its compressed w axes, which exercises the custom
/// J rules (dot_general without batch dims, ordinary conv, mul/div) and both generic paths (trimmed and embedded).
/// </summary>
public class CompressedJacobianTests
{
    /// <summary>The dense Jacobian (y…, w…) compressed as described above.</summary>
    internal static Tensor Compress(Tensor j, Shape y, Shape w, StructureRule r)
    {
        if (r.YInWShape) { y = w; j = j.Reshape(new Shape(w.Concat(w))); }
        int ry = y.Rank, rw = w.Rank;
        var outShape = new Shape(r.TrimY(y).Concat(r.TrimW(w)));
        var atZero = new bool[ry + rw];     // kept at index 0 only
        var summed = new bool[ry + rw];     // summed into index 0
        foreach (var (ya, wa) in r.Trace) { atZero[ya] = true; atZero[ry + wa] = true; }
        foreach (var ya in r.Broadcast) atZero[ya] = true;
        foreach (var (_, wa) in r.Diagonal) summed[ry + wa] = true;
        var src = j.ToDoubleArray();
        var dst = new double[outShape.Size];
        var idx = new int[ry + rw];
        for (int flat = 0; flat < src.Length; flat++)
        {
            int rem = flat;
            for (int k = ry + rw - 1; k >= 0; k--) { idx[k] = rem % j.Shape[k]; rem /= j.Shape[k]; }
            bool skip = false;
            int o = 0;
            for (int k = 0; k < ry + rw; k++)
            {
                if (atZero[k] && idx[k] != 0) { skip = true; break; }
                o = o * outShape[k] + (atZero[k] || summed[k] ? 0 : idx[k]);
            }
            if (!skip) dst[o] += src[flat];
        }
        return Tensor.FromArray(dst, outShape);
    }

    /// <summary>Null when Build's ∂y'/∂w' for <paramref name="active"/> equals the compressed dense Jacobian.</summary>
    internal static string? CheckOne(StructureCase c, Graph g, Equation eq, int w, Tensor[] inputs, Tensor dense, StructureRule active,
        StructureRule? reference = null)
    {
        var others = c.OthersConstant ? g.Inputs.Take(g.Inputs.Count - 1).ToHashSet() : new HashSet<Var>();
        var (jg, consts) = CompressedJacobian.Build(eq, w, active, v => others.Contains(v));
        var values = consts.Select(v => inputs[g.Inputs.ToList().IndexOf(v)]).ToArray();
        var actual = Interpreter.Evaluate(jg, values)[0];
        var expected = Compress(dense, eq.Output.Type.Shape, eq.Inputs[w].Type.Shape, reference ?? active);
        var what = $"{c} with structure {active}";
        if (actual.Shape != expected.Shape) return $"{what}: shape {actual.Shape}, expected {expected.Shape}";
        var a = actual.ToDoubleArray(); var e = expected.ToDoubleArray();
        for (int i = 0; i < e.Length; i++)
            if (!(Math.Abs(a[i] - e[i]) <= 1e-12 * Math.Max(1, Math.Abs(e[i]))))
                return $"{what}: element {i} of {expected.Shape} is {a[i]:R}, expected {e[i]:R}";
        return null;
    }

    /// <summary>The full rule and its restrictions to every subset of the compressed w axes (or to
    /// <paramref name="subsets"/> random ones when there are many).</summary>
    internal static string? Check(StructureCase c, Random rng, int? subsets = null)
    {
        var (g, eq, w) = c.Trace();
        var rule = StructureCase.RuleOf(eq, w);
        var inputs = c.Inputs(rng);
        var dense = Ad.JacFwd(g, inputs)[0][^1];
        var axes = rule.CompressedW.ToArray();
        IEnumerable<HashSet<int>> all = Enumerable.Range(0, 1 << axes.Length)
            .Select(m => Enumerable.Range(0, axes.Length).Where(i => (m >> i & 1) != 0).Select(i => axes[i]).ToHashSet());
        var chosen = subsets is { } n && (1 << axes.Length) > n + 1
            ? all.Take((1 << axes.Length) - 1).OrderBy(_ => rng.Next()).Take(n).ToList()
            : all.Take((1 << axes.Length) - 1).ToList();          // the last subset is the full rule, checked below
        foreach (var active in chosen.Select(s => rule.Restrict(s)).Prepend(rule))
        {
            string? err;
            try { err = CheckOne(c, g, eq, w, inputs, dense, active); }
            catch (Exception ex) { err = $"{c} with structure {active}: {ex.GetType().Name}: {ex.Message}"; }
            if (err is not null) return err;
        }
        return null;
    }

    public static IEnumerable<object[]> Cases() => StructureCase.Simple.Select(c => new object[] { c.Name });

    [Theory, MemberData(nameof(Cases))]
    public void MatchesCompressedDenseJacobian(string name)
    {
        var err = Check(StructureCase.ByName(name), new Random(name.Length + 7));
        Assert.True(err is null, err);
    }

    [Property(MaxTest = 40)]
    public Property DotGeneralForRandomDimensionNumbers(PositiveInt seed, bool paramOnLeft)
    {
        var rng = new Random(seed.Get);
        var err = Check(StructureCase.RandomDotGeneral(rng, paramOnLeft), rng, subsets: 2);
        return (err is null).Label(err ?? "");
    }

    /// <summary>Filter operand of an ordinary (kind 0), grouped (1) or depthwise (2) convolution over random shapes.</summary>
    [Property(MaxTest = 50)]
    public Property ConvForRandomShapes(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        var err = Check(StructureCase.RandomConv(rng, seed.Get % 3), rng);
        return (err is null).Label(err ?? "");
    }
}
