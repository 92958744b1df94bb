using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>Batching rules: for every primitive, the vmapped result equals the stack of unbatched results.</summary>
public class VmapTests
{
    private static Tensor Stack(IReadOnlyList<Tensor> xs, int axis) =>
        Structural.Concatenate(xs.Select(x => x.ExpandDims(axis)).ToArray(), axis);

    private static Tensor Take(Tensor x, int axis, int i)
    {
        var start = new int[x.Rank]; var limit = x.Shape.ToArray();
        start[axis] = i; limit[axis] = i + 1;
        return x.Slice(start, limit).Squeeze(axis).Contiguous();
    }

    /// <summary>Random primitive case, batch size 1–3, a random subset of batched operands at random axes, random out axis.</summary>
    [Property(MaxTest = 300)]
    public Property VmappedEqualsStackOfUnbatched(PositiveInt caseSeed)
    {
        var rng = new Random(caseSeed.Get);
        var c = PrimitiveRuleTests.Cases[rng.Next(PrimitiveRuleTests.Cases.Length)];
        int n = rng.Next(1, 4), k = c.Shapes.Length;
        var batched = Enumerable.Range(0, k).Select(_ => rng.Next(2) == 0).ToArray();
        // select's predicate must stay element-wise comparable; any operand may be batched.
        if (!batched.Any()) batched[rng.Next(k)] = true;
        var inAxes = Enumerable.Range(0, k).Select(i => batched[i] ? (int?)rng.Next(c.Shapes[i].Length + 1) : null).ToArray();
        var g = Ad.Trace(x => new[] { c.F(x) }, c.Shapes.Select(s => new TensorType(new Shape(s), DType.Float64)).ToArray());
        int outAxis = rng.Next(g.Outputs[0].Type.Rank + 1);
        var vg = Ad.Vmap(g, inAxes, new[] { outAxis }, n);

        var perExample = Enumerable.Range(0, n).Select(_ => c.Shapes.Select(s =>
        {
            var t = Tensor.RandomNormal(rng, new Shape(s));
            return c.Positive ? Tensor.FromArray(t.ToDoubleArray().Select(v => 1 + 0.4 * Math.Tanh(v)).ToArray(), t.Shape) : t;
        }).ToArray()).ToArray();
        // Unbatched operands are shared: use example 0's value for everyone.
        for (int e = 1; e < n; e++) for (int i = 0; i < k; i++) if (!batched[i]) perExample[e][i] = perExample[0][i];
        var vin = Enumerable.Range(0, k).Select(i => batched[i] ? Stack(perExample.Select(ex => ex[i]).ToArray(), inAxes[i]!.Value) : perExample[0][i]).ToArray();
        var y = Ad.Evaluate(vg, vin)[0];
        for (int e = 0; e < n; e++)
        {
            var expected = Ad.Evaluate(g, perExample[e])[0].ToDoubleArray();
            var actual = Take(y, outAxis, e).ToDoubleArray();
            for (int j = 0; j < expected.Length; j++)
                if (Math.Abs(expected[j] - actual[j]) > 1e-12 * (1 + Math.Abs(expected[j])))
                    return false.Label($"{c.Name} n={n} inAxes=[{string.Join(",", inAxes)}] out={outAxis}: example {e}[{j}] {actual[j]} vs {expected[j]}");
        }
        return true.ToProperty();
    }

    [Fact]
    public void VmapComposesWithItselfAndWithVjp()
    {
        // f(w, x) = tanh(x·w); per-example Jacobians from Vmap(Vmap(Vjp)) equal JacRev row by row.
        var g = Ad.Trace(x => new[] { Lax.Tanh(Np.Dot(x[1], x[0])) }, new[] { new TensorType(new Shape(3, 2), DType.Float64), new TensorType(new Shape(1, 3), DType.Float64) });
        var rng = new Random(3);
        var w = Tensor.RandomNormal(rng, new Shape(3, 2));
        var xs = Tensor.RandomNormal(rng, new Shape(4, 1, 3));
        var vjp = Ad.VjpGraph(g, new[] { true, false });   // (w, x, ct) -> (y, dw)
        var grads = Ad.Trace(ins => new[] { NeuralTangents.Autodiff.Interpreters.Interpreter.Inline(ins[0].Builder, vjp, ins)[1] }, vjp.InputTypes);
        var perBasis = Ad.Vmap(grads, new int?[] { null, null, 0 }, new[] { 0 }, 2);            // basis (2, 1, 2)
        var perExample = Ad.Vmap(perBasis, new int?[] { null, 0, null }, new[] { 0 }, 4);        // x (4, 1, 3)
        var basis = Tensor.FromArray(new double[] { 1, 0, 0, 1 }, new Shape(2, 1, 2));
        var j = Ad.Evaluate(perExample, w, xs, basis)[0];                                       // (4, 2, 3, 2)
        Assert.Equal(new Shape(4, 2, 3, 2), j.Shape);
        for (int e = 0; e < 4; e++)
        {
            var xe = xs.Slice(new[] { e, 0, 0 }, new[] { e + 1, 1, 3 }).Squeeze(0);
            var jr = Ad.JacRev(g, new[] { w, xe })[0][0];                                        // (1, 2, 3, 2)
            TestUtil.AssertClose(jr.Reshape(2, 3, 2), j.Slice(new[] { e, 0, 0, 0 }, new[] { e + 1, 2, 3, 2 }).Squeeze(0), 1e-14, 1e-15);
        }
    }

    [Fact]
    public void PrimitivesStaxUsesHaveBatchingRules()
    {
        var flags = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic;
        var types = typeof(Primitive).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Primitive)) && !t.IsAbstract).ToArray();
        var prop = typeof(Primitive).GetProperty("HasBatchingRule", flags)!;
        // The declared flag (no reflection in the library, for trimming/AOT) must match whether Batch is overridden.
        var wrong = types.Where(t => (bool)prop.GetValue(System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(t))!
                                     != (t.GetMethod("Batch", flags)!.DeclaringType != typeof(Primitive)))
            .Select(t => t.Name).ToArray();
        Assert.Equal(Array.Empty<string>(), wrong);
        var missing = types.Where(t => t.GetMethod("Batch", flags)!.DeclaringType == typeof(Primitive)).Select(t => t.Name).ToArray();
        // The generic per-example loop is only used by primitives listed here (and is itself tested above through them).
        Assert.Equal(Array.Empty<string>(), missing);
    }
}
