using System.Diagnostics;
using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Implementations;
using NeuralTangents.Tensors;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Perf;

/// <summary>
/// <c>jc-mem [N] [--vmap none] [--budget BYTES] [--eqs]</c>: JacobianContraction's chunk plan on the seed CNN
/// (Conv(32,(3,3)),Relu ×2, Conv(32,(3,3)),Flatten,Dense(10); x (N,32,32,3) float32) and, per equation of the first
/// chunk's evaluation graph, the live heap measured after a forced collection against the live bytes JcGraphCost
/// assumes, and the bytes the equation allocated (transients).
/// </summary>
internal static class JcMemProbe
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 && int.TryParse(args[0], out var nn) ? nn : 20;
        bool vmap = !(args.Contains("--vmap") && args[Array.IndexOf(args, "--vmap") + 1] == "none");
        long budget = args.Contains("--budget") ? long.Parse(args[Array.IndexOf(args, "--budget") + 1]) : 4L << 30;
        var (net, x) = Nets.Pick(args, n);
        var dt = x.DType;
        var p = net.Init(3, x.Shape, dt).Params;
        var req = KernelRequest.ForOutputs(new TracedApply(net.Apply), p, [x], null, [KernelAxes.Canonicalize([-1], [], 2)],
            vmap ? 0 : null, budget, SdRules.All)[0];
        var plan = JacobianChunkPlan.For(req);
        Console.WriteLine($"trace axis {plan.TraceAxis}, plan peak {plan.PeakBytes / (1 << 20):F1} MiB, acc {JacobianChunkPlan.AccumulatorBytes(req) / (1 << 20):F2} MiB");
        for (int c = 0; c < plan.Chunks.Count; c++)
        {
            var g0 = JacobianChunkPlan.Evaluation(p, plan.S1, plan.Chunks[c], plan.TraceAxis, plan.Parts[c].Part1);
            Console.WriteLine($"chunk {c}: leaves [{string.Join(",", plan.Chunks[c].Leaves)}] t {plan.Chunks[c].T0}+{plan.Chunks[c].Tc} part {plan.Parts[c].Part1}: JcGraphCost {JcGraphCost.PeakBytes(g0) / (1 << 20):F1} MiB, outputs {g0.Outputs.Sum(o => o.Type.Shape.Elements * (double)o.Type.DType.SizeOf()) / (1 << 20):F1} MiB");
        }
        if (!args.Contains("--eqs")) return 0;
        int ci = args.Contains("--chunk") ? int.Parse(args[Array.IndexOf(args, "--chunk") + 1]) : 0;
        var ch = plan.Chunks[ci];
        var s = plan.S1;
        int part = plan.Parts[ci].Part1;
        var g = JacobianChunkPlan.Evaluation(p, s, ch, plan.TraceAxis, part);
        Console.WriteLine($"evaluation graph: {g.Equations.Count} equations, JcGraphCost peak {JcGraphCost.PeakBytes(g) / (1 << 20):F1} MiB");
        // inputs as Jacobians() builds them (first part)
        var box = s.Out.ToArray(); if (plan.TraceAxis >= 0) box[plan.TraceAxis] = ch.Tc;
        var boxShape = new Shape(box);
        var inputs = s.Batching is null
            ? TracedApply.Inputs(p, s.Xs).Append(StandardBasis.Of(boxShape, dt, 0, part)).ToArray()
            : TracedApply.Inputs(p, s.Batching.Stack(s.Xs, 0, part)).Append(StandardBasis.Of(boxShape, dt, 0, boxShape.Size)).ToArray();
        var env = new Tensor?[g.VarCount];
        for (int i = 0; i < inputs.Length; i++) env[g.Inputs[i].Id] = inputs[i];
        var last = Interpreter.LastUses(g);
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        long baseHeap = GC.GetTotalMemory(true);
        double peakLive = 0, peakTrans = 0;
        var steps = JcGraphCost.Steps(g);
        int underCount = 0;
        for (int k = 0; k < g.Equations.Count; k++)
        {
            var e = g.Equations[k];
            var a = e.Inputs.Select(t => t is Literal l ? l.Value : env[((Var)t).Id]!).ToArray();
            long before = GC.GetTotalMemory(true);
            long alloc0 = GC.GetTotalAllocatedBytes(true);
            var y = e.Primitive.Evaluate(a, ComputeBackend.Cpu);
            long alloc = GC.GetTotalAllocatedBytes(true) - alloc0;
            env[e.Output.Id] = y;
            foreach (var at in e.Inputs) if (at is Var v && last[v.Id] == k) env[v.Id] = null;
            if (last[e.Output.Id] < 0) env[e.Output.Id] = null;
            a = null;
            long after = GC.GetTotalMemory(true);
            double outB = e.Output.Type.Shape.Elements * e.Output.Type.DType.SizeOf();
            peakLive = Math.Max(peakLive, after - baseHeap);
            peakTrans = Math.Max(peakTrans, before - baseHeap + alloc);
            string ins = string.Join(" ", e.Inputs.Select(t => t is Var v ? $"{v.Type.Shape}{(env[v.Id] is { } tv && !tv.IsContiguous ? "*" : "")}" : "lit"));
            var st = steps[k];
            double est = st.Output + st.Scratch;
            bool under = alloc > est + (1 << 20);
            underCount += under ? 1 : 0;
            if (alloc > 4 << 20 || under || args.Contains("--all"))
                Console.WriteLine($"{k,4} {e.Primitive.GetType().Name.Replace("Primitive", ""),-18} out {e.Output.Type.Shape,-28} {outB / (1 << 20),8:F1} alloc {alloc / (double)(1 << 20),8:F1} est {est / (1 << 20),8:F1}{(under ? " UNDER" : "")} live {(after - baseHeap) / (double)(1 << 20),8:F1} (est {st.LiveBefore / (1 << 20):F1} before) MiB  in {ins} y.strides ({string.Join(",", y.Strides)})");
        }
        Console.WriteLine($"measured: peak live {peakLive / (1 << 20):F1} MiB, peak live+alloc {peakTrans / (1 << 20):F1} MiB (base {baseHeap / (1 << 20):F1} MiB); equations allocating > 1 MiB over their estimate: {underCount}");
        return 0;
    }
}

