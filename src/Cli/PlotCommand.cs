using System.CommandLine;
using NeuralTangents.Interop;
using NeuralTangents.Linalg;
using NeuralTangents.Plotting;

namespace NeuralTangents.Cli;

/// <summary><c>nt plot kernel|spectrum</c>: pictures of a kernel saved by <c>nt kernel</c> (ScottPlot, PNG).</summary>
internal static class PlotCommand
{
    public static Command Create(TextWriter stdout)
    {
        var cmd = new Command("plot", "Draw a kernel (.npy, or an .npz entry) as a PNG: a heat map or its eigenvalue spectrum.");
        cmd.Subcommands.Add(Kernel(stdout));
        cmd.Subcommands.Add(Spectrum(stdout));
        return cmd;
    }

    private static (Argument<string> File, Option<string?> Entry, Option<string> Out, Option<int> Width, Option<int> Height) Common()
    {
        var file = new Argument<string>("kernel") { Description = "A 2-D kernel: .npy, or .npz with --entry." };
        var entry = new Option<string?>("--entry") { Description = "The .npz entry to draw (default: its only entry, else 'ntk')." };
        var output = new Option<string>("--out") { Description = "Output .png.", Required = true };
        var width = new Option<int>("--width") { Description = "Picture width in pixels.", DefaultValueFactory = _ => PlotFile.DefaultWidth };
        var height = new Option<int>("--height") { Description = "Picture height in pixels.", DefaultValueFactory = _ => PlotFile.DefaultHeight };
        return (file, entry, output, width, height);
    }

    private static Command Kernel(TextWriter stdout)
    {
        var (file, entry, output, width, height) = Common();
        var labels = new Option<string?>("--labels") { Description = ".npy of N integer labels: sort rows and columns by label (square kernels)." };
        var cmd = new Command("kernel", "Heat map of a kernel with a colour bar (examples sorted by label with --labels).")
        {
            file, entry, output, width, height, labels,
        };
        cmd.SetAction(r =>
        {
            var outPath = CheckPng(r.GetValue(output)!);
            PlotFile.CheckSize(r.GetValue(width), r.GetValue(height));
            var (k, name) = Load(r.GetValue(file)!, r.GetValue(entry));
            var l = r.GetValue(labels) is { } lp ? Labels(lp, k.Shape[0]) : null;
            var plot = KernelPlots.KernelHeatmap(k.ToDoubleArray(), k.Shape[0], k.Shape[1], l, $"{name} {k.Shape}");
            PlotFile.SavePng(plot, outPath, r.GetValue(width), r.GetValue(height));
            stdout.WriteLine($"heat map of {name} {k.Shape}{(l is null ? "" : ", sorted by label")} -> {outPath}");
            return CliApp.Ok;
        });
        return cmd;
    }

    private static Command Spectrum(TextWriter stdout)
    {
        var (file, entry, output, width, height) = Common();
        var cmd = new Command("spectrum", "Eigenvalues of a symmetric kernel on a log scale, condition number in the title.")
        {
            file, entry, output, width, height,
        };
        cmd.SetAction(r =>
        {
            var outPath = CheckPng(r.GetValue(output)!);
            PlotFile.CheckSize(r.GetValue(width), r.GetValue(height));
            var (k, name) = Load(r.GetValue(file)!, r.GetValue(entry));
            if (k.Shape[0] != k.Shape[1]) throw new ArgumentException($"kernel: a spectrum needs a square kernel, got {name} {k.Shape}");
            var eig = SymmetricEigen.Eigenvalues(k);
            PlotFile.SavePng(KernelPlots.Spectrum(eig, $"{name} {k.Shape}"), outPath, r.GetValue(width), r.GetValue(height));
            stdout.WriteLine($"spectrum of {name} {k.Shape}: λmax = {eig[^1]:G4}, λmin = {eig[0]:G4} -> {outPath}");
            return CliApp.Ok;
        });
        return cmd;
    }

    /// <summary>Checks --out before any work: a .png in an existing folder.</summary>
    internal static string CheckPng(string path, string option = "--out")
    {
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{option}: expected a .png file, got '{path}'");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"{option}: folder '{dir}' does not exist");
        return path;
    }

    private static (Tensor K, string Name) Load(string path, string? entry)
    {
        CliInputs.CheckReadable(path, "kernel", path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) ? ".npz" : ".npy");
        Tensor k;
        string name;
        if (path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
        {
            var file = Npz.Read(path);
            name = entry ?? (file.Count == 1 ? file.Keys.First() : file.ContainsKey("ntk") ? "ntk"
                : throw new ArgumentException($"--entry: {path} has entries [{string.Join(", ", file.Keys)}]; name one"));
            if (!file.TryGetValue(name, out var t))
                throw new ArgumentException($"--entry: {path} has no entry '{name}'; it has [{string.Join(", ", file.Keys)}]");
            k = t;
        }
        else
        {
            if (entry is not null) throw new ArgumentException($"--entry: only for .npz files, got '{path}'");
            k = Npy.Read(path);
            name = Path.GetFileNameWithoutExtension(path);
        }
        if (k.Shape.Rank != 2)
            throw new ArgumentException($"kernel: expected a 2-D (N, M) kernel (compute it with the default --trace-axes -1), got shape {k.Shape}");
        // A NaN/Inf cell would be drawn blank and spoil the colour scale: refuse, as the spectrum's solver does.
        if (FiniteChecks.FindNonFinite(k) is { } bad)
            throw new ArgumentException($"kernel: {name} {k.Shape} has {NonFiniteException.Spell(bad.Value)} at index " +
                $"{NonFiniteException.FormatIndex(bad.Index)} ({bad.Count} non-finite values in all); nothing sensible to draw");
        return (k, name);
    }

    private static int[] Labels(string path, int n)
    {
        CliInputs.CheckReadable(path, "--labels", ".npy");
        var t = Npy.Read(path);
        if (t.Shape.Rank != 1 || t.Shape[0] != n)
            throw new ArgumentException($"--labels: expected a 1-D array of {n} labels (one per kernel row), got shape {t.Shape}");
        return t.ToDoubleArray().Select((v, i) => v == Math.Floor(v) && Math.Abs(v) < 1e9 ? (int)v
            : throw new ArgumentException($"--labels: label {i} is {v}, expected an integer")).ToArray();
    }
}
