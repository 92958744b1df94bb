using static NeuralTangents.Tests.Cli.CliRunner;
using NeuralTangents.Cli;
using NeuralTangents.Interop;
using SkiaSharp;

namespace NeuralTangents.Tests.Cli;

/// <summary>The PNGs of nt plot, nt demo --plots and nt taylor --plot: they exist, decode, have the asked size and show something.</summary>
public sealed class PlotTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-plot-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);
    private string P(string name) => Path.Combine(_dir, name);


    /// <summary>Decodes the PNG and checks its size; returns the number of distinct colours (a blank picture has 1).</summary>
    private static int AssertPng(string path, int width, int height)
    {
        Assert.True(File.Exists(path), path);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.Equal(width, bitmap.Width);
        Assert.Equal(height, bitmap.Height);
        var colours = new HashSet<uint>();
        for (int y = 0; y < height; y += 3) for (int x = 0; x < width; x += 3) colours.Add((uint)bitmap.GetPixel(x, y));
        return colours.Count;
    }

    private (Tensor K, double[] Labels) WriteKernel()
    {
        // A block-structured PSD kernel: K = A·Aᵀ with rows of A grouped by label.
        int n = 24;
        var rng = new Random(5);
        var labels = Enumerable.Range(0, n).Select(i => (double)((i * 7) % 3)).ToArray();
        var a = new double[n * 4];
        for (int i = 0; i < n; i++) for (int j = 0; j < 4; j++) a[i * 4 + j] = rng.NextDouble() + (j == (int)labels[i] ? 2 : 0);
        var k = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) for (int l = 0; l < 4; l++) k[i * n + j] += a[i * 4 + l] * a[j * 4 + l];
        var kt = Tensor.FromArray(k, new Shape(n, n));
        Npy.Write(P("k.npy"), kt);
        Npy.Write(P("labels.npy"), Tensor.FromArray(labels, new Shape(n)));
        Npz.Write(P("k.npz"), [new("nngp", kt), new("ntk", kt)]);
        return (kt, labels);
    }

    [Fact]
    public void Plot_kernel_and_spectrum_write_decodable_pngs_of_the_asked_size()
    {
        WriteKernel();
        var r = Run("plot", "kernel", P("k.npy"), "--labels", P("labels.npy"), "--out", P("k.png"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("sorted by label", r.Out);
        Assert.True(AssertPng(P("k.png"), 800, 600) > 20, "the heat map should have many colours");

        r = Run("plot", "spectrum", P("k.npz"), "--entry", "nngp", "--out", P("s.png"), "--width", "640", "--height", "480");
        Assert.True(r.Code == 0, r.Err);
        Assert.True(AssertPng(P("s.png"), 640, 480) > 5);

        r = Run("plot", "kernel", P("k.npz"), "--out", P("k2.png"));   // two entries: 'ntk' is the default
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("heat map of ntk (24, 24)", r.Out);
    }

    [Theory]
    [InlineData("--out|K.jpg", "--out: expected a .png file")]
    [InlineData("--labels|BAD", "--labels: expected a 1-D array of 24 labels")]
    [InlineData("--entry|nngp", "--entry: only for .npz files")]
    public void Plot_errors_are_one_line_and_leave_an_existing_picture_alone(string extra, string expected)
    {
        WriteKernel();
        Npy.Write(P("bad.npy"), Tensor.Zeros(new Shape(5)));
        File.WriteAllText(P("k.png"), "keep me");
        var args = new List<string> { "plot", "kernel", P("k.npy"), "--out", P("k.png") };
        var parts = extra.Split('|');
        var value = parts[1] switch { "K.jpg" => P("k.jpg"), "BAD" => P("bad.npy"), var v => v };
        if (parts[0] == "--out") args[^1] = value; else { args.Add(parts[0]); args.Add(value); }
        var r = Run(args.ToArray());
        Assert.Equal(2, r.Code);
        Assert.StartsWith("nt: error: " + expected, r.Err);
        Assert.Equal("keep me", File.ReadAllText(P("k.png")));
        Assert.False(File.Exists(P("k.jpg")));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Theory]
    [InlineData("nan", "nt: error: kernel: nan (2, 2) has nan at index [0, 1] (2 non-finite values in all)")]
    [InlineData("empty", "nt: error: kernel: the kernel of shape (0, 0) is empty")]
    [InlineData("missing", "nt: error: kernel: file '")]
    [InlineData("nolabels", "nt: error: --labels: file '")]
    public void Plot_kernel_refuses_nonfinite_empty_and_missing_kernels(string kind, string expected)
    {
        WriteKernel();
        Npy.Write(P("nan.npy"), Tensor.FromArray(new[] { 1.0, double.NaN, double.NaN, 1.0 }, new Shape(2, 2)));
        Npy.Write(P("empty.npy"), Tensor.Zeros(new Shape(0, 0)));
        File.WriteAllText(P("k.png"), "keep me");
        string[] args = kind == "nolabels"
            ? ["plot", "kernel", P("k.npy"), "--labels", P("none.npy"), "--out", P("k.png")]
            : ["plot", "kernel", P(kind + ".npy"), "--out", P("k.png")];
        var r = Run(args);
        Assert.Equal(2, r.Code);
        Assert.StartsWith(expected, r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.Equal("keep me", File.ReadAllText(P("k.png")));
    }

    [Fact]
    public void A_parse_error_in_a_subcommand_points_to_its_own_help()
    {
        var r = Run("plot", "kernel");
        Assert.Equal(2, r.Code);
        Assert.EndsWith("(see 'nt plot kernel --help')", r.Err.TrimEnd());
        Assert.DoesNotContain(".;", r.Err);
    }

    [Fact]
    public void Demo_plots_writes_the_four_pictures()
    {
        var r = Run("demo", "--n-train", "40", "--n-test", "20", "--seed", "1", "--plots", P("out"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(DemoPlots.FileNames.Order(), Directory.GetFiles(P("out")).Select(Path.GetFileName).Order());
        Assert.True(AssertPng(P("out/kernel.png"), 760, 640) > 20);
        foreach (var f in DemoPlots.FileNames.Skip(1)) Assert.True(AssertPng(Path.Combine(P("out"), f), 800, 600) > 5, f);
        // Gradient descent fits the training set: train accuracy ends at 1 and the train loss falls.
        var acc = r.Out.Split('\n').Single(l => l.Contains("dynamics-accuracy.png"));
        Assert.Contains("train", acc);
        Assert.Matches(@"train 0\.\d+ → 1\.0000", acc);
    }

    [Fact]
    public void Taylor_plot_writes_the_log_log_picture()
    {
        var r = Run("taylor", "--widths", "16,32", "--n-train", "8", "--n-eval", "8", "--steps", "2", "--plot", P("t.png"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("plot -> ", r.Out);
        Assert.True(AssertPng(P("t.png"), 800, 600) > 5);

        r = Run("taylor", "--widths", "16", "--plot", P("t.svg"));
        Assert.Equal(2, r.Code);
        Assert.StartsWith("nt: error: --plot: expected a .png file", r.Err);
    }
}
