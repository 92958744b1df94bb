using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralTangents.Implementations;

namespace NeuralTangents.Tests.Implementations;

/// <summary>The MJJMP contraction engine: values against a naive loop over every index assignment, and the order search.</summary>
public class EinsumTests
{
    /// <summary>Σ over every assignment of the ids of Π operands, scattered to the output ids.</summary>
    private static double[] Naive(IReadOnlyList<Einsum.Operand> ops, int[] output, Dictionary<int, int> sizes)
    {
        var ids = sizes.Keys.OrderBy(i => i).ToArray();
        var outShape = output.Select(id => sizes[id]).ToArray();
        var result = new double[outShape.Aggregate(1, (a, d) => a * d)];
        var values = ops.Select(o => o.Value.ToDoubleArray()).ToArray();
        var assign = new int[ids.Length];
        int total = ids.Aggregate(1, (a, id) => a * sizes[id]);
        for (int flat = 0; flat < total; flat++)
        {
            int rem = flat;
            for (int k = ids.Length - 1; k >= 0; k--) { assign[k] = rem % sizes[ids[k]]; rem /= sizes[ids[k]]; }
            int At(int id) => assign[Array.IndexOf(ids, id)];
            double prod = 1;
            for (int o = 0; o < ops.Count; o++)
            {
                int idx = 0;
                foreach (var id in ops[o].Ids) idx = idx * sizes[id] + At(id);
                prod *= values[o][idx];
            }
            int oi = 0;
            foreach (var id in output) oi = oi * sizes[id] + At(id);
            result[oi] += prod;
        }
        return result;
    }

    [Property(MaxTest = 150)]
    public Property ContractionEqualsNaiveSum(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        int nIds = rng.Next(1, 8), nOps = rng.Next(1, 7);
        var sizes = Enumerable.Range(0, nIds).ToDictionary(i => i, _ => rng.Next(1, 4));
        var ops = new List<Einsum.Operand>();
        var used = new HashSet<int>();
        for (int o = 0; o < nOps; o++)
        {
            var ids = Enumerable.Range(0, nIds).Where(_ => rng.NextDouble() < 0.5).OrderBy(_ => rng.Next()).ToArray();
            used.UnionWith(ids);
            ops.Add(new Einsum.Operand(Tensor.RandomNormal(rng, new Shape(ids.Select(i => sizes[i]))), ids));
        }
        var output = used.Where(_ => rng.NextDouble() < 0.4).OrderBy(_ => rng.Next()).ToArray();
        var expected = Naive(ops, output, sizes.Where(kv => used.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value));
        var actual = Einsum.Contract(ops, output);
        var err = expected.Zip(actual.ToDoubleArray(), (e, a) => Math.Abs(e - a) / (1 + Math.Abs(e))).DefaultIfEmpty(0).Max();
        return (actual.Shape == new Shape(output.Select(i => sizes[i])) && err < 1e-12)
            .Label($"{nOps} operands [{string.Join(" ", ops.Select(o => "(" + string.Join(",", o.Ids) + ")"))}] → ({string.Join(",", output)}): error {err:E2}, shape {actual.Shape}");
    }

    /// <summary>A Dense layer's MJJMP with a traced logit axis (the digits FCN's last layer, N examples): greedy
    /// "cheapest pair first" contracts ∂f/∂y with the inputs first (N·t·k·d, then N²·t·k·d); the best order is the
    /// two Grams (N²·d + N²·t·k) and an element-wise product (N²). N > t·k makes the greedy first step the wrong one.</summary>
    [Fact]
    public void MjjmpOrderIsTheOptimalOne()
    {
        const int n = 150, t = 10, k = 10, d = 64;
        // ids: 0 = n1, 1 = n2, 2 = t (traced), 3 = k (y axis shared across sides), 4 = d (w axis shared by the Jacobians)
        var ops = new (int[] Ids, Shape Shape, object? Key)[]
        {
            (new[] { 0, 2, 3 }, new Shape(n, t, k), null), (new[] { 0, 4 }, new Shape(n, d), null),
            (new[] { 1, 4 }, new Shape(n, d), null), (new[] { 1, 2, 3 }, new Shape(n, t, k), null),
        };
        double optimal = (double)n * n * d + (double)n * n * t * k + (double)n * n;
        Assert.Equal(optimal, Einsum.Cost(ops, new[] { 0, 1 }));
        var rng = new Random(5);
        var values = ops.Select(o => new Einsum.Operand(Tensor.RandomNormal(rng, o.Shape), o.Ids)).ToArray();
        var gram = Einsum.Contract(new[] { values[1], values[2] }, new[] { 0, 1 }).ToDoubleArray();
        var cot = Einsum.Contract(new[] { values[0], values[3] }, new[] { 0, 1 }).ToDoubleArray();
        TestUtil.AssertClose(gram.Zip(cot, (g, c) => g * c).ToArray(), Einsum.Contract(values, new[] { 0, 1 }).ToDoubleArray(), 1e-12, 1e-12);
    }

