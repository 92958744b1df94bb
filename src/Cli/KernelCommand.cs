using System.CommandLine;
using System.Diagnostics;
using NeuralTangents.Interop;
using NeuralTangents.Stax;

namespace NeuralTangents.Cli;

/// <summary><c>nt kernel</c>: empirical NTK/NNGP of a spec'd network on inputs from .npy files.</summary>
internal static class KernelCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var net = new Option<string>("--net") { Description = "Network spec, e.g. \"Dense(512,W_std=1.5,b_std=0.05),Relu,Dense(10)\".", Required = true };
        var common = new ComputeOptions();
        var x1 = new Option<string>("--x1") { Description = "First inputs, .npy with the batch axis first.", Required = true };
        var x2 = new Option<string?>("--x2") { Description = "Second inputs, .npy (default: x1)." };
        var get = new Option<string>("--get") { Description = "Kernels to compute: ntk, nngp, or both in order (ntk,nngp).", DefaultValueFactory = _ => "ntk" };
        var trace = new Option<string>("--trace-axes") { Description = "Output axes to trace (mean over), comma-separated; \"\" for none.", DefaultValueFactory = _ => "-1" };
        var diag = new Option<string>("--diagonal-axes") { Description = "Output axes kept diagonal, comma-separated; \"\" for none.", DefaultValueFactory = _ => "" };
        var output = new Option<string>("--out") { Description = "Output .npy (one kernel) or .npz (entries named ntk/nngp).", Required = true };
        var explain = new Option<bool>("--explain") { Description = "Print the AUTO cost model's estimates (GFLOP, peak memory) per NTK implementation first." };

        var cmd = new Command("kernel", "Compute empirical NTK and/or NNGP kernels and write them to .npy/.npz.")
        {
            net, x1, x2, get, trace, diag, output, explain,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => Run(r.GetValue(net)!, common.Read(r), r.GetValue(x1)!, r.GetValue(x2),
            r.GetValue(get)!, r.GetValue(trace)!, r.GetValue(diag)!, r.GetValue(output)!, r.GetValue(explain), stdout, stderr));
        return cmd;
    }

    private static int Run(string spec, ComputeOptions.Values common, string x1Path, string? x2Path, string getText,
        string traceText, string diagText, string outPath, bool explain, TextWriter stdout, TextWriter stderr)
    {
        // Validate every option before reading data or computing.
        var net = NetSpec.Parse(spec);
        var get = Empirical.ParseGet(getText);
        if (get.Length == 0) throw new ArgumentException("--get: expected ntk, nngp or ntk,nngp");
        if (get.Distinct().Count() != get.Length) throw new ArgumentException($"--get: a kernel is repeated in '{getText}'");
        var traceAxes = CliParsing.IntList(traceText, "--trace-axes");
        var diagonalAxes = CliParsing.IntList(diagText, "--diagonal-axes");
        var vmapAxes = common.VmapAxes;
        var implementation = common.Implementation;
        bool npz = outPath.EndsWith(".npz", StringComparison.OrdinalIgnoreCase);
        if (!npz && !outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--out: expected a .npy or .npz file, got '{outPath}'");
        if (get.Length > 1 && !npz)
            throw new ArgumentException($"--out: several kernels ({getText}) need an .npz file, got '{outPath}'");
        var outDir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (outDir is not null && !Directory.Exists(outDir))
            throw new DirectoryNotFoundException($"--out: folder '{outDir}' does not exist");
        var backend = common.Backend();

        var x1 = Npy.Read(x1Path);
        var x2 = x2Path is null ? null : Npy.Read(x2Path);
        var dtype = common.DType ?? x1.DType;
        x1 = x1.AsType(dtype);
        x2 = x2?.AsType(dtype);
        var parameters = common.LoadParams(net, x1.Shape, dtype);

        if (explain)
        {
            var ex = Empirical.ExplainNtk(net.Apply, x1, x2, parameters, traceAxes, diagonalAxes, vmapAxes);
            stdout.WriteLine($"NTK cost estimates (AUTO picks {ex.Chosen}, memory budget {ex.MemoryBudgetBytes / (1 << 30):0.#} GiB):");
            stdout.WriteLine(ex.ToString());
        }
        var kernelFn = Empirical.KernelFn(net.Apply, traceAxes, diagonalAxes, vmapAxes, implementation);
        if (get.Contains(KernelKind.Ntk))
        {
            var runs = implementation == NtkImplementation.Auto
                ? $"auto → {CliParsing.ImplementationName(Empirical.ExplainNtk(net.Apply, x1, x2, parameters, traceAxes, diagonalAxes, vmapAxes).Chosen)}"
                : common.ImplementationText + (explain ? " (--implementation auto follows the estimates)" : "");
            stdout.WriteLine($"NTK implementation: {runs}");
        }
        stderr.WriteLine($"computing {string.Join(", ", get.Select(k => k.ToString().ToUpperInvariant()))} for x1 {x1.Shape}{(x2 is null ? "" : $", x2 {x2.Shape}")} ({parameters.ParameterCount} params, {CliParsing.Name(dtype)}, {backend.Name})…");
        var sw = Stopwatch.StartNew();
        EmpiricalKernel result;
        using (ComputeBackend.Use(backend)) result = kernelFn(x1, x2, get, parameters);
        stderr.WriteLine($"done in {CliParsing.Seconds(sw.Elapsed)}");

        var items = result.Items.Select(kv => new KeyValuePair<string, Tensor>(kv.Kind.ToString().ToLowerInvariant(), kv.Value)).ToList();
        if (npz) Npz.Write(outPath, items);
        else Npy.Write(outPath, items[0].Value);
        foreach (var (name, k) in items)
            stdout.WriteLine($"{name}: shape {k.Shape} {CliParsing.Name(k.DType)}{(npz ? $" -> {outPath}[{name}]" : $" -> {outPath}")}");
        return CliApp.Ok;
    }

    /// <summary>Reads an .npz and checks its names and shapes against what the network expects for these inputs.</summary>
    internal static Params LoadParams(Layer net, string path, Shape inputShape, DType dtype)
    {
        var file = Npz.Read(path);
        var expected = net.Init(0, inputShape, dtype).Params;
        var missing = expected.Keys.Where(k => !file.ContainsKey(k)).ToArray();
        var extra = file.Keys.Where(k => !expected.ContainsKey(k)).ToArray();
        if (missing.Length > 0 || extra.Length > 0)
            throw new ArgumentException($"--params {path}: the net needs parameters [{string.Join(", ", expected.Keys)}]" +
                $" but the file has [{string.Join(", ", file.Keys)}]");
        var p = new Params();
        foreach (var (name, e) in expected)
        {
            var t = file[name];
            if (t.Shape != e.Shape)
                throw new ArgumentException($"--params {path}: '{name}' has shape {t.Shape} but the net expects {e.Shape} for inputs {inputShape}");
            p.Add(name, t.AsType(dtype));
        }
        return p;
    }
}
