using NeuralTangents.Tests.Cli;
using NeuralTangents.Cli;
using NeuralTangents.Interop;
using NeuralTangents.Tiles;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Tiles;

/// <summary>Issue 11: tiles over examples (nt.batch), the memory budget, disk-backed output, progress, cancel, resume.</summary>
public class TiledKernelTests
{
    private static readonly NtkImplementation[] Implementations =
        { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives };

    private static (Stax.Layer Net, Params P, Tensor X1, Tensor X2) Setup(DType dtype = DType.Float64)
    {
        var net = Serial(Dense(6, wStd: 1.3, bStd: 0.2), Relu(), Dense(3, wStd: 1.1, bStd: 0.1));
        var rng = new Random(7);
        var x1 = Tensor.RandomNormal(rng, new Shape(7, 4), dtype);
        var x2 = Tensor.RandomNormal(rng, new Shape(5, 4), dtype);
        var (_, p) = net.Init(3, x1.Shape, dtype);
        return (net, p, x1, x2);
    }

    private static void AssertRel(Tensor expected, Tensor actual, double rtol)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToDoubleArray(); var a = actual.ToDoubleArray();
        double scale = e.Max(Math.Abs);
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= rtol * scale, $"element {i}: {e[i]} vs {a[i]}");
    }

    public static IEnumerable<object[]> Cases()
    {
        var axes = new (int[] T, int[] D)[] { (new[] { -1 }, new int[0]), (new int[0], new int[0]), (new int[0], new[] { 1 }), (new int[0], new[] { 0 }) };
        foreach (var impl in Implementations)
            for (int a = 0; a < axes.Length; a++)
                foreach (var vmap in new[] { true, false })
                    yield return new object[] { impl, a, vmap };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TiledEqualsUntiledForEveryImplementationAxesAndX2(NtkImplementation impl, int axesCase, bool vmap)
    {
        var axes = new (int[] T, int[] D)[] { (new[] { -1 }, new int[0]), (new int[0], new int[0]), (new int[0], new[] { 1 }), (new int[0], new[] { 0 }) }[axesCase];
        var (net, p, x1, x2) = Setup();
        VmapAxes? v = vmap ? 0 : null;
        var whole = NeuralTangents.Empirical.KernelFn(net.Apply, axes.T, axes.D, v, impl);
        foreach (var bs in new[] { 1, 2, 3, 5 })
        {
            var tiled = NeuralTangents.Empirical.KernelFn(net.Apply, axes.T, axes.D, v, impl, new KernelOptions { BatchSize = bs });
            bool diag0 = axes.D.Contains(0);
            foreach (var other in diag0 ? new Tensor?[] { null } : new Tensor?[] { null, x2 })
            {
                var expected = whole(x1, other, null, p);
                var actual = tiled(x1, other, null, p);
                AssertRel(expected.Ntk!, actual.Ntk!, 1e-12);
                AssertRel(expected.Nngp!, actual.Nngp!, 1e-12);
            }
        }
    }

    [Theory]
    [InlineData(NtkImplementation.JacobianContraction)]
    [InlineData(NtkImplementation.NtkVectorProducts)]
    [InlineData(NtkImplementation.StructuredDerivatives)]
    public void SymmetricTilesAreExactlySymmetric(NtkImplementation impl)
    {
        var (net, p, x1, _) = Setup();
        var k = NeuralTangents.Empirical.NtkFn(net.Apply, null, null, 0, impl, new KernelOptions { BatchSize = 3 })(x1, null, p);
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 7; j++)
                Assert.Equal(k[i, j], k[j, i]);
        var full = NeuralTangents.Empirical.NtkFn(net.Apply, new int[0], null, 0, impl, new KernelOptions { BatchSize = 2 })(x1, null, p);
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 7; j++)
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++)
                        if (i != j) Assert.Equal(full[i, j, a, b], full[j, i, b, a]);
    }

    [Fact]
    public void PlanCountsUpperTriangularAndDiagonalTiles()
    {
        Assert.Equal(6, new TilePlan(7, 5, 3, false, false).Tiles.Count);
        var sym = new TilePlan(7, 7, 3, true, false);
        Assert.Equal(6, sym.Tiles.Count);
        Assert.All(sym.Tiles, t => Assert.True(t.Row <= t.Column));
        Assert.Equal(new[] { 3, 3, 1 }, new TilePlan(7, 7, 3, false, true).Tiles.Select(t => t.Count1));
        Assert.Equal(1, sym.Tiles[^1].Count2);
        Assert.Throws<ArgumentException>(() => new TilePlan(7, 5, 3, true, false));
    }

    [Fact]
    public void BudgetForcesTilesAndGivesTheSameKernel()
    {
        var (net, p, x1, x2) = Setup();
        foreach (var impl in Implementations)
        {
            var expected = NeuralTangents.Empirical.NtkFn(net.Apply, vmapAxes: 0, implementation: impl)(x1, x2, p);
            // Whole needs a few KiB: a budget between one tile's and the whole computation's estimate forces tiles.
            var whole = NeuralTangents.Empirical.Tiled(net.Apply, x1, x2, p, vmapAxes: 0, implementation: impl);
            Assert.Single(whole.Plan.Tiles);
            long budget = (long)(whole.EstimatedPeakBytes * 0.6);
            var options = new KernelOptions { MemoryBudget = budget };
            var tiled = NeuralTangents.Empirical.Tiled(net.Apply, x1, x2, p, vmapAxes: 0, implementation: impl, options: options);
            // NtkVectorProducts first shrinks its own example-pair blocks and basis chunks, JacobianContraction its
            // Jacobian chunks (one leaf each: the whole plan's peak is the contraction of all leaves' Jacobians and
            // their operand copies), so one smaller evaluation may fit.
            Assert.True(tiled.Plan.Tiles.Count > 1 || impl is NtkImplementation.NtkVectorProducts or NtkImplementation.JacobianContraction && tiled.EstimatedPeakBytes < whole.EstimatedPeakBytes,
                $"{impl}: {tiled.Plan} with budget {budget}");
            Assert.True(tiled.EstimatedPeakBytes <= budget);
            AssertRel(expected, NeuralTangents.Empirical.NtkFn(net.Apply, null, null, 0, impl, options)(x1, x2, p), 1e-12);
        }
    }

    /// <summary>D1: a whole NNGP whose kernel has big free axes (Dense on NHWC images) ran 1.7x past its estimate
    /// because the contraction's kernel-sized copies were not counted.</summary>
    [Fact]
    public void WholeEstimateCountsTheKernelSizedCopies()
    {
        var net = Serial(Dense(4), Relu(), Dense(3));
        var x = Tensor.RandomNormal(new Random(5), new Shape(4, 8, 8, 2), DType.Float32);
        var (_, p) = net.Init(1, x.Shape, DType.Float32);
        // The NNGP's contraction holds the dot_general result and its laid-out copy beside the kernel: the features
        // here are 3 KiB, the kernel (4, 8, 8, 8, 8) 64 KiB, so only counting those copies reaches 3 kernels.
        var nngp = NeuralTangents.Empirical.Tiled(net.Apply, x, null, p, new[] { KernelKind.Nngp }, diagonalAxes: new[] { 0 }, vmapAxes: 0);
        Assert.Single(nngp.Plan.Tiles);
        double nngpKernel = nngp.Shapes[0].Elements * 4;
        Assert.Equal(new Shape(4, 8, 8, 8, 8), nngp.Shapes[0]);
        Assert.InRange(nngp.EstimatedPeakBytes, 3 * nngpKernel, 4 * nngpKernel);
    }

    [Fact]
    public void AnInMemoryPlanSizesItsTilesToWhatTheKernelLeavesOfTheBudget()
    {
        var (net, p, x1, _) = Setup();
        var get = new[] { KernelKind.Ntk };
        var expected = NeuralTangents.Empirical.NtkFn(net.Apply, vmapAxes: 0, implementation: NtkImplementation.StructuredDerivatives)(x1, null, p);
        var whole = NeuralTangents.Empirical.TiledInMemory(net.Apply, x1, null, p, get, null, null, 0, NtkImplementation.StructuredDerivatives, null);
        Assert.Single(whole.Plan.Tiles);
        var options = new KernelOptions { MemoryBudget = (long)(whole.EstimatedInMemoryPeakBytes * 0.6) };
        // Planned for a file, the tiles take the whole budget: held in memory with the kernel, they would exceed it
        // (nt kernel --out K.npz refused every budget below the whole computation's).
        var forFile = NeuralTangents.Empirical.Tiled(net.Apply, x1, null, p, get, null, null, 0, NtkImplementation.StructuredDerivatives, options);
        Assert.Throws<KernelMemoryException>(forFile.CheckFitsInMemory);
        var inMemory = NeuralTangents.Empirical.TiledInMemory(net.Apply, x1, null, p, get, null, null, 0, NtkImplementation.StructuredDerivatives, options);
        Assert.True(inMemory.Plan.Tiles.Count > 1, inMemory.Plan.ToString());
        Assert.True(inMemory.EstimatedInMemoryPeakBytes <= options.MemoryBudget, $"{inMemory.EstimatedInMemoryPeakBytes} > {options.MemoryBudget}");
        AssertRel(expected, inMemory.Compute()[0], 1e-12);
    }

    [Fact]
    public void ImpossibleBudgetIsRefusedBeforeAnyWork()
    {
        var (net, p, x1, _) = Setup();
        var ex = Assert.Throws<KernelMemoryException>(() => NeuralTangents.Empirical.NtkFn(net.Apply, null, null, 0, NtkImplementation.JacobianContraction,
            new KernelOptions { MemoryBudget = 64 })(x1, null, p));
        Assert.Contains("memory budget is 64 B", ex.Message);
        Assert.Equal(64, ex.BudgetBytes);
        Assert.True(ex.EstimatedBytes > 64);
        Assert.IsAssignableFrom<OutOfMemoryException>(ex);
        // The kernel itself exceeds 64 B, and so does a one-example tile: writing tiles to a file is not advised
        // (new-user trial 4: the advice sent users to .npy tiles that were refused in turn).
        Assert.Contains("even one-example tiles", ex.Message);
        Assert.DoesNotContain(".npy", ex.Message);
        // Without vmapAxes examples may interact: no tiles are derived, the advice says how to allow them.
        var noVmap = Assert.Throws<KernelMemoryException>(() => NeuralTangents.Empirical.NtkFn(net.Apply, null, null, null, NtkImplementation.JacobianContraction,
            new KernelOptions { MemoryBudget = 2000 })(x1, null, p));
        Assert.Contains("vmapAxes", noVmap.Message);
        // Here JacobianContraction's whole estimate (3.7 KiB) is below NTK-VP's and SD's: no other implementation is
        // advised (the advice used to name structured derivatives whatever their estimate).
        Assert.DoesNotContain("or use", noVmap.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => NeuralTangents.Empirical.NtkFn(net.Apply, null, null, 0, NtkImplementation.JacobianContraction, new KernelOptions { BatchSize = 0 }));
    }

    [Fact]
    public void TraceOverTheBatchAxisCannotBeTiled()
    {
        var (net, p, x1, _) = Setup();
        var e = Assert.Throws<ArgumentException>(() => NeuralTangents.Empirical.NtkFn(net.Apply, new[] { 0 }, null, 0, NtkImplementation.JacobianContraction,
            new KernelOptions { BatchSize = 2 })(x1, null, p));
        Assert.Contains("trace axis", e.Message);
    }

    private sealed class Recorder(Action<KernelProgress>? also = null) : IProgress<KernelProgress>
    {
        public List<KernelProgress> Reports { get; } = new();
        public void Report(KernelProgress value) { Reports.Add(value); also?.Invoke(value); }
    }

    [Fact]
    public void WriteNpyEqualsInMemoryAndProgressIsMonotone()
    {
        var (net, p, x1, _) = Setup();
        var dir = Directory.CreateTempSubdirectory("nt-tiles-").FullName;
        var path = Path.Combine(dir, "k.npy");
        var rec = new Recorder();
        var tiled = NeuralTangents.Empirical.Tiled(net.Apply, x1, null, p, traceAxes: new int[0], vmapAxes: 0, implementation: NtkImplementation.StructuredDerivatives,
            options: new KernelOptions { BatchSize = 2, Progress = rec });
        tiled.WriteNpy(path);
        var expected = NeuralTangents.Empirical.NtkFn(net.Apply, new int[0], null, 0, NtkImplementation.StructuredDerivatives)(x1, null, p);
        AssertRel(expected, Npy.Read(path), 1e-12);
        Assert.False(File.Exists(path + ".partial"));
        Assert.False(File.Exists(path + ".tiles.json"));
        Assert.Equal(tiled.Plan.Tiles.Count, rec.Reports.Count);
        Assert.Equal(Enumerable.Range(1, rec.Reports.Count), rec.Reports.Select(r => r.TilesDone));
        Assert.All(rec.Reports, r => Assert.Equal(10, r.TilesTotal));
        Assert.True(rec.Reports.Zip(rec.Reports.Skip(1)).All(q => q.First.Elapsed <= q.Second.Elapsed));
        Assert.Equal(TimeSpan.Zero, rec.Reports[^1].Remaining);
    }

    [Fact]
    public void CancelThenResumeGivesTheByteIdenticalFileAndATamperedManifestIsRefused()
    {
        var (net, p, x1, x2) = Setup();
        var dir = Directory.CreateTempSubdirectory("nt-resume-").FullName;
        string full = Path.Combine(dir, "full.npy"), part = Path.Combine(dir, "part.npy");
        TiledKernel Plan(KernelOptions o, Params pp) => NeuralTangents.Empirical.Tiled(net.Apply, x1, x2, pp, traceAxes: new int[0], vmapAxes: 0,
            implementation: NtkImplementation.JacobianContraction, options: o);
        Plan(new KernelOptions { BatchSize = 2 }, p).WriteNpy(full, functionKey: "net");

        File.WriteAllText(part, "previous result");
        using var cts = new CancellationTokenSource();
        var stop = new Recorder(r => { if (r.TilesDone == 5) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Plan(new KernelOptions { BatchSize = 2, Progress = stop, CancellationToken = cts.Token }, p).WriteNpy(part, functionKey: "net"));
        Assert.Equal("previous result", File.ReadAllText(part));          // never clobbered by an unfinished run
        Assert.True(File.Exists(part + ".partial"));
        Assert.Contains("\"Done\":[0,1,2,3,4]", File.ReadAllText(part + ".tiles.json"));

        // A different kernel (other parameters, another network key, another tile size) is refused.
        var other = new Params(); foreach (var (k, v) in p) other.Add(k, k == p.Keys.First() ? NeuralTangents.Tensors.Ops.Elementwise.Scale(v, 2) : v);
        // The refusal names exactly what changed.
        Assert.EndsWith("was written for a different kernel: the parameters changed since; run without --resume to start over",
            Assert.Throws<InvalidDataException>(() => Plan(new KernelOptions { BatchSize = 2 }, other).WriteNpy(part, resume: true, functionKey: "net")).Message);
        Assert.Contains(": the network changed since;",
            Assert.Throws<InvalidDataException>(() => Plan(new KernelOptions { BatchSize = 2 }, p).WriteNpy(part, resume: true, functionKey: "other net")).Message);
        Assert.Contains(": the tile plan (memory budget / batch size) changed since;",
            Assert.Throws<InvalidDataException>(() => Plan(new KernelOptions { BatchSize = 3 }, p).WriteNpy(part, resume: true, functionKey: "net")).Message);
        Assert.Equal(5, Plan(new KernelOptions { BatchSize = 2 }, p).ResumableTiles(part, functionKey: "net"));
        Assert.Throws<InvalidDataException>(() => Plan(new KernelOptions { BatchSize = 2 }, other).ResumableTiles(part, functionKey: "net"));
        var rec = new Recorder();
        Plan(new KernelOptions { BatchSize = 2, Progress = rec }, p).WriteNpy(part, resume: true, functionKey: "net");
        Assert.Equal(Enumerable.Range(6, 7), rec.Reports.Select(r => r.TilesDone));   // 12 tiles, 5 already done
        Assert.Equal(File.ReadAllBytes(full), File.ReadAllBytes(part));
        Assert.False(File.Exists(part + ".tiles.json"));
        Assert.False(File.Exists(part + ".partial"));
        Assert.Throws<FileNotFoundException>(() => Plan(new KernelOptions { BatchSize = 2 }, p).WriteNpy(part, resume: true, functionKey: "net"));
    }

    [Theory]
    [InlineData("1024", 1024L)]
    [InlineData("64MiB", 64L << 20)]
    [InlineData("4GiB", 4L << 30)]
    [InlineData("1.5 GiB", 3L << 29)]
    [InlineData("2gb", 2_000_000_000L)]
    [InlineData("512k", 512L << 10)]
    public void MemoryBudgetParses(string text, long bytes) => Assert.Equal(bytes, MemoryBudget.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-5MiB")]
    [InlineData("0")]
    [InlineData("3 parsecs")]
    public void MemoryBudgetRejects(string text) => Assert.Throws<FormatException>(() => MemoryBudget.Parse(text));

    [Theory]
    [InlineData("64XB", "expected a unit B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB) such as 64MiB, got 'XB' in '64XB'")]
    [InlineData("99999999TiB", "expected a size of at most 4194304.0 TiB")]
    [InlineData("0.5", "expected a size of at least 1 byte")]
    public void MemoryBudgetSaysWhatIsWrong(string text, string message) =>
        Assert.StartsWith(message, Assert.Throws<FormatException>(() => MemoryBudget.Parse(text)).Message);

    [Fact]
    public void DefaultBudgetIsAtMostFourGiB() => Assert.InRange(MemoryBudget.DefaultBytes, 1, 4L << 30);


    [Fact]
    public void CliTilesToDiskRefusesImpossibleBudgetsAndResumes()
    {
        var (_, _, x1, _) = Setup();
        var dir = Directory.CreateTempSubdirectory("nt-cli-tiles-").FullName;
        string P(string f) => Path.Combine(dir, f);
        Npy.Write(P("x.npy"), x1);
        const string net = "Dense(6),Relu,Dense(3)";
        var common = new[] { "kernel", "--net", net, "--seed", "1", "--x1", P("x.npy"), "--vmap-axes", "0", "--trace-axes", "" };
        var mem = CliRunner.Run(common.Concat(new[] { "--out", P("mem.npz") }).ToArray());
        Assert.Equal(0, mem.Code);
        var tiled = CliRunner.Run(common.Concat(new[] { "--out", P("k.npy"), "--memory-budget", "64MiB", "--batch-size", "3" }).ToArray());
        Assert.Equal(0, tiled.Code);
        Assert.Contains("6 tiles of 3 examples", tiled.Err);
        Assert.Contains("tiles 6/6", tiled.Err);
        // --explain shows the plan of the run that follows (tiles written to the .npy), not an in-memory kernel's.
        var explained = CliRunner.Run(common.Concat(new[] { "--out", P("k4.npy"), "--memory-budget", "64MiB", "--batch-size", "3", "--explain" }).ToArray());
        Assert.Equal(0, explained.Code);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(explained.Out, @"GFLOP .* MiB  \(tiles of 3\)"));
        AssertRel(Npz.Read(P("mem.npz"))["ntk"], Npy.Read(P("k.npy")), 1e-12);

        File.WriteAllText(P("keep.npy"), "sentinel");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var refused = CliRunner.Run(common.Concat(new[] { "--out", P("keep.npy"), "--memory-budget", "64" }).ToArray());
        Assert.Equal(2, refused.Code);
        Assert.True(sw.Elapsed.TotalSeconds < 5);
        Assert.StartsWith("nt: error: the NTK", refused.Err.Split('\n')[^2]);
        Assert.Contains("memory budget is 64 B", refused.Err);
        Assert.Equal("sentinel", File.ReadAllText(P("keep.npy")));
        Assert.False(File.Exists(P("keep.npy.partial")));

        var bad = CliRunner.Run(common.Concat(new[] { "--out", P("k2.npy"), "--memory-budget", "lots" }).ToArray());
        Assert.Equal(2, bad.Code);
        Assert.Contains("--memory-budget: expected a size", bad.Err);
        var noResume = CliRunner.Run(common.Concat(new[] { "--out", P("k3.npy"), "--resume" }).ToArray());
        Assert.Equal(2, noResume.Code);
        Assert.Contains("nothing to resume", noResume.Err);
    }
}