/// <summary><c>jc-mem-run N [--vmap none] [--impl jc|sd|vp] [--budget BYTES] [--fcn]</c>: the seed CNN's NTK as <c>nt kernel --out K.npy</c>
/// computes it (Empirical.Tiled, WriteNpy), with a sampler thread recording RSS, the GC's committed bytes and heap size
/// every 2 ms, and the JacobianContraction phases; prints the timeline around the RSS peak.</summary>
internal static class JcMemRun
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 && int.TryParse(args[0], out var nn) ? nn : 20;
        bool vmap = !(args.Contains("--vmap") && args[Array.IndexOf(args, "--vmap") + 1] == "none");
        long budget = args.Contains("--budget") ? long.Parse(args[Array.IndexOf(args, "--budget") + 1]) : 4L << 30;
        string impl = args.Contains("--impl") ? args[Array.IndexOf(args, "--impl") + 1] : "jc";
        var (net, x) = Nets.Pick(args, n);
        var p = net.Init(3, x.Shape, x.DType).Params;
        var im = impl switch { "sd" => NtkImplementation.StructuredDerivatives, "vp" => NtkImplementation.NtkVectorProducts, _ => NtkImplementation.JacobianContraction };
        var tiled = Empirical.Tiled(net.Apply, x, null, p, [KernelKind.Ntk], [-1], [], vmap ? 0 : null, im, new KernelOptions { MemoryBudget = budget });
        Console.WriteLine($"plan {tiled.Plan}, estimated {tiled.EstimatedPeakBytes / (1 << 20):F1} MiB");
        var samples = new List<(double T, long Rss, long Committed, long Heap, string Phase, int Gen2)>();
        string phase = "start";
        var sw = Stopwatch.StartNew();
        bool stop = false;
        JacobianContraction.Profiler = (ph, s, f) => phase = ph == "jacobian" ? "contract" : "jacobian";
        var th = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                var info = GC.GetGCMemoryInfo();
                samples.Add((sw.Elapsed.TotalMilliseconds, Rss(), info.TotalCommittedBytes, GC.GetTotalMemory(false), phase, GC.CollectionCount(2)));
                Thread.Sleep(2);
            }
        }) { IsBackground = true };
        th.Start();
        var path = Path.Combine(Path.GetTempPath(), $"jcmem-{Environment.ProcessId}.npy");
        tiled.WriteNpy(path);
        Volatile.Write(ref stop, true); th.Join();
        File.Delete(path);
        var peak = samples.MaxBy(s => s.Rss);
        int i = samples.IndexOf(peak);
        double M(long b) => b / (double)(1 << 20);
        Console.WriteLine($"peak RSS {M(peak.Rss):F0} MiB at {peak.T:F0} ms; max committed {M(samples.Max(s => s.Committed)):F0}, max heap {M(samples.Max(s => s.Heap)):F0} MiB; process peak {M(Process.GetCurrentProcess().PeakWorkingSet64):F0} MiB");
        int step = Math.Max(1, samples.Count / 60);
        if (args.Contains("--around"))
        {
            // Every sample from 400 ms before the peak to 100 ms after it.
            for (int k = 0; k < samples.Count; k++)
                if (samples[k].T >= peak.T - 400 && samples[k].T <= peak.T + 100)
                    Console.WriteLine($"{samples[k].T,8:F0} ms rss {M(samples[k].Rss),6:F0} committed {M(samples[k].Committed),6:F0} heap {M(samples[k].Heap),6:F0} gen2 {samples[k].Gen2,4}");
            return 0;
        }
        for (int k = 0; k < samples.Count; k += step)
            Console.WriteLine($"{samples[k].T,8:F0} ms rss {M(samples[k].Rss),6:F0} committed {M(samples[k].Committed),6:F0} heap {M(samples[k].Heap),6:F0} gen2 {samples[k].Gen2,4} {samples[k].Phase}");
        return 0;
    }

    private static long Rss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }
}

