using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralTangents.Kernels;

namespace NeuralTangents.Tests.Kernels;

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
        var ops = new (int[] Ids, Shape Shape)[]
        {
            (new[] { 0, 2, 3 }, new Shape(n, t, k)), (new[] { 0, 4 }, new Shape(n, d)),
            (new[] { 1, 4 }, new Shape(n, d)), (new[] { 1, 2, 3 }, new Shape(n, t, k)),
        };
        double optimal = (double)n * n * d + (double)n * n * t * k + (double)n * n;
        Assert.Equal(optimal, Einsum.Cost(ops, new[] { 0, 1 }));
        var rng = new Random(5);
        var values = ops.Select(o => new Einsum.Operand(Tensor.RandomNormal(rng, o.Shape), o.Ids)).ToArray();
        var gram = Einsum.Contract(new[] { values[1], values[2] }, new[] { 0, 1 }).ToDoubleArray();
        var cot = Einsum.Contract(new[] { values[0], values[3] }, new[] { 0, 1 }).ToDoubleArray();
        TestUtil.AssertClose(gram.Zip(cot, (g, c) => g * c).ToArray(), Einsum.Contract(values, new[] { 0, 1 }).ToDoubleArray(), 1e-12, 1e-12);
    }
}
