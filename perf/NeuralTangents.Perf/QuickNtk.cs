using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using NeuralTangents.Tensors;

namespace NeuralTangents.Perf;

/// <summary>
/// <c>quick-ntk</c>: Stopwatch timing of the NTK workloads, one child process per configuration so that
/// <see cref="Process.PeakWorkingSet64"/> is that configuration's own peak. Options: <c>--reps R</c> (timed calls after
/// the warm-up call, default 3), <c>--limit S</c> (a configuration whose first call takes longer gets one timed call instead of R,
/// default 60), <c>--only cnn|fcn|fcn32</c>, <c>--profile-conv</c> (per-shape totals of the convolution kernels).
/// </summary>
internal static class QuickNtk
{
    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "--one") return RunOne(args.Skip(1).ToArray());
        int reps = IntOpt(args, "--reps", 3);
        double limit = IntOpt(args, "--limit", 60);
        string? only = StrOpt(args, "--only");
        bool profile = args.Contains("--profile-conv");
        Console.WriteLine($"# quick-ntk {DateTime.Now:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, .NET {Environment.Version}, load {Load()}");
        Console.WriteLine("| Network | Implementation | VmapAxes | first call (s) | median (s) | min (s) | CPU/op (s) | allocated/op (MB) | peak WS (MB) | vs JC none |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var net in only is null ? NtkWorkload.Names : [only])
        {
            double? baseline = null;
            foreach (var (impl, vmap) in new[] { ("jc", false), ("jc", true), ("vp", true), ("vp", false) })
            {
                var cfg = NtkConfig.Parse(net, impl, vmap ? "0" : "none");
                var extra = profile ? " --profile-conv" : "";
                var (lines, timedOut) = Child($"quick-ntk --one {net} {impl} {(vmap ? "0" : "none")} --reps {reps} --limit {limit}{extra}",
                    TimeSpan.FromSeconds(limit * (reps + 2) + 60));
                var result = lines.FirstOrDefault(l => l.StartsWith("RESULT "));
                foreach (var l in lines.Where(l => l.StartsWith("PROFILE "))) Console.Error.WriteLine(l);
                if (result is null)
                {
                    Console.WriteLine($"| {net} | {cfg.ImplName} | {(vmap ? "0" : "none")} | {(timedOut ? "killed" : "failed")} | | | | | | |");
                    foreach (var l in lines.TakeLast(5)) Console.Error.WriteLine("  " + l);
                    continue;
                }
                var f = result.Split(' ').Skip(1).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                // f: first, median, min, cpu, allocMB, peakMB, skipped
                bool skipped = f[6] > 0;
                if (cfg.Impl == NtkImplementation.JacobianContraction && !vmap) baseline = f[1];
                double t = f[1];
                string ratio = baseline is { } b ? $"{b / t:F2}x" : "";
                Console.WriteLine($"| {net} | {cfg.ImplName} | {(vmap ? "0" : "none")} | {f[0]:F2} | {f[1]:F3}{(skipped ? " (1 call)" : "")} | {f[2]:F3} | {f[3]:F2} | {f[4]:F0} | {f[5]:F0} | {ratio} |");
            }
        }
        Console.WriteLine($"# done {DateTime.Now:HH:mm}, load {Load()}");
        return 0;
    }

    private static int RunOne(string[] args)
    {
        var cfg = NtkConfig.Parse(args[0], args[1], args[2]);
        int reps = IntOpt(args, "--reps", 3);
        double limit = IntOpt(args, "--limit", 60);
        var prof = new Dictionary<string, (int Count, double Seconds, double Flops)>();
        if (args.Contains("--profile-conv"))
            Conv.Profiler = (op, a, b, p, s) =>
            {
                string key = $"{op} {a} {b} groups={p.FeatureGroupCount}";
                lock (prof)
                {
                    prof.TryGetValue(key, out var v);
                    prof[key] = (v.Count + 1, v.Seconds + s, v.Flops + QuickConv.Flops(op, a, b, p));
                }
            };
        var w = NtkWorkload.Create(cfg.Net);
        var fn = w.Fn(cfg.Impl, cfg.Vmap);
        var proc = Process.GetCurrentProcess();
        var sw = Stopwatch.StartNew();
        var k = w.Run(fn);
        double first = sw.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"{cfg}: kernel {k.Shape}, first call {first:F2} s");
        lock (prof) prof.Clear(); // profile the timed calls only (the first one includes tracing and JIT)
        var times = new List<double>();
        double cpu = 0, alloc = 0;
        // A configuration whose first call exceeds the limit gets one timed call only.
        int timed = first <= limit ? reps : 1;
        for (int r = 0; r < timed; r++)
        {
            proc.Refresh();
            var cpu0 = proc.TotalProcessorTime;
            long a0 = GC.GetTotalAllocatedBytes(true);
            sw.Restart();
            w.Run(fn);
            times.Add(sw.Elapsed.TotalSeconds);
            alloc += GC.GetTotalAllocatedBytes(true) - a0;
            proc.Refresh();
            cpu += (proc.TotalProcessorTime - cpu0).TotalSeconds;
        }
        proc.Refresh();
        times.Sort();
        double med = times.Count > 0 ? times[times.Count / 2] : 0, min = times.Count > 0 ? times[0] : 0;
        int n = Math.Max(1, times.Count);
        foreach (var (key, v) in prof.OrderByDescending(kv => kv.Value.Seconds))
            Console.WriteLine(FormattableString.Invariant($"PROFILE {cfg} | {key} | calls {v.Count} | {v.Seconds * 1e3:F1} ms | {v.Flops / v.Seconds / 1e9:F2} GFLOP/s"));
        Console.WriteLine(FormattableString.Invariant(
            $"RESULT {first} {med} {min} {cpu / n} {alloc / n / 1e6} {proc.PeakWorkingSet64 / 1e6} {(first > limit ? 1 : 0)}"));
        return 0;
    }

    internal static (List<string> Lines, bool TimedOut) Child(string args, TimeSpan timeout)
    {
        var path = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(path) == "dotnet") psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var lines = new List<string>();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        p.BeginOutputReadLine();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            return (lines, true);
        }
        p.WaitForExit();
        return (lines, false);
    }

    internal static string Load()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    internal static int IntOpt(string[] args, string name, int dflt)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : dflt;
    }

    private static string? StrOpt(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
