using NeuralTangents.Cli;
using NeuralTangents.Interop;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Empirical;

/// <summary>The AUTO cost model (issue 4): estimates for the three implementations, a deterministic cached choice.</summary>
public class AutoTests
{
    [Fact]
    public void WideFcnPrefersStructuredDerivativesAndNarrowInputsStayConsistent()
    {
        // A wide FCN with many outputs: Jacobians are P·O per example, the MJJMPs only Grams of activations and
        // cotangents (Novak et al. 2022 §4.1), so SD must be estimated far cheaper than JC, and NTK-VP more expensive than SD.
        var net = Serial(Dense(256), Relu(), Dense(256), Relu(), Dense(50));
        var rng = new Random(1);
        var x = Tensor.RandomNormal(rng, new Shape(4, 64), DType.Float32);
        var (_, p) = net.Init(0, x.Shape, DType.Float32);
        var ex = NeuralTangents.Empirical.ExplainNtk(net.Apply, x, null, p, traceAxes: new int[0], vmapAxes: 0);
        Assert.Equal(3, ex.Estimates.Count);
        var jc = ex.Estimates.Single(e => e.Implementation == NtkImplementation.JacobianContraction);
        var sd = ex.Estimates.Single(e => e.Implementation == NtkImplementation.StructuredDerivatives);
        Assert.Equal(NtkImplementation.StructuredDerivatives, ex.Chosen);
        Assert.True(sd.Flops * 5 < jc.Flops, ex.ToString());
        Assert.All(ex.Estimates, e => Assert.True(e.Flops > 0 && e.PeakBytes > 0));
        // Deterministic, and a tiny budget excludes everything but falls back to JacobianContraction.
        Assert.Equal(ex.ToString(), NeuralTangents.Empirical.ExplainNtk(net.Apply, x, null, p, traceAxes: new int[0], vmapAxes: 0).ToString());
        var none = NeuralTangents.Empirical.ExplainNtk(net.Apply, x, null, p, traceAxes: new int[0], vmapAxes: 0, memoryBudgetBytes: 1);
        Assert.All(none.Estimates, e => Assert.False(e.FitsBudget));
        Assert.Equal(NtkImplementation.JacobianContraction, none.Chosen);
        // AUTO returns the same kernel as the reference.
        var auto = NeuralTangents.Empirical.NtkFn(net.Apply, traceAxes: new int[0], vmapAxes: 0, implementation: NtkImplementation.Auto)(x, null, p);
        var reference = NeuralTangents.Empirical.NtkFn(net.Apply, traceAxes: new int[0], vmapAxes: 0, implementation: NtkImplementation.JacobianContraction)(x, null, p);
        TestUtil.AssertClose(reference.ToDoubleArray(), auto.ToDoubleArray(), 5e-3, 5e-3 * reference.ToDoubleArray().Max(Math.Abs));
    }

    [Fact]
    public void ExplainOptionPrintsTheTable()
    {
        var dir = Directory.CreateTempSubdirectory("nt-explain-").FullName;
        try
        {
            Npy.Write(Path.Combine(dir, "x.npy"), Tensor.RandomNormal(new Random(2), new Shape(3, 5)));
            var o = new StringWriter(); var e = new StringWriter();
            int code = CliApp.Run(new[] { "kernel", "--net", "Dense(8),Relu,Dense(2)", "--seed", "0", "--x1", Path.Combine(dir, "x.npy"),
                "--implementation", "auto", "--explain", "--out", Path.Combine(dir, "k.npy") }, o, e);
            Assert.True(code == 0, e.ToString());
            var text = o.ToString();
            Assert.Contains("AUTO picks", text);
            foreach (var name in new[] { "JacobianContraction", "NtkVectorProducts", "StructuredDerivatives" }) Assert.Contains(name, text);
            Assert.Contains("GFLOP", text);
            Assert.Contains("NTK implementation: auto → ", text);   // what actually runs, not only what AUTO would pick
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void FlopTiesWithinTheBandGoToStructuredDerivativesThenTheSmallerPeakMemory()
    {
        static NtkCostEstimate E(NtkImplementation i, double gflop, double mib, bool fits = true) => new(i, gflop * 1e9, mib * (1 << 20), fits);
        var jc = NtkImplementation.JacobianContraction; var vp = NtkImplementation.NtkVectorProducts; var sd = NtkImplementation.StructuredDerivatives;
        // The narrow CNN's estimates: SD is 17 % more FLOPs (a tie) → SD.
        Assert.Equal(sd, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 12.7, 225), E(vp, 107.6, 132), E(sd, 14.9, 72) }));
        // The pooling CNN: a FLOP tie where SD even needs more memory → still SD (measured faster).
        Assert.Equal(sd, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 0.2, 3), E(vp, 6.2, 8), E(sd, 0.2, 6) }));
        // A tie without SD → the smaller peak memory.
        Assert.Equal(vp, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 10, 225), E(vp, 11, 100), E(sd, 50, 1) }));
        // Outside the band the FLOPs decide, whatever the memory.
        Assert.Equal(jc, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 10, 225), E(vp, 100, 1), E(sd, 13, 1) }));
        // Only those that fit compete; none fits → JacobianContraction (NT's user default).
        Assert.Equal(sd, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 1, 1, false), E(vp, 100, 1), E(sd, 50, 10) }));
        Assert.Equal(jc, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 1, 1, false), E(vp, 1, 1, false), E(sd, 1, 1, false) }));
        // Equal FLOPs and memory, SD not tied → the lower enum value, as Neural Tangents breaks ties.
        Assert.Equal(jc, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 5, 8), E(vp, 5, 8), E(sd, 50, 8) }));
    }

    [Fact]
    public void AFlopTieDoesNotPreferStructuredDerivativesInSmallerTiles()
    {
        static NtkCostEstimate E(NtkImplementation i, double gflop, double mib, int? tile) => new(i, gflop * 1e9, mib * (1 << 20), true) { TileSize = tile };
        var jc = NtkImplementation.JacobianContraction; var vp = NtkImplementation.NtkVectorProducts; var sd = NtkImplementation.StructuredDerivatives;
        // New-user trial 5 at a 2 GiB budget: SD in tiles of 2 (334 GFLOP) was within the band of JC in tiles of 11
        // (293 GFLOP); the old tie-break took SD and ran 3x slower than JC → the larger tiles win.
        Assert.Equal(jc, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 293, 1900, 11), E(vp, 5000, 500, 20), E(sd, 334, 1700, 2) }));
        // SD whole against JC in tiles → SD keeps its preference; equal tiles → SD too.
        Assert.Equal(sd, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 293, 1900, 11), E(vp, 5000, 500, 20), E(sd, 334, 1700, null) }));
        Assert.Equal(sd, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 293, 1900, 4), E(vp, 5000, 500, 20), E(sd, 334, 1700, 4) }));
        // Tied on FLOPs without the SD preference: the fewest tiles first, then the smaller peak memory.
        Assert.Equal(vp, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 10, 100, 2), E(vp, 11, 900, 8), E(sd, 11, 50, 1) }));
        // Outside the band the FLOPs still decide, whatever the tiles.
        Assert.Equal(sd, NeuralTangents.Implementations.CostModel.Choose(new[] { E(jc, 300, 1900, 11), E(vp, 5000, 500, 20), E(sd, 100, 1700, 2) }));
    }
}
