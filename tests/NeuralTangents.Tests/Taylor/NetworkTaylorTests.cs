using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Taylor;
using Xunit.Abstractions;
using static NeuralTangents.Stax.Stax;
using static NeuralTangents.Tests.Taylor.TaylorTestUtil;
using static NeuralTangents.Tests.TestUtil;
using NtEmpirical = NeuralTangents.Empirical;

namespace NeuralTangents.Tests.Taylor;

/// <summary>Linearize / TaylorExpand on networks: exactness at θ₀, kernels, composition, error order, graph size.</summary>
public class NetworkTaylorTests(ITestOutputHelper output)
{
    private static readonly Stax.Layer Mlp = Serial(Dense(7, 1.5, 0.3), Erf(), Dense(5, 1.2, 0.2), Erf(), Dense(3));

    private static (Params P0, Tensor X) Setup(int seed, DType dtype = DType.Float64)
    {
        var x = Tensor.RandomNormal(new Random(seed), new Shape(4, 6), dtype);
        return (Mlp.Init(seed, x.Shape, dtype).Params, x);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void ExactAtExpansionPoint(DType dtype)
    {
        var (p0, x) = Setup(1, dtype);
        var y = Eval(Mlp.Apply, p0, x);
        foreach (var degree in new[] { 0, 1, 2, 3 })
            Assert.Equal(y.ToDoubleArray(), Eval(NtEmpirical.TaylorExpand(Mlp.Apply, p0, degree), p0, x).ToDoubleArray());
        Assert.Equal(y.ToDoubleArray(), Eval(NtEmpirical.Linearize(Mlp.Apply, p0), p0, x).ToDoubleArray());
    }

    [Fact]
    public void DegreeOneIsLinearizeAndAffine()
    {
        var (p0, x) = Setup(2);
        var rng = new Random(3);
        var pa = Perturb(p0, rng, 0.3);
        var lin = NtEmpirical.Linearize(Mlp.Apply, p0);
        var ya = Eval(lin, pa, x);
        Assert.Equal(ya.ToDoubleArray(), Eval(NtEmpirical.TaylorExpand(Mlp.Apply, p0, 1), pa, x).ToDoubleArray());
        // Affine in θ: f_lin(θ₀ + 2Δ) − f_lin(θ₀) = 2·(f_lin(θ₀ + Δ) − f_lin(θ₀)).
        var p2 = new Params(pa.Select(kv => new KeyValuePair<string, Tensor>(kv.Key,
            Tensor.FromArray(kv.Value.ToDoubleArray().Zip(p0[kv.Key].ToDoubleArray(), (a, b) => 2 * a - b).ToArray(), kv.Value.Shape))));
        var y0 = Eval(lin, p0, x).ToDoubleArray();
        var y2 = Eval(lin, p2, x).ToDoubleArray();
        var expected = ya.ToDoubleArray().Zip(y0, (a, b) => 2 * a - b).ToArray();
        AssertClose(expected, y2, 1e-12, 1e-12);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    public void NtkOfLinearizationAtExpansionPointEqualsNtk(int? vmapAxes)
    {
        var (p0, x) = Setup(4);
        var x2 = Tensor.RandomNormal(new Random(9), new Shape(3, 6));
        var lin = NtEmpirical.Linearize(Mlp.Apply, p0);
        foreach (var trace in new[] { new[] { -1 }, Array.Empty<int>() })
        {
            var k = NtEmpirical.KernelFn(Mlp.Apply, trace, vmapAxes: vmapAxes)(x, x2, null, p0);
            var kLin = NtEmpirical.KernelFn(lin, trace, vmapAxes: vmapAxes)(x, x2, null, p0);
            Assert.Equal(k.Nngp!.ToDoubleArray(), kLin.Nngp!.ToDoubleArray());
            AssertClose(k.Ntk!, kLin.Ntk!, 1e-12, 1e-13);
        }
        // The NTK of f_lin is constant in θ (f_lin is affine), unlike f's.
        var pa = Perturb(p0, new Random(5), 0.5);
        var ntk = NtEmpirical.NtkFn(lin);
        AssertClose(ntk(x, x2, p0), ntk(x, x2, pa), 1e-12, 1e-13);
    }

    [Fact]
    public void ComposesWithVmap()
    {
        var (p0, x) = Setup(6);
        var lin = NtEmpirical.TaylorExpand(Mlp.Apply, p0, 2);
        var pa = Perturb(p0, new Random(7), 0.2);
        var names = pa.Keys.ToArray();
        var graph = Ad.Trace(ins =>
        {
            var map = names.Select((n, i) => (n, ins[i])).ToDictionary(t => t.n, t => t.Item2);
            return new[] { lin(new ParamTracers(map), ins[^1]) };
        }, pa.Values.Append(Tensor.Zeros(new Shape(1, 6))).Select(TensorType.Of).ToArray());
        // vmap over (1, 6) examples reproduces the batched call.
        var batched = Ad.Vmap(graph, names.Select(_ => (int?)null).Append(0).ToArray(), new[] { 0 }, 4);
        var yv = Ad.Evaluate(batched, pa.Values.Append(x.Reshape(4, 1, 6)).ToArray())[0];
        AssertClose(Eval(lin, pa, x), yv.Reshape(4, 3), 1e-13, 1e-13);
    }

    /// <summary>The remainder of a degree-d polynomial is O(ε^{d+1}): halving the step divides it by ≈ 2^{d+1}.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RemainderHasTheRightOrder(int degree)
    {
        var (p0, x) = Setup(8);
        var dir = Perturb(p0.Map((_, t) => Tensor.Zeros(t.Shape)), new Random(11), 1.0);
        var fT = NtEmpirical.TaylorExpand(Mlp.Apply, p0, degree);
        double Remainder(double eps)
        {
            var p = new Params(p0.Select(kv => new KeyValuePair<string, Tensor>(kv.Key,
                Tensor.FromArray(kv.Value.ToDoubleArray().Zip(dir[kv.Key].ToDoubleArray(), (a, d) => a + eps * d).ToArray(), kv.Value.Shape))));
            return MaxAbsDiff(Eval(Mlp.Apply, p, x), Eval(fT, p, x));
        }
        double r1 = Remainder(0.08), r2 = Remainder(0.04);
        double ratio = r1 / r2, ideal = Math.Pow(2, degree + 1);
        output.WriteLine($"degree {degree}: remainder {r1:E3} -> {r2:E3}, ratio {ratio:F2} (ideal {ideal})");
        Assert.InRange(ratio, 0.7 * ideal, 1.4 * ideal);
    }

    /// <summary>
    /// CSE keeps nested-JVP graphs polynomial in the degree: without it each level roughly triples the graph.
    /// </summary>
    [Fact]
    public void GraphSizeGrowsPolynomially()
    {
        var (p0, x) = Setup(10);
        var t = new[] { TensorType.Of(x) };
        var counts = new int[7];
        var raw = new int[7];
        for (int d = 1; d <= 6; d++)
        {
            counts[d] = new TaylorFunction((p, xs) => new[] { Mlp.Apply(p, xs[0]) }, p0, d).Build(t).Equations.Count;
            if (d <= 4) raw[d] = new TaylorFunction((p, xs) => new[] { Mlp.Apply(p, xs[0]) }, p0, d).Build(t, cse: false).Equations.Count;
        }
        output.WriteLine("degree: equations with CSE (without)");
        for (int d = 1; d <= 6; d++) output.WriteLine($"  {d}: {counts[d]}{(d <= 4 ? $" ({raw[d]})" : "")}");
        for (int d = 2; d <= 6; d++) Assert.True(counts[d] > counts[d - 1]);
        // Measured 45, 71, 108, 154, 215, 293 (quadratic-like); without CSE 45, 99, 208, 454 (×2.2 per degree).
        Assert.True(counts[6] < 8 * counts[1], $"degree 6 has {counts[6]} equations, degree 1 has {counts[1]}");
        Assert.True(counts[6] < 1.5 * counts[5], $"degree 5 → 6 grew from {counts[5]} to {counts[6]} equations");
        Assert.True(raw[4] > counts[4]);
    }
}