    /// <summary>Operands repeated with renamed ids (a train-train MJJMP: both sides are the same tensors): a repeated
    /// pairwise step is reused, and the result still equals the naive sum.</summary>
    [Property(MaxTest = 120)]
    public Property RepeatedOperandsGiveTheNaiveSum(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        int nIds = rng.Next(1, 5), nOps = rng.Next(1, 3);
        var sizes = Enumerable.Range(0, nIds).ToDictionary(i => i, _ => rng.Next(1, 4));
        var ops = new List<Einsum.Operand>();
        for (int o = 0; o < nOps; o++)
        {
            var ids = Enumerable.Range(0, nIds).Where(_ => rng.NextDouble() < 0.6).OrderBy(_ => rng.Next()).ToArray();
            ops.Add(new Einsum.Operand(Tensor.RandomNormal(rng, new Shape(ids.Select(i => sizes[i]))), ids));
        }
        // The mirror side: every id except the "shared" ones renamed to a fresh id of the same size.
        var shared = Enumerable.Range(0, nIds).Where(_ => rng.NextDouble() < 0.5).ToHashSet();
        int Rename(int id) => shared.Contains(id) ? id : id + 100;
        foreach (var o in ops.ToArray()) ops.Add(new Einsum.Operand(o.Value, o.Ids.Select(Rename).ToArray(), o.Value));
        foreach (var id in Enumerable.Range(0, nIds).Where(i => !shared.Contains(i))) sizes[id + 100] = sizes[id];
        var used = ops.SelectMany(o => o.Ids).ToHashSet();
        var output = used.Where(id => !shared.Contains(id % 100) && rng.NextDouble() < 0.5).OrderBy(_ => rng.Next()).ToArray();
        var expected = Naive(ops, output, sizes.Where(kv => used.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value));
        var actual = Einsum.Contract(ops, output);
        var err = expected.Zip(actual.ToDoubleArray(), (e, a) => Math.Abs(e - a) / (1 + Math.Abs(e))).DefaultIfEmpty(0).Max();
        return (err < 1e-12).Label($"[{string.Join(" ", ops.Select(o => "(" + string.Join(",", o.Ids) + ")"))}] → ({string.Join(",", output)}): error {err:E2}");
    }

    /// <summary>A conv layer's train-train MJJMP (x2 = null): ∂f/∂y·∂y/∂w (the per-example weight gradient) is the
    /// expensive step and is needed on both sides; with equal keys it is paid once.</summary>
    [Fact]
    public void RepeatedStepIsPaidOnce()
    {
        const int e = 20, t = 10, s = 900, c = 32, f = 288;
        // ids: 0 = e1, 1 = e2, 2 = t (traced), 3 = c (traced y axis, shared), 4/5 = s on each side, 6 = f (w axes)
        var a1 = (new[] { 0, 2, 4, 3 }, new Shape(e, t, s, c)); var j1 = (new[] { 0, 4, 6 }, new Shape(e, s, f));
        var a2 = (new[] { 1, 2, 5, 3 }, new Shape(e, t, s, c)); var j2 = (new[] { 1, 5, 6 }, new Shape(e, s, f));
        object ka = "A", kj = "J";
        double distinct = Einsum.Cost(new (int[], Shape, object?)[] { (a1.Item1, a1.Item2, null), (j1.Item1, j1.Item2, null), (j2.Item1, j2.Item2, null), (a2.Item1, a2.Item2, null) }, new[] { 0, 1 });
        double shared = Einsum.Cost(new (int[], Shape, object?)[] { (a1.Item1, a1.Item2, ka), (j1.Item1, j1.Item2, kj), (j2.Item1, j2.Item2, kj), (a2.Item1, a2.Item2, ka) }, new[] { 0, 1 });
        double gradient = (double)e * t * s * c * f, final = (double)e * e * t * c * f;
        Assert.Equal(2 * gradient + final, distinct);
        Assert.Equal(gradient + final, shared);
    }

