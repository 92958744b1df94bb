using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using NeuralTangents.Stax;
using NeuralTangents.Tensors;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Perf;

/// <summary>One row of issue 12's side-by-side table: our configuration and the torch peer's <c>bench</c> arguments.</summary>
internal sealed record PeerRow(string Name, string Description, string PeerArgs, Func<(Layer Net, Tensor X)> Build,
    int[] TraceAxes, NtkImplementation Impl, bool Heavy = false)
{
    private static Layer SeedCnn() => Serial(Conv(32, [3, 3]), Relu(), Conv(32, [3, 3]), Relu(), Conv(32, [3, 3]), Flatten(), Dense(10));
    private static Layer SeedFcn() => Serial(Flatten(), Dense(1024), Relu(), Dense(1024), Relu(), Dense(100));
    // The peer's digits-fcn: Dense(512,W_std=1.5,b_std=0.05), Relu, Dense(512,...), Relu, Dense(10,...).
    private static Layer DigitsFcn() => Serial(Dense(512, 1.5, 0.05), Relu(), Dense(512, 1.5, 0.05), Relu(), Dense(10, 1.5, 0.05));
    private static Tensor Normal(params int[] shape) => Tensor.RandomNormal(new Random(1), new Shape(shape), DType.Float32);
    private static Tensor Digits(int n)
    {
        var x = NeuralTangents.Data.OptDigits.Load(Path.Combine(NeuralTangents.Data.OptDigits.FindDataDirectory(),
            NeuralTangents.Data.OptDigits.TestFileName), maxRows: n, dtype: DType.Float32).Images;
        return x.Reshape(x.Shape[0], 64);
    }

    /// <summary>The issue's workloads, float32, x2 = null, VmapAxes = 0 for ours; the peer's best method per row.</summary>
    public static readonly PeerRow[] All =
    [
        new("cnn", "seed CNN, N = 20, trace [-1]", "--net seed-cnn --n 20 --method struct --trace-axes -1",
            () => (SeedCnn(), Normal(20, 32, 32, 3)), [-1], NtkImplementation.Auto),
        new("cnn-full", "seed CNN, N = 20, trace []", "--net seed-cnn --n 20 --method struct --trace-axes \"\"",
            () => (SeedCnn(), Normal(20, 32, 32, 3)), [], NtkImplementation.Auto),
        new("fcn", "seed FCN, x (5,32,32,3), trace [-1]", "--net seed-fcn --n 5 --method struct --trace-axes -1",
            () => (SeedFcn(), Normal(5, 32, 32, 3)), [-1], NtkImplementation.Auto),
        new("fcn-full", "seed FCN, x (5,32,32,3), trace []", "--net seed-fcn --n 5 --method struct --trace-axes \"\"",
            () => (SeedFcn(), Normal(5, 32, 32, 3)), [], NtkImplementation.Auto),
        // The seed page's own NtkVectorProducts example; the peer has no NTK-VP method, so its best (struct) is the reference.
        new("fcn-vp", "seed FCN, x (5,32,32,3), trace [-1], NtkVectorProducts vs struct", "--net seed-fcn --n 5 --method struct --trace-axes -1",
            () => (SeedFcn(), Normal(5, 32, 32, 3)), [-1], NtkImplementation.NtkVectorProducts),
        new("digits", "digits FCN 64-512-512-10, N = 1797, trace [-1]", "--net digits-fcn --n 1797 --method struct --trace-axes -1",
            () => (DigitsFcn(), Digits(1797)), [-1], NtkImplementation.Auto),
        new("digits-jc", "digits FCN, N = 400, JacobianContraction vs jac", "--net digits-fcn --n 400 --method jac --trace-axes -1",
            () => (DigitsFcn(), Digits(400)), [-1], NtkImplementation.JacobianContraction, Heavy: true),
    ];

    public static PeerRow Find(string name) => All.FirstOrDefault(r => r.Name == name)
        ?? throw new ArgumentException($"unknown row '{name}', expected one of {string.Join(", ", All.Select(r => r.Name))}");
}