/// <summary>The probes' networks: the seed CNN (default; x (N,32,32,3) float32), <c>--fcn</c> the seed FCN (Flatten,
/// Dense(1024), Relu, Dense(1024), Relu, Dense(100)) on the same inputs, <c>--digits</c> the digits FCN (Dense(512), Relu,
/// Dense(512), Relu, Dense(10); x (N,64) float64 uniform in [0,1), like optdigits / 16).</summary>
internal static class Nets
{
    public static (NeuralTangents.Stax.Layer Net, Tensor X) Pick(string[] args, int n)
    {
        if (args.Contains("--digits"))
        {
            var rng = new Random(0);
            var xs = new double[n * 64];
            for (int i = 0; i < xs.Length; i++) xs[i] = rng.Next(17) / 16.0;
            return (Serial(Dense(512, 1.5, 0.05), Relu(), Dense(512, 1.5, 0.05), Relu(), Dense(10, 1.5, 0.05)), Tensor.Wrap(xs, new Shape(n, 64)));
        }
        var x = Tensor.RandomNormal(new Random(0), new Shape(n, 32, 32, 3), DType.Float32);
        if (args.Contains("--fcn")) return (Serial(Flatten(), Dense(1024), Relu(), Dense(1024), Relu(), Dense(100)), x);
        return (Serial(Conv(32, [3, 3]), Relu(), Conv(32, [3, 3]), Relu(), Conv(32, [3, 3]), Flatten(), Dense(10)), x);
    }
}

