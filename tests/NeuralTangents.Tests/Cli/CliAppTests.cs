using static NeuralTangents.Tests.Cli.CliRunner;
using NeuralTangents.Cli;
using NeuralTangents.Interop;
using NtEmpirical = NeuralTangents.Empirical;

namespace NeuralTangents.Tests.Cli;

public sealed class CliAppTests : IDisposable
{
    private const string Net = "Dense(4,b_std=0.5),Relu,Dense(3)";
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-cli-").FullName;
    private readonly Tensor _x1 = Tensor.RandomNormal(new Random(11), new Shape(3, 5));
    private readonly Tensor _x2 = Tensor.RandomNormal(new Random(12), new Shape(2, 5));

    public CliAppTests()
    {
        Npy.Write(P("x1.npy"), _x1);
        Npy.Write(P("x2.npy"), _x2);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);


    /// <summary>--resume says how many tiles it reuses (one stderr line) and finishes the same file as one run.</summary>
    [Fact]
    public void Resume_says_how_many_tiles_it_reuses()
    {
        // An interrupted run of exactly what 'nt kernel' computes: the parsed net, its parameters drawn with the seed,
        // x1 as read, 3 examples in tiles of 1 (6 tiles of the upper triangle), stopped after 4 tiles.
        var net = NetSpec.Parse(Net);
        var p = net.Init(1, _x1.Shape, _x1.DType).Params;
        using var cts = new CancellationTokenSource();
        var options = new KernelOptions { BatchSize = 1, CancellationToken = cts.Token, Progress = new Stop(r => { if (r.TilesDone == 4) cts.Cancel(); }) };
        var tiled = NtEmpirical.Tiled(net.Apply, Npy.Read(P("x1.npy")), null, p, null, [-1], [], 0, NtkImplementation.JacobianContraction, options);
        Assert.ThrowsAny<OperationCanceledException>(() => tiled.WriteNpy(P("k.npy"), functionKey: Net));
        var partial = File.ReadAllBytes(P("k.npy.partial"));
        // Without --resume the interrupted run of this same kernel is not discarded: refused in one line, before any work.
        var again = Run("kernel", "--net", Net, "--seed", "1", "--x1", P("x1.npy"), "--implementation", "jacobian-contraction",
            "--batch-size", "1", "--out", P("k.npy"));
        Assert.Equal(2, again.Code);
        Assert.Equal($"nt: error: --out: {P("k.npy")}.partial holds 4 of 6 tiles of this kernel from an interrupted run; " +
            $"add --resume to continue it, or delete {P("k.npy")}.partial to start over", again.Err.Trim());
        Assert.Equal(partial, File.ReadAllBytes(P("k.npy.partial")));
        var r = Run("kernel", "--net", Net, "--seed", "1", "--x1", P("x1.npy"), "--implementation", "jacobian-contraction",
            "--batch-size", "1", "--resume", "--out", P("k.npy"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains($"resuming {P("k.npy")}.partial: 4 of 6 tiles already written and reused, 2 to compute", r.Err);
        Assert.Equal(0, Run("kernel", "--net", Net, "--seed", "1", "--x1", P("x1.npy"), "--implementation", "jacobian-contraction",
            "--batch-size", "1", "--out", P("whole.npy")).Code);
        Assert.Equal(File.ReadAllBytes(P("whole.npy")), File.ReadAllBytes(P("k.npy")));
        // --resume on the complete file: one error line, nothing planned or printed before it.
        var done = Run("kernel", "--net", Net, "--seed", "1", "--x1", P("x1.npy"), "--implementation", "jacobian-contraction",
            "--batch-size", "1", "--resume", "--out", P("k.npy"));
        Assert.Equal(2, done.Code);
        Assert.Equal($"nt: error: --resume: nothing to resume: {P("k.npy")} is already complete (no k.npy.tiles.json beside it)", done.Err.Trim());
        Assert.Equal("", done.Out);
    }

    private sealed class Stop(Action<KernelProgress> onReport) : IProgress<KernelProgress>
    {
        public void Report(KernelProgress value) => onReport(value);
    }

    /// <summary>Trace and diagonal axes are sets: a repeated axis is refused in one line naming the option.</summary>
    [Theory]
    [InlineData("--trace-axes", "-1,-1", "--trace-axes: expected distinct axes, got '-1,-1' (axis -1 is given 2 times)")]
    [InlineData("--diagonal-axes", "0,0", "--diagonal-axes: expected distinct axes, got '0,0' (axis 0 is given 2 times)")]
    public void Repeated_axes_are_refused(string option, string value, string message)
    {
        var r = Run("kernel", "--net", Net, "--seed", "1", "--x1", P("x1.npy"), option, value, "--out", P("k.npy"));
        Assert.Equal(2, r.Code);
        Assert.Equal($"nt: error: {message}", r.Err.Trim());
        Assert.False(File.Exists(P("k.npy")));
    }

    private static void AssertBitwise(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.DType, actual.DType);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.ToDoubleArray(), actual.ToDoubleArray());
    }