    /// <summary>A scaled contraction added into an accumulator (structured derivatives' per-use factors, applied to
    /// the kernel-sized result) equals the accumulator plus scale × the unscaled result, whether the last step is an
    /// element-wise product fused into the accumulator or a dot_general, in float64 (1e-13) and float32 (1e-6).</summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void ScaledContractionAddsScaleTimesTheResult(bool hadamardLast, bool f32)
    {
        var rng = new Random(hadamardLast ? 11 : 12);
        var dtype = f32 ? DType.Float32 : DType.Float64;
        // Two Grams then their element-wise product (ids 0, 1 out), or one product over id 2 with nothing left to multiply.
        var ops = hadamardLast
            ? new[] { (new[] { 0, 2 }, new Shape(6, 40)), (new[] { 1, 2 }, new Shape(5, 40)), (new[] { 0, 3 }, new Shape(6, 30)), (new[] { 1, 3 }, new Shape(5, 30)) }
            : new[] { (new[] { 0, 2 }, new Shape(6, 40)), (new[] { 1, 2 }, new Shape(5, 40)) };
        var values = ops.Select(o => Tensor.RandomNormal(rng, o.Item2, dtype)).ToArray();
        var plain = new Einsum.Session();
        var want = plain.Contract(plain.Add(ops.Select(o => (o.Item1, o.Item2, (object?)null)).ToArray(), [0, 1]), values).ToDoubleArray();
        const double scale = -0.0589255653321743;
        var start = Tensor.RandomNormal(rng, new Shape(6, 5), dtype);
        var acc = Elementwise.Scale(start, 1);   // a contiguous copy
        var session = new Einsum.Session();
        var got = session.Contract(session.Add(ops.Select(o => (o.Item1, o.Item2, (object?)null)).ToArray(), [0, 1]), values, acc, scale).ToDoubleArray();
        var s0 = start.ToDoubleArray();
        TestUtil.AssertClose(s0.Zip(want, (a, w) => a + scale * w).ToArray(), got, f32 ? 1e-6 : 1e-13, f32 ? 1e-6 : 1e-13);
    }

    /// <summary>A planned session used as a template: every fresh copy computes exactly what a session that planned
    /// the same einsums itself computes, shares a step between two einsums (memoised, then released: nothing held at
    /// the end), and leaves the template untouched for the next copy.</summary>
    [Fact]
    public void FreshSessionsFromATemplateComputeWhatTheirOwnPlanningComputes()
    {
        var rng = new Random(21);
        // Both einsums read the Gram A·Bᵀ over id 2 (a shared step); the second multiplies it by C·Dᵀ over id 3.
        var first = new[] { (new[] { 0, 2 }, new Shape(6, 40), (object?)"A"), (new[] { 1, 2 }, new Shape(5, 40), (object?)"B") };
        var second = first.Append((new[] { 0, 3 }, new Shape(6, 30), (object?)"C")).Append((new[] { 1, 3 }, new Shape(5, 30), (object?)"D")).ToArray();
        var values = second.Select(o => Tensor.RandomNormal(rng, o.Item2)).ToArray();
        double[][] Run(Einsum.Session s, Einsum.Planned p1, Einsum.Planned p2)
        {
            var r0 = s.Contract(p1, values[..2]).ToDoubleArray();
            Assert.Equal(1, s.Held);   // the Gram, kept for the second einsum
            var r = new[] { r0, s.Contract(p2, values).ToDoubleArray() };
            Assert.Equal(0, s.Held);
            return r;
        }
        var own = new Einsum.Session();
        var want = Run(own, own.Add(first, [0, 1]), own.Add(second, [0, 1]));
        var template = new Einsum.Session();
        var (q1, q2) = (template.Add(first, [0, 1]), template.Add(second, [0, 1]));
        for (int copy = 0; copy < 3; copy++)
        {
            var got = Run(template.Fresh(ComputeBackend.Cpu), q1, q2);
            Assert.Equal(want[0], got[0]);
            Assert.Equal(want[1], got[1]);
        }
    }
}