/// <summary>
/// Issue 12's side-by-side runner. <c>vs-peer --peer PATH [--rounds R] [--reps K] [--only a,b] [--heavy] [--baseline DLL] [--settle]</c> runs, for each
/// round and each row, the peer's <c>bench</c> and then ours (<c>peer-row NAME --reps K</c>) as separate processes under
/// <c>/usr/bin/time -f %M</c> (peak RSS), so both see the same machine load; every process makes one warm-up call and K timed
/// calls. The table pools the warm calls of all rounds: medians, min/max, ours / peer, peak RSS (max over rounds) and our
/// allocated bytes per warm call (<see cref="GC.GetTotalAllocatedBytes(bool)"/>, all threads).
/// </summary>
internal static class PeerCompare
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary><c>peer-row NAME [--reps K] [--settle] [--no-noise]</c>: our side of one row, in this process; prints one line per call.</summary>
    public static int RunRow(string[] args)
    {
        var row = PeerRow.Find(args[0]);
        int reps = QuickNtk.IntOpt(args, "--reps", 5);
        var (net, x) = row.Build();
        var p = net.Init(0, x.Shape, DType.Float32).Params;
        var fn = Empirical.NtkFn(net.Apply, traceAxes: row.TraceAxes, vmapAxes: 0, implementation: row.Impl);
        // NT_PERF_NO_POOL=1: every allocation site allocates fresh arrays, as before the buffer pool (same-build A/B).
        using var noPool = Environment.GetEnvironmentVariable("NT_PERF_NO_POOL") == "1" ? BufferPool.Use(BufferPool.Off) : null;
        if (noPool is not null) Console.WriteLine("pool=off");
        // Before the warm-up call, so that nothing but the timed calls runs (and JIT-compiles) after it.
        var explained = Empirical.ExplainNtk(net.Apply, x, null, p, row.TraceAxes, vmapAxes: 0);
        var chosen = row.Impl == NtkImplementation.Auto ? explained.Chosen : row.Impl;
        var sw = Stopwatch.StartNew();
        var k = fn(x, null, p);
        Console.WriteLine(FormattableString.Invariant($"warmup_seconds={sw.Elapsed.TotalSeconds:F6} kernel_shape={k.Shape}"));
        if (row.Impl == NtkImplementation.Auto) Console.WriteLine($"auto={explained.Chosen}");
        // The call's estimated peak: the cap on what the kernel function's buffer pool holds (free + rented arrays).
        Console.WriteLine(FormattableString.Invariant($"estimated_peak_mb={explained.Estimates.Single(e => e.Implementation == chosen).PeakBytes / 1e6:F1}"));
        // The same-run noise control (NoiseProbe); --no-noise or NT_PERF_NO_NOISE=1 leaves it out (calls run back to back).
        using var noise = args.Contains("--no-noise") || Environment.GetEnvironmentVariable("NT_PERF_NO_NOISE") == "1" ? null : new NoiseProbe();
        int calls = 0;
        // One warm call with its bookkeeping: the line and the methods compiled during the call (all threads).
        (string Line, long Jit, double Seconds) Call()
        {
            int r = ++calls;
            long a0 = GC.GetTotalAllocatedBytes(true), f0 = MinorFaults(), j0 = System.Runtime.JitInfo.GetCompiledMethodCount();
            var jt0 = System.Runtime.JitInfo.GetCompilationTime();
            int g0 = GC.CollectionCount(2), e0 = GC.CollectionCount(0);
            var c0 = noise is null ? default : NoiseProbe.Read();
            sw.Restart();
            fn(x, null, p);
            double s = sw.Elapsed.TotalSeconds;
            var dc = noise is null ? default : NoiseProbe.Read() - c0;
            long alloc = GC.GetTotalAllocatedBytes(true) - a0, jit = System.Runtime.JitInfo.GetCompiledMethodCount() - j0;
            // Full collections (the memory pacer's) and page faults (first touches of fresh memory) per call: where
            // allocation costs time beyond the bytes themselves; methods the JIT compiled during the call (all threads:
            // tier-up of code that ran unoptimised) and its time; jit_total = methods compiled before the call (the line
            // numbers of DOTNET_JitDisasmSummary=1's list, to see which ones a call compiled); last (after the noise fields, which
            // vs-peer reads by name): gen-0 collections and thread-pool threads.
            return (FormattableString.Invariant(
                $"{s:F6} s alloc {alloc} gc2 {GC.CollectionCount(2) - g0} minflt {MinorFaults() - f0} jit {jit} jit_total {j0} jit_ms {(System.Runtime.JitInfo.GetCompilationTime() - jt0).TotalMilliseconds:F1}{NoiseFields(noise, r, s, dc)} gc0 {GC.CollectionCount(0) - e0} pool_threads {ThreadPool.ThreadCount}"), jit, s);
        }
        // --settle runs the same code as the timed calls (the harness's own bookkeeping tiers up too).
        // Their lines are printed too (as "settle N: …", which vs-peer does not read), so printing is warm as well.
        if (args.Contains("--settle"))
            Settle(() =>
            {
                var c = Call();
                Console.WriteLine($"settle {calls}: {c.Line}");
                return c.Jit;
            });
        // Markers in DOTNET_JitDisasmSummary=1 listings: methods listed between them were compiled during the warm calls.
        JitMarkerWarmCallsStart();
        // Nothing but Call and the line runs per timed call (parsing the line back, as this loop once did, tiered up
        // double.Parse during the timed calls: 8 methods, +8 ms, in a settled 10 ms seed FCN call).
        var times = new double[reps];
        for (int r = 1; r <= reps; r++)
        {
            var c = Call();
            Console.WriteLine($"run {r}: {c.Line}");
            times[r - 1] = c.Seconds;
        }
        JitMarkerWarmCallsEnd();
        if (noise is not null) Console.WriteLine(FormattableString.Invariant($"noise_ref=fma_units={noise.Units}"));
        if (times.Length > 0)
            Console.WriteLine(FormattableString.Invariant($"summary: {times.Length} warm calls, median {Median([.. times]):F4} s [{times.Min():F4}–{times.Max():F4}], max/min {times.Max() / times.Min():F2}"));
        return 0;
    }

    /// <summary>
    /// <c>--settle</c>: more warm-up calls, until the tiered JIT has settled (BenchmarkDotNet's reason for its warm-up
    /// phase): no method compiled during the last <see cref="SettleQuietCalls"/> calls and the last
    /// <see cref="SettleQuietSeconds"/> s, at most <see cref="SettleMaxSeconds"/> s. With default runtime settings every
    /// method a call runs goes tier 0 → instrumented → tier 1 after 30 calls, and call counting waits until 100 ms pass
    /// without new tier-0 code, so on the seed CNN the bursts (each compiled on a background thread that takes one of the
    /// two cores) come and go for about 100 calls, with quiet stretches of up to ~10 calls between them (perf/README.md,
    /// "Issue 12 scoreboard, 2026-12-04 21:37–21:47 UTC"). Prints <c>settle_calls=N settle_seconds=S settled=true|false</c>.
    /// </summary>
    private static void Settle(Func<long> call)
    {
        var sw = Stopwatch.StartNew();
        int calls = 0, quiet = 0;
        double quietSince = 0;
        bool Settled() => quiet >= SettleQuietCalls && sw.Elapsed.TotalSeconds - quietSince >= SettleQuietSeconds;
        while (!Settled() && sw.Elapsed.TotalSeconds < SettleMaxSeconds)
        {
            long jit = call();
            calls++;
            if (jit == 0) quiet++;
            else { quiet = 0; quietSince = sw.Elapsed.TotalSeconds; }
        }
        Console.WriteLine(FormattableString.Invariant($"settle_calls={calls} settle_seconds={sw.Elapsed.TotalSeconds:F1} settled={(Settled() ? "true" : "false")}"));
    }

    private const int SettleQuietCalls = 20;
    private const double SettleQuietSeconds = 2, SettleMaxSeconds = 180;

    [MethodImpl(MethodImplOptions.NoInlining)] private static void JitMarkerWarmCallsStart() { }
    [MethodImpl(MethodImplOptions.NoInlining)] private static void JitMarkerWarmCallsEnd() { }

    /// <summary>
    /// The run line's noise fields: ref_s = the reference computation's time right after this call (sized on call 1),
    /// others_ms / steal_ms = other processes' / the hypervisor's CPU time during the call, ivcs = our threads' involuntary
    /// context switches during the call.
    /// </summary>
    private static string NoiseFields(NoiseProbe? noise, int r, double seconds, NoiseProbe.Counters dc)
    {
        if (noise is null) return "";
        if (r == 1) noise.Calibrate(seconds);
        return FormattableString.Invariant($" ref_s {noise.Time():F6} others_ms {dc.OthersMs:F0} steal_ms {dc.StealMs:F0} ivcs {dc.InvoluntarySwitches}");
    }

    /// <summary>This process's minor page faults so far (Linux /proc/self/stat field 10; 0 elsewhere).</summary>
    internal static long MinorFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(f[7], Inv); // fields after "(comm)": state=3 … minflt=10 → index 7
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    private sealed class Samples
    {
        public readonly List<double> Times = [];
        public readonly List<double> Alloc = [];
        public readonly List<double> Gc2 = [];
        public readonly List<double> Faults = [];
        public readonly List<double> Jit = [];
        public readonly List<double> Ref = [], Others = [], Steal = [], Ivcs = []; // NoiseProbe, per warm call
        public long PeakKb;
        public int PerProcess; // warm calls per process
        public string Note = "";
        public readonly List<string> Settle = []; // --settle: warm-up calls each process made until the JIT settled
        public int Failures;
    }

    public static int Run(string[] args)
    {
        string peer = StrOpt(args, "--peer") ?? Environment.GetEnvironmentVariable("TORCH_PEER") ?? "/tmp/torch-peer/out/torch-peer";
        int rounds = QuickNtk.IntOpt(args, "--rounds", 3), reps = QuickNtk.IntOpt(args, "--reps", 5);
        var only = StrOpt(args, "--only")?.Split(',');
        bool heavy = args.Contains("--heavy");
        // --settle: our (and the baseline's) processes warm up until the tiered JIT has settled (peer-row --settle);
        // the peer's bench has no such option and keeps its one warm-up call (its time is spent in libtorch).
        bool settle = args.Contains("--settle");
        if (!File.Exists(peer)) { Console.Error.WriteLine($"vs-peer: --peer: no torch-peer executable at '{peer}' (build it: perf/vs-peer.sh)"); return 2; }
        var rows = PeerRow.All.Where(r => only is null ? heavy || !r.Heavy : only.Contains(r.Name)).ToArray();
        var ours = rows.ToDictionary(r => r.Name, _ => new Samples());
        var theirs = rows.ToDictionary(r => r.Name, _ => new Samples());
        // --baseline DLL: another build's NeuralTangents.Perf.dll (e.g. an older main) runs as a third side, same rows.
        string? baseline = StrOpt(args, "--baseline");
        if (baseline is not null && !File.Exists(baseline)) { Console.Error.WriteLine($"vs-peer: --baseline: no file at '{baseline}'"); return 2; }
        var based = rows.ToDictionary(r => r.Name, _ => new Samples());
        int sides = baseline is null ? 2 : 3;
        Console.WriteLine($"# vs-peer {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
            $"{rounds} rounds × {reps} warm calls{(settle ? " (ours after the JIT settles)" : "")}, load {QuickNtk.Load()}{(baseline is null ? "" : ", baseline " + baseline)}");
        for (int round = 1; round <= rounds; round++)
            foreach (var row in rows)
            {
                // Rotate who goes first so no side always runs right after a build or another's big free.
                for (int slot = 0; slot < sides; slot++)
                {
                    int side = (slot + round - 1) % sides; // 0 peer, 1 ours, 2 baseline
                    var s = side == 0 ? theirs[row.Name] : side == 1 ? ours[row.Name] : based[row.Name];
                    string[] self = ["peer-row", row.Name, "--reps", reps.ToString(Inv), .. settle ? new[] { "--settle" } : []];
                    var cmd = side == 0 ? new[] { peer, "bench" }.Concat(SplitArgs(row.PeerArgs)).Concat(["--repeat", reps.ToString(Inv)]).ToArray()
                        : side == 1 ? SelfCommand(self) : [Environment.ProcessPath!, baseline!, .. self];
                    var (lines, kb, ok) = Timed(cmd, TimeSpan.FromMinutes(15));
                    string who = side == 0 ? "peer" : side == 1 ? "ours" : "base";
                    Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] round {round} {row.Name} {who}: " +
                        $"{string.Join(" ", lines.Where(l => l.StartsWith("run ")).Select(l => l.Split(' ')[2]))} ({kb / 1024} MB){(ok ? "" : " FAILED")}");
                    if (!ok) { s.Failures++; foreach (var l in lines.TakeLast(5)) Console.Error.WriteLine("  " + l); continue; }
                    s.PeakKb = Math.Max(s.PeakKb, kb);
                    s.PerProcess = reps;
                    foreach (var l in lines)
                    {
                        if (l.StartsWith("run "))
                        {
                            var f = l.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                            s.Times.Add(double.Parse(f[2], Inv));
                            if (f.Length >= 6 && f[4] == "alloc") s.Alloc.Add(double.Parse(f[5], Inv));
                            if (f.Length >= 10 && f[6] == "gc2" && f[8] == "minflt")
                            {
                                s.Gc2.Add(double.Parse(f[7], Inv));
                                s.Faults.Add(double.Parse(f[9], Inv));
                            }
                            if (f.Length >= 12 && f[10] == "jit") s.Jit.Add(double.Parse(f[11], Inv));
                            for (int i = 12; i + 1 < f.Length; i++)
                            {
                                var list = f[i] switch { "ref_s" => s.Ref, "others_ms" => s.Others, "steal_ms" => s.Steal, "ivcs" => s.Ivcs, _ => null };
                                list?.Add(double.Parse(f[i + 1], Inv));
                            }
                        }
                        if (l.StartsWith("auto=")) s.Note = "→ " + l[5..];
                        if (l.StartsWith("settle_calls=")) s.Settle.Add(l.Split(' ')[0][13..] + (l.Contains("settled=false") ? " (NOT settled)" : ""));
                        if (l.StartsWith("net=") && l.Contains("method=")) s.Note = l[(l.IndexOf("method=", StringComparison.Ordinal) + 7)..].Split(' ')[0];
                    }
                }
            }
        Console.WriteLine();
        Console.WriteLine("| row | peer (method) median [min–max] | peer RSS | ours median [min–max] | max/min | ours RSS | alloc/warm call | full GCs, minor faults, JIT-compiled methods / warm call | noise control: reference max/min; others' CPU ms, steal ms, our involuntary switches / warm call | ours / peer |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var (o, t) = (ours[row.Name], theirs[row.Name]);
            string Cell(Samples s) => s.Times.Count == 0 ? "failed" : FormattableString.Invariant(
                $"{Median(s.Times):F3} s [{s.Times.Min():F3}–{s.Times.Max():F3}]");
            string Note(Samples s) => s.Note + (s.Settle.Count == 0 ? "" : $"{(s.Note == "" ? "" : "; ")}settled after {string.Join(", ", s.Settle)} calls");
            string ratio = o.Times.Count > 0 && t.Times.Count > 0 ? (Median(o.Times) / Median(t.Times)).ToString("F2", Inv) : "—";
            string spread = o.Times.Count > 0 ? (o.Times.Max() / o.Times.Min()).ToString("F2", Inv) : "—";
            string alloc = o.Alloc.Count > 0 ? FormattableString.Invariant($"{Median(o.Alloc) / 1e6:F1} MB") : "—";
            Console.WriteLine($"| {row.Description} | {Cell(t)} ({t.Note}) | {t.PeakKb / 1024} MB | {Cell(o)} ({Note(o)}) | {spread} | {o.PeakKb / 1024} MB | {alloc} | {GcFaults(o)} | {Noise(o)} | **{ratio}** |");
        }
        if (baseline is not null)
        {
            Console.WriteLine();
            Console.WriteLine("| row | baseline median [min–max] | max/min | baseline RSS | alloc/warm call | full GCs, minor faults, JIT-compiled methods / warm call | baseline / peer | ours / baseline |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var row in rows)
            {
                var (o, t, b) = (ours[row.Name], theirs[row.Name], based[row.Name]);
                if (b.Times.Count == 0) { Console.WriteLine($"| {row.Description} | failed | | | | | |"); continue; }
                string vsPeer = t.Times.Count > 0 ? (Median(b.Times) / Median(t.Times)).ToString("F2", Inv) : "—";
                string vsOurs = o.Times.Count > 0 ? (Median(o.Times) / Median(b.Times)).ToString("F2", Inv) : "—";
                string alloc = b.Alloc.Count > 0 ? FormattableString.Invariant($"{Median(b.Alloc) / 1e6:F1} MB") : "—";
                Console.WriteLine(FormattableString.Invariant(
                    $"| {row.Description} | {Median(b.Times):F3} s [{b.Times.Min():F3}–{b.Times.Max():F3}] ({b.Note}) | {b.Times.Max() / b.Times.Min():F2} | {b.PeakKb / 1024} MB | {alloc} | {GcFaults(b)} | {vsPeer} | **{vsOurs}** |"));
            }
        }
        Console.WriteLine($"# done {DateTime.UtcNow:HH:mm} UTC, load {QuickNtk.Load()}");
        return rows.All(r => ours[r.Name].Failures == 0 && theirs[r.Name].Failures == 0 && based[r.Name].Failures == 0) ? 0 : 1;
    }

    // max/min of the reference taken per process (the rounds' processes calibrate their own reference), worst process shown.
    private static string Noise(Samples s) => s.Ref.Count == 0 ? "—" : FormattableString.Invariant(
        $"{RefSpread(s):F2}; {s.Others.Average():F0}, {s.Steal.Average():F0}, {s.Ivcs.Average():F1}");

    private static double RefSpread(Samples s)
    {
        int k = s.Times.Count == s.Ref.Count && s.PerProcess > 0 ? s.PerProcess : s.Ref.Count;
        return s.Ref.Chunk(k).Max(c => c.Max() / c.Min());
    }

    private static string GcFaults(Samples s) => s.Gc2.Count == 0 ? "—"
        : FormattableString.Invariant($"{s.Gc2.Average():F1}, {Median(s.Faults):F0}, {(s.Jit.Count == 0 ? "—" : s.Jit.Average().ToString("F0", Inv))}");

    private static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    private static string[] SelfCommand(string[] args)
    {
        var path = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? [path, Assembly.GetEntryAssembly()!.Location, .. args] : [path, .. args];
    }

    private static IEnumerable<string> SplitArgs(string s) =>
        s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => a == "\"\"" ? "" : a);

    /// <summary>Runs <paramref name="cmd"/> under <c>/usr/bin/time -f %M</c>; returns its stdout lines and peak RSS (KiB).</summary>
    private static (List<string> Lines, long PeakKb, bool Ok) Timed(string[] cmd, TimeSpan timeout)
    {
        var rss = Path.GetTempFileName();
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/time") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-f", "%M", "-o", rss }.Concat(cmd)) psi.ArgumentList.Add(a);
            psi.Environment["TORCH_PEER_QUIET"] = "1";
            using var p = Process.Start(psi)!;
            var lines = new List<string>();
            p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add("stderr: " + e.Data); };
            p.BeginOutputReadLine(); p.BeginErrorReadLine();
            if (!p.WaitForExit(timeout)) { p.Kill(entireProcessTree: true); return (lines, 0, false); }
            p.WaitForExit();
            var text = File.ReadAllText(rss).Trim().Split('\n');
            long kb = long.TryParse(text[^1], out var v) ? v : 0;
            return (lines, kb, p.ExitCode == 0);
        }
        finally { File.Delete(rss); }
    }

    private static string? StrOpt(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