    [Fact]
    public void Init_then_kernel_matches_the_library_exactly()
    {
        var r = Run("init", "--net", Net, "--input-shape", "3,5", "--seed", "7", "--out", P("p.npz"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("0.W (5, 4)", r.Out);
        Assert.Contains("0.b (1, 4)", r.Out);
        Assert.Contains("2.W (4, 3)", r.Out);
        var net = NetSpec.Parse(Net);
        var p = net.Init(7, new Shape(3, 5)).Params;
        var saved = Npz.Read(P("p.npz"));
        Assert.Equal(p.Keys, saved.Keys);
        foreach (var (k, t) in p) AssertBitwise(t, saved[k]);

        r = Run("kernel", "--net", Net, "--params", P("p.npz"), "--x1", P("x1.npy"), "--x2", P("x2.npy"), "--out", P("k.npy"));
        Assert.True(r.Code == 0, r.Err);
        // The CLI's defaults (vmap_axes 0, AUTO) give the same kernel as the library's up to rounding; bitwise with them.
        var expected = NtEmpirical.NtkFn(net.Apply, vmapAxes: 0, implementation: NtkImplementation.Auto)(_x1, _x2, p);
        Assert.Equal(new Shape(3, 2), expected.Shape);
        AssertBitwise(expected, Npy.Read(P("k.npy")));
        Assert.Contains("ntk: shape (3, 2) float64", r.Out);
    }

    [Fact]
    public void Both_kernels_go_to_npz_in_get_order_and_seed_initialises_from_x1()
    {
        var r = Run("kernel", "--net", Net, "--seed", "3", "--x1", P("x1.npy"), "--get", "nngp,ntk", "--out", P("k.npz"));
        Assert.True(r.Code == 0, r.Err);
        var net = NetSpec.Parse(Net);
        var p = net.Init(3, _x1.Shape).Params;
        var saved = Npz.Read(P("k.npz"));
        Assert.Equal(new[] { "nngp", "ntk" }, saved.Keys);
        AssertBitwise(NtEmpirical.NngpFn(net.Apply)(_x1, null, p), saved["nngp"]);
        AssertBitwise(NtEmpirical.NtkFn(net.Apply, vmapAxes: 0, implementation: NtkImplementation.Auto)(_x1, null, p), saved["ntk"]);
    }

    [Fact]
    public void Library_defaults_are_one_option_away_and_agree_with_the_cli_defaults()
    {
        // --vmap-axes none --implementation jacobian-contraction = Neural Tangents' (and the library's) defaults, bitwise.
        var r = Run("kernel", "--net", Net, "--seed", "3", "--x1", P("x1.npy"), "--x2", P("x2.npy"), "--vmap-axes", "none",
            "--implementation", "jacobian-contraction", "--out", P("lib.npy"));
        Assert.True(r.Code == 0, r.Err);
        var net = NetSpec.Parse(Net);
        var p = net.Init(3, _x1.Shape).Params;
        var library = NtEmpirical.NtkFn(net.Apply)(_x1, _x2, p);
        AssertBitwise(library, Npy.Read(P("lib.npy")));
        Assert.Contains("NTK implementation: jacobian-contraction", r.Out);

        // The CLI defaults compute the same kernel (float64: agreement to rounding).
        r = Run("kernel", "--net", Net, "--seed", "3", "--x1", P("x1.npy"), "--x2", P("x2.npy"), "--out", P("cli.npy"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("NTK implementation: auto → ", r.Out);
        var cli = Npy.Read(P("cli.npy")).ToDoubleArray();
        var lib = library.ToDoubleArray();
        double scale = lib.Max(Math.Abs);
        for (int i = 0; i < lib.Length; i++) Assert.True(Math.Abs(cli[i] - lib[i]) <= 1e-12 * scale, $"entry {i}: {cli[i]} vs {lib[i]}");
    }

    [Fact]
    public void Axes_vmap_and_dtype_options_reach_the_library()
    {
        var r = Run("kernel", "--net", Net, "--seed", "1", "--x1", P("x1.npy"), "--x2", P("x2.npy"), "--trace-axes", "",
            "--vmap-axes", "0", "--dtype", "float32", "--out", P("k.npy"));
        Assert.True(r.Code == 0, r.Err);
        var net = NetSpec.Parse(Net);
        var p = net.Init(1, _x1.Shape, DType.Float32).Params;
        var expected = NtEmpirical.NtkFn(net.Apply, traceAxes: [], vmapAxes: 0, implementation: NtkImplementation.Auto)(_x1.AsType(DType.Float32), _x2.AsType(DType.Float32), p);
        Assert.Equal(new Shape(3, 2, 3, 3), expected.Shape);
        AssertBitwise(expected, Npy.Read(P("k.npy")));

        r = Run("kernel", "--net", Net, "--seed", "1", "--x1", P("x1.npy"), "--trace-axes", "none", "--diagonal-axes", "-1", "--out", P("d.npy"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(new Shape(3, 3, 3), Npy.Read(P("d.npy")).Shape);
    }

    [Fact]
    public void Implementation_option_selects_the_library_implementation()
    {
        var r = Run("kernel", "--net", Net, "--seed", "2", "--x1", P("x1.npy"), "--x2", P("x2.npy"),
            "--implementation", "ntk-vector-products", "--out", P("k.npy"));
        Assert.True(r.Code == 0, r.Err);
        var net = NetSpec.Parse(Net);
        var p = net.Init(2, _x1.Shape).Params;
        AssertBitwise(NtEmpirical.NtkFn(net.Apply, vmapAxes: 0, implementation: NtkImplementation.NtkVectorProducts)(_x1, _x2, p), Npy.Read(P("k.npy")));
    }

    [Fact]
    public void Params_file_is_checked_against_the_net()
    {
        Assert.Equal(0, Run("init", "--net", "Dense(4,b_std=0.5),Relu,Dense(2)", "--input-shape", "3,5", "--out", P("p.npz")).Code);
        var r = Run("kernel", "--net", Net, "--params", P("p.npz"), "--x1", P("x1.npy"), "--out", P("k.npy"));
        Assert.Equal(2, r.Code);
        Assert.Contains("'2.W' has shape (4, 2) but the net expects (4, 3)", r.Err);
        Assert.False(File.Exists(P("k.npy")));
    }

    public static TheoryData<string[], string> UserErrors => new()
    {
        { ["kernel", "--net", "Dense(4),Rleu", "--seed", "1", "--x1", "X1", "--out", "K"], "net spec, column 10: unknown layer 'Rleu'" },
        { ["kernel", "--net", "Dense(4)", "--seed", "1", "--x1", "X1"], "--out" },
        { ["kernel", "--net", "Dense(4)", "--x1", "X1", "--out", "K"], "exactly one of --params FILE or --seed N" },
        { ["kernel", "--net", "Dense(4)", "--seed", "1", "--x1", "MISSING", "--out", "K"], "missing.npy" },
        { ["kernel", "--net", "Dense(4)", "--seed", "1", "--x1", "X1", "--get", "ntk,nngp", "--out", "K"], "need an .npz file" },
        { ["kernel", "--net", "Dense(4)", "--seed", "1", "--x1", "X1", "--trace-axes", "a", "--out", "K"], "--trace-axes: 'a' is not an integer" },
        { ["kernel", "--net", "Dense(4)", "--seed", "1", "--x1", "X1", "--get", "ntk,foo", "--out", "K"], "unknown kernel 'foo'" },
        { ["kernel", "--net", "Dense(4)", "--seed", "1", "--x1", "X1", "--implementation", "fast", "--out", "K"], "fast" },
        { ["kernel", "--net", "Dense(4)", "--seed", "1", "--x1", "X1", "--x2", "X2BAD", "--out", "K"], "(2, 6)" },
        { ["kernel", "--net", "Dense(4)", "--seed", "1", "--x1", "X1", "--out", "k.txt"], "expected a .npy or .npz file, got 'k.txt'" },
        { ["init", "--net", "Dense(4)", "--input-shape", "3,x", "--out", "K"], "--input-shape" },
        { ["demo", "--n-train", "0"], "--n-train must be positive" },
        { ["demo", "--n-train", "10", "--n-test", "5", "--net", "Dense(5)"], "output shape (10, 8, 8, 5)" },
        { ["frobnicate"], "frobnicate" },
    };

    [Theory]
    [MemberData(nameof(UserErrors))]
    public void User_errors_exit_2_with_one_line_and_no_stack_trace(string[] args, string expected)
    {
        Npy.Write(P("x2bad.npy"), Tensor.Zeros(new Shape(2, 6)));
        var resolved = args.Select(a => a switch
        {
            "X1" => P("x1.npy"),
            "X2BAD" => P("x2bad.npy"),
            "MISSING" => P("missing.npy"),
            "K" => P("k.npy"),
            _ => a,
        }).ToArray();
        var r = Run(resolved);
        Assert.Equal(2, r.Code);
        Assert.Contains(expected, r.Err);
        // At most a progress line before the single error line, which is last.
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, l => l.StartsWith("nt: error: "));
        Assert.StartsWith("nt: error: ", lines[^1]);
        Assert.True(lines.Length <= 2, r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.False(File.Exists(P("k.npy")));
    }

    [Fact]
    public void Help_lists_the_commands()
    {
        var r = Run("--help");
        Assert.Equal(0, r.Code);
        foreach (var c in new[] { "kernel", "init", "demo" }) Assert.Contains(c, r.Out);
    }

    [Fact]
    public void Demo_smoke_with_tiny_sizes()
    {
        var r = Run("demo", "--n-train", "40", "--n-test", "20", "--seed", "1");
        Assert.True(r.Code == 0, r.Err);
        foreach (var line in new[] { "N_train = 40, N_test = 20", "params P = ", "NTK train-train", "NTK test-train", "solve",
                     "test accuracy", "max|K - Kᵀ| / max|K|", "λ_min(K_train,train)" })
            Assert.Contains(line, r.Out);
        Assert.Contains("computing NTK train-train (40×40)", r.Err);
        Assert.Contains("done: NTK train-train in", r.Err);
        var acc = r.Out.Split('\n').Single(l => l.Contains("test accuracy")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
        Assert.InRange(double.Parse(acc, System.Globalization.CultureInfo.InvariantCulture), 0.5, 1.0);
        Assert.Contains("(AUTO's choice; --implementation to override)", r.Out);
        // Every implementation computes the same kernels, so the predictions (and the accuracy line) are the same.
        var jc = Run("demo", "--n-train", "40", "--n-test", "20", "--seed", "1", "--implementation", "jacobian-contraction");
        Assert.True(jc.Code == 0, jc.Err);
        Assert.Contains("NTK          jacobian-contraction", jc.Out);
        Assert.Equal(r.Out.Split('\n').Single(l => l.Contains("test accuracy")), jc.Out.Split('\n').Single(l => l.Contains("test accuracy")));
    }
}