/// <summary><c>vp-mem N [--budget BYTES] [--all]</c>: NtkVectorProducts' pair plan on the seed CNN (x (N,32,32,3) float32,
/// vmap 0) and, per equation of one full block's staged evaluation (the fused graph's known part, then its unknown
/// part with the residuals held), the live heap after a forced collection and the bytes each equation allocated,
/// against <see cref="GraphCost.PeakBytes"/> of the planned graph.</summary>
internal static class VpMemProbe
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 && int.TryParse(args[0], out var nn) ? nn : 20;
        long budget = args.Contains("--budget") ? long.Parse(args[Array.IndexOf(args, "--budget") + 1]) : 4L << 30;
        var net = Serial(Conv(32, [3, 3]), Relu(), Conv(32, [3, 3]), Relu(), Conv(32, [3, 3]), Flatten(), Dense(10));
        var x = Tensor.RandomNormal(new Random(0), new Shape(n, 32, 32, 3), DType.Float32);
        var p = net.Init(3, x.Shape, DType.Float32).Params;
        var req = KernelRequest.ForOutputs(new TracedApply(net.Apply), p, [x], null, [KernelAxes.Canonicalize([-1], [], 2)],
            0, budget, SdRules.All)[0];
        var plan = NtkVectorProducts.PlanPairs(req);
        double M(double b) => b / (1 << 20);
        var fused = NeuralTangents.Autodiff.Ad.Fuse(plan.Graph);
        var staged = NeuralTangents.Autodiff.Ad.Linearize(fused, NeuralTangents.Autodiff.Masks.From(plan.Graph.Inputs.Count, p.Count + 1));
        Console.WriteLine($"plan c1 {plan.C1} c2 {plan.C2} cb {plan.Cb}: PeakBytes(simplified) {M(plan.PeakBytes):F1} MiB, PeakBytes(fused) {M(GraphCost.PeakBytes(fused)):F1}, known {M(GraphCost.PeakBytes(staged.Known)):F1}, unknown {M(GraphCost.PeakBytes(staged.Unknown)):F1}, residuals {M(staged.Unknown.Inputs.Take(staged.ResidualCount).Sum(v => v.Type.Shape.Elements * (double)v.Type.DType.SizeOf())):F1} MiB");
        var b = req.Batching1!;
        var a1 = b.Stack(req.X1, 0, plan.C1);
        var residuals = Walk(staged.Known, p.Values.Concat(a1).ToArray(), "known", args.Contains("--all"));
        var basis = StandardBasis.Of(plan.Out2.Shape, plan.Out2.DType, 0, plan.Cb);
        Walk(staged.Unknown, residuals.Concat(b.Stack(req.X1, 0, plan.C2)).Append(basis).ToArray(), "unknown", args.Contains("--all"));
        return 0;
    }

    private static Tensor[] Walk(Graph g, Tensor[] inputs, string tag, bool all)
    {
        var env = new Tensor?[g.VarCount];
        for (int i = 0; i < inputs.Length; i++) env[g.Inputs[i].Id] = inputs[i];
        var last = Interpreter.LastUses(g);
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        long baseHeap = GC.GetTotalMemory(true);
        double peakLive = 0, peakTrans = 0;
        for (int k = 0; k < g.Equations.Count; k++)
        {
            var e = g.Equations[k];
            var a = e.Inputs.Select(t => t is Literal l ? l.Value : env[((Var)t).Id]!).ToArray();
            long before = GC.GetTotalMemory(true);
            long alloc0 = GC.GetTotalAllocatedBytes(true);
            var y = e.Primitive.Evaluate(a, ComputeBackend.Cpu);
            long alloc = GC.GetTotalAllocatedBytes(true) - alloc0;
            env[e.Output.Id] = y;
            foreach (var at in e.Inputs) if (at is Var v && last[v.Id] == k && !g.Inputs.Contains(v)) env[v.Id] = null;
            if (last[e.Output.Id] < 0) env[e.Output.Id] = null;
            a = null;
            long after = GC.GetTotalMemory(true);
            double outB = e.Output.Type.Shape.Elements * e.Output.Type.DType.SizeOf();
            peakLive = Math.Max(peakLive, after - baseHeap);
            peakTrans = Math.Max(peakTrans, before - baseHeap + alloc);
            if (alloc > 4 << 20 || all)
                Console.WriteLine($"{tag} {k,4} {e.Primitive.GetType().Name.Replace("Primitive", ""),-18} out {e.Output.Type.Shape,-28} {outB / (1 << 20),8:F1} alloc {alloc / (double)(1 << 20),8:F1} live {(after - baseHeap) / (double)(1 << 20),8:F1} MiB  in {string.Join(" ", e.Inputs.Select(t => t is Var v ? v.Type.Shape.ToString() : "lit"))}");
        }
        Console.WriteLine($"{tag}: {g.Equations.Count} equations, PeakBytes {GraphCost.PeakBytes(g) / (1 << 20):F1} MiB; measured peak live {peakLive / (1 << 20):F1} MiB, peak live+alloc {peakTrans / (1 << 20):F1} MiB (base {baseHeap / (1 << 20):F1} MiB, inputs included)");
        return g.Outputs.Select(o => o is Literal l ? l.Value : env[((Var)o).Id]!).ToArray();
    }
}
