using System.CommandLine;
using System.Diagnostics;
using NeuralTangents.Interop;
using NeuralTangents.Stax;
using NeuralTangents.Tiles;

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
        var trace = new Option<string>("--trace-axes") { Description = "Output axes to trace (mean over), comma-separated; \"\" for none.", DefaultValueFactory = _ => string.Join(",", KernelSpec.DefaultTraceAxes) };
        var diag = new Option<string>("--diagonal-axes") { Description = "Output axes kept diagonal, comma-separated; \"\" for none.", DefaultValueFactory = _ => "" };
        var output = new Option<string>("--out") { Description = "Output .npy (one kernel) or .npz (entries named ntk/nngp).", Required = true };
        var explain = new Option<bool>("--explain") { Description = "Print the AUTO cost model's estimates (GFLOP, peak memory) per NTK implementation first." };
        var budget = new Option<string?>("--memory-budget") { Description = "Memory the computation may use, e.g. 64MiB, 4GiB or bytes (default: 4 GiB or half the memory if smaller); refused before any work when even one tile cannot fit." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Examples per tile (nt.batch's batch_size); default: derived from the memory budget." };
        var resume = new Option<bool>("--resume") { Description = "Continue an interrupted .npy --out from its .partial file and .tiles.json manifest." };
        var cluster = new Option<string?>("--cluster") { Description = "Compute the tiles on 'nt worker' silos: HOST:GATEWAY_PORT[,HOST:PORT...] or redis:CONNECTION; same .npy, manifest and --resume as a local run." };
        var clusterId = new Option<string>("--cluster-id") { Description = "Cluster id of the workers (--cluster).", DefaultValueFactory = _ => NeuralTangents.Cluster.Hosting.ClusterAddress.DefaultClusterId };
        var (tlsCert, tlsKey, tlsCa) = WorkerCommand.TlsOptions();

        var cmd = new Command("kernel", "Compute empirical NTK and/or NNGP kernels and write them to .npy/.npz.")
        {
            net, x1, x2, get, trace, diag, output, explain, budget, batchSize, resume, cluster, clusterId, tlsCert, tlsKey, tlsCa,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => Run(r.GetValue(net)!, common.Read(r), r.GetValue(x1)!, r.GetValue(x2),
            r.GetValue(get)!, r.GetValue(trace)!, r.GetValue(diag)!, r.GetValue(output)!, r.GetValue(explain),
            new Tiling(r.GetValue(budget), r.GetValue(batchSize), r.GetValue(resume)), stdout, stderr,
            ClusterKernelRun.Read(r.GetValue(cluster), r.GetValue(clusterId)!, r.GetValue(tlsCert), r.GetValue(tlsKey), r.GetValue(tlsCa))));
        return cmd;
    }

    /// <summary>The memory and tile options of <c>nt kernel</c>.</summary>
    private sealed record Tiling(string? Budget, int? BatchSize, bool Resume);

    private static int Run(string spec, ComputeOptions.Values common, string x1Path, string? x2Path, string getText,
        string traceText, string diagText, string outPath, bool explain, Tiling tiling, TextWriter stdout, TextWriter stderr,
        NeuralTangents.Cluster.Hosting.ClusterAddress? cluster = null)
    {
        // Validate every option before reading data or computing.
        var net = NetSpec.Parse(spec);
        var get = Empirical.ParseGet(getText);
        if (get.Length == 0) throw new ArgumentException("--get: expected ntk, nngp or ntk,nngp");
        if (get.Distinct().Count() != get.Length) throw new ArgumentException($"--get: a kernel is repeated in '{getText}'");
        var traceAxes = CliParsing.AxisList(traceText, "--trace-axes");
        var diagonalAxes = CliParsing.AxisList(diagText, "--diagonal-axes");
        var vmapAxes = common.VmapAxes;
        var implementation = common.Implementation;
        bool npz = CliInputs.CheckOut(outPath, ".npy", ".npz") == ".npz";
        if (get.Length > 1 && !npz)
            throw new ArgumentException($"--out: several kernels ({getText}) need an .npz file, got '{outPath}'");
        var backend = common.Backend();
        long? memoryBudget = tiling.Budget is null ? null : CliParsing.Size(tiling.Budget, "--memory-budget");
        if (tiling.BatchSize is < 1) throw new ArgumentException($"--batch-size: expected a positive number of examples, got {tiling.BatchSize}");
        if (tiling.Resume && npz) throw new ArgumentException($"--resume: only an .npy --out is written in resumable tiles, got '{outPath}'");
        if (cluster is not null && npz) throw new ArgumentException($"--cluster: a cluster job writes one kernel to an .npy --out, got '{outPath}'");

        var x1 = CliInputs.ReadNpy(x1Path, "--x1", common.AllowNonFinite, batched: true);
        var x2 = x2Path is null ? null : CliInputs.ReadNpy(x2Path, "--x2", common.AllowNonFinite, batched: true);
        var dtype = common.DType ?? x1.DType;
        x1 = x1.AsType(dtype);
        x2 = x2?.AsType(dtype);
        var parameters = common.LoadParams(net, x1.Shape, dtype);

        using var cts = new CancellationTokenSource();
        var progress = new ProgressLine(stderr, ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected);
        var options = new KernelOptions { MemoryBudget = memoryBudget, BatchSize = tiling.BatchSize, CancellationToken = cts.Token, Progress = progress };
        if (explain)
        {
            // The plan this run follows: an .npy is written tile by tile, so the kernel is not held (an .npz is).
            var ex = Empirical.ExplainPlan(net.Apply, x1, x2, parameters, traceAxes, diagonalAxes, vmapAxes, options, kernelInMemory: npz);
            stdout.WriteLine($"NTK cost estimates (AUTO picks {ex.Chosen}, memory budget {MemoryBudget.Format(ex.MemoryBudgetBytes)}):");
            stdout.WriteLine(ex.ToString());
        }
        if (cluster is not null)
            return ClusterKernelRun.Run(cluster, new NeuralTangents.Cluster.Tiles.KernelRequest(spec, parameters, x1, x2, get, traceAxes, diagonalAxes,
                vmapAxes, implementation, options), outPath, tiling.Resume, cts, progress, stdout, stderr);
        // An .npy is always written tile by tile into <out>.partial (renamed when complete, so a failed run never
        // clobbers an existing file); an .npz is computed in memory and needs the kernels to fit the budget.
        // Planned (and refused when it cannot fit) before the "computing" line.
        var tiled = npz ? Empirical.TiledInMemory(net.Apply, x1, x2, parameters, get, traceAxes, diagonalAxes, vmapAxes, implementation, options)
            : Empirical.Tiled(net.Apply, x1, x2, parameters, get, traceAxes, diagonalAxes, vmapAxes, implementation, options);
        if (npz) tiled.CheckFitsInMemory();
        // Before any output: --resume checks its partial file now (one error line), and a run without it does not
        // silently discard an interrupted run of this same kernel.
        int reused = tiling.Resume ? tiled.ResumableTiles(outPath, functionKey: spec) : 0;
        if (!npz && !tiling.Resume && File.Exists(outPath + ".partial"))
        {
            int left;
            try { left = tiled.ResumableTiles(outPath, functionKey: spec); }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException or IOException) { left = 0; }
            if (left > 0)
                throw new ArgumentException($"--out: {outPath}.partial holds {left} of {tiled.Plan.Tiles.Count} tiles of this kernel from an interrupted run; " +
                    $"add --resume to continue it, or delete {outPath}.partial to start over");
            stderr.WriteLine($"nt: replacing {outPath}.partial, left by an interrupted run of another kernel or plan");
        }
        double estimate = npz ? tiled.EstimatedInMemoryPeakBytes : tiled.EstimatedPeakBytes;
        if (get.Contains(KernelKind.Ntk))
        {
            var chosen = tiled.Implementation;
            var runs = implementation == NtkImplementation.Auto
                ? $"auto → {CliParsing.ImplementationName(chosen)}"
                : common.ImplementationText + (explain ? " (--implementation auto follows the estimates)" : "");
            stdout.WriteLine($"NTK implementation: {runs}");
        }
        var plan = $" {(tiled.Plan.Tiles.Count > 1 ? $"in {tiled.Plan}" : "whole")}, estimated peak " +
            $"{MemoryBudget.Format(estimate)} (budget {MemoryBudget.Format(tiled.MemoryBudget)})";
        stderr.WriteLine($"computing {string.Join(", ", get.Select(k => k.ToString().ToUpperInvariant()))} for x1 {x1.Shape}{(x2 is null ? "" : $", x2 {x2.Shape}")} ({parameters.ParameterCount} params, {CliParsing.Name(dtype)}, {backend.Name})…{plan}");
        // Inputs and parameters are held throughout; the estimate covers the computation.
        double held = x1.Size * (double)x1.DType.SizeOf() + (x2 is null ? 0 : x2.Size * (double)x2.DType.SizeOf())
            + parameters.ParameterCount * (double)dtype.SizeOf();
        var sw = Stopwatch.StartNew();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            using (ComputeBackend.Use(backend))
            {
                if (!npz)
                {
                    if (tiling.Resume)
                    {
                        int total = tiled.Plan.Tiles.Count;
                        stderr.WriteLine($"resuming {outPath}.partial: {reused} of {total} tiles already written and reused, {total - reused} to compute");
                    }
                    tiled.WriteNpy(outPath, tiling.Resume, functionKey: spec);
                    progress.Finish();
                    stderr.WriteLine($"done in {CliParsing.Seconds(sw.Elapsed)}; {PeakMemory.Summary(MemoryBudget.ProcessPeakBytes(estimate, held))}");
                    CliInputs.WarnNonFinite(stderr, outPath, $"the {get[0].ToString().ToUpperInvariant()}", NonFiniteHint(common));
                    stdout.WriteLine($"{get[0].ToString().ToLowerInvariant()}: shape {tiled.Shapes[0]} {CliParsing.Name(tiled.DType)} -> {outPath}");
                    return CliApp.Ok;
                }
                var kernels = tiled.Compute();   // one per kind, in --get order
                progress.Finish();
                stderr.WriteLine($"done in {CliParsing.Seconds(sw.Elapsed)}; {PeakMemory.Summary(MemoryBudget.ProcessPeakBytes(estimate, held))}");
                var items = get.Select((kind, i) => new KeyValuePair<string, Tensor>(kind.ToString().ToLowerInvariant(), kernels[i])).ToList();
                foreach (var (name, k) in items) CliInputs.WarnNonFinite(stderr, k, $"the {name.ToUpperInvariant()}", NonFiniteHint(common));
                Npz.Write(outPath, items);
                foreach (var (name, k) in items)
                    stdout.WriteLine($"{name}: shape {k.Shape} {CliParsing.Name(k.DType)} -> {outPath}[{name}]");
                return CliApp.Ok;
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            progress.Finish();
            stderr.WriteLine(npz ? "nt: interrupted; nothing written"
                : $"nt: interrupted after {progress.Done} of {tiled.Plan.Tiles.Count} tiles; the partial kernel is in {outPath}.partial (manifest {outPath}.tiles.json): rerun with --resume to continue");
            return CliApp.Interrupted;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static string? NonFiniteHint(ComputeOptions.Values common) =>
        common.AllowNonFinite ? null : "the inputs and parameters are finite: check the network spec (e.g. W_std) and the scale of the inputs";

    /// <summary>Reads an .npz and checks its names and shapes against what the network expects for these inputs.</summary>
    internal static Params LoadParams(Layer net, string path, Shape inputShape, DType dtype, bool allowNonFinite = false)
    {
        var file = CliInputs.ReadNpz(path, "--params", allowNonFinite);
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
