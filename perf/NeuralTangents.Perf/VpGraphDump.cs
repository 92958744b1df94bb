using System.Diagnostics;
using System.Globalization;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Implementations;
using NeuralTangents.Tensors;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Perf;

/// <summary>
/// The seed page's NtkVectorProducts example (Flatten, Dense(1024), Relu, Dense(1024), Relu, Dense(100); x (5,32,32,3)
/// N(0,1); float32; vmapAxes 0; trace [-1]). <c>vp-graph [--opt [--fuse]]</c> prints its per-example-pair graph (unsimplified,
/// simplified, or fused as NtkVectorProducts evaluates it) with FLOPs and peak bytes; <c>vp-check [--reps K] [--n N]</c> times K warm calls against
/// the cost model's FLOPs at the SGEMM rate (1024³, all cores) measured in the same process before and after.
/// </summary>
internal static class VpGraphDump
{
    private static (Stax.Layer Net, Tensor X, Params P) Seed(int n = 5)
    {
        var net = Serial(Flatten(), Dense(1024), Relu(), Dense(1024), Relu(), Dense(100));
        var x = Tensor.RandomNormal(new Random(1), new Shape(n, 32, 32, 3), DType.Float32);
        return (net, x, net.Init(0, x.Shape, DType.Float32).Params);
    }

    public static int Run(string[] args)
    {
        var (net, x, p) = Seed();
        var g = NtkVectorProducts.DebugPairGraph(net.Apply, p, [x], 0, args.Contains("--opt"), args.Contains("--fuse"));
        Console.WriteLine(g);
        Console.WriteLine($"flops {GraphCost.Flops(g) / 1e9:F3} GFLOP largest {GraphCost.LargestBytes(g) / 1e6:F1} MB peak {GraphCost.PeakBytes(g) / 1e6:F1} MB");
        return 0;
    }

    /// <summary><c>vp-profile</c>: per-equation time of the simplified pair graph (median of 7 evaluations), slowest first.</summary>
    public static int Profile(string[] args)
    {
        var (net, x, p) = Seed();
        var g = NtkVectorProducts.DebugPairGraph(net.Apply, p, [x], 0, simplify: !args.Contains("--raw"), fuse: !args.Contains("--raw") && !args.Contains("--no-fuse"), c2: QuickNtk.IntOpt(args, "--c2", 1));
        var xs = x.Reshape(5, 1, 32, 32, 3);
        var basis = StandardBasis.Of(new Shape(1, 100), DType.Float32, 0, 100);
        var inputs = p.Values.Append(xs).Append(x.Slice([0, 0, 0, 0], [QuickNtk.IntOpt(args, "--c2", 1), 32, 32, 3]).Contiguous().Reshape(QuickNtk.IntOpt(args, "--c2", 1), 1, 32, 32, 3)).Append(basis).ToArray();
        var times = g.Equations.Select(_ => new List<double>()).ToArray();
        // As NtkVectorProducts runs it: outputs rented from a pool that gets them back after each evaluation (--no-pool: fresh arrays).
        var pool = new NeuralTangents.Tensors.BufferPool(1L << 30);
        using var scope = args.Contains("--no-pool") ? null : NeuralTangents.Tensors.BufferPool.Use(pool);
        var inputArrays = new HashSet<Array>(inputs.Select(t => t.Storage), ReferenceEqualityComparer.Instance);
        for (int rep = 0; rep < 8; rep++)
        {
            var env = new Tensor?[g.VarCount];
            for (int i = 0; i < inputs.Length; i++) env[g.Inputs[i].Id] = inputs[i];
            for (int k = 0; k < g.Equations.Count; k++)
            {
                var e = g.Equations[k];
                var a = e.Inputs.Select(t => t is Literal l ? l.Value : env[((Var)t).Id]!).ToArray();
                var sw = Stopwatch.StartNew();
                env[e.Output.Id] = e.Primitive.Evaluate(a);
                if (rep > 0) times[k].Add(sw.Elapsed.TotalSeconds);
            }
            var outs = new HashSet<Array>(ReferenceEqualityComparer.Instance);
            foreach (var e in g.Equations) if (env[e.Output.Id] is { } t && !inputArrays.Contains(t.Storage)) outs.Add(t.Storage);
            foreach (var a in outs) pool.Return(a);
        }
        double total = 0;
        var rows = g.Equations.Select((e, k) =>
        {
            var t = times[k].OrderBy(v => v).ToList();
            double med = t[t.Count / 2];
            total += med;
            return (e, med, flops: e.Primitive.Flops(e.Inputs.Select(i => i.Type).ToArray(), e.Output.Type));
        }).OrderByDescending(r => r.med).ToList();
        foreach (var (e, med, flops) in rows.Take(int.Parse(args.FirstOrDefault(a => char.IsDigit(a[0])) ?? "15")))
            Console.WriteLine(FormattableString.Invariant($"{med * 1e3,9:F2} ms {flops / med / 1e9,7:F1} GFLOP/s  {e.ToString()[..Math.Min(150, e.ToString().Length)]}"));
        Console.WriteLine(FormattableString.Invariant($"total {total * 1e3:F1} ms, {GraphCost.Flops(g) / 1e9:F2} GFLOP"));
        return 0;
    }

    public static int Check(string[] args)
    {
        int reps = QuickNtk.IntOpt(args, "--reps", 15);
        var inv = CultureInfo.InvariantCulture;
        var (net, x, p) = Seed(QuickNtk.IntOpt(args, "--n", 5));
        var est = Empirical.ExplainNtk(net.Apply, x, null, p, vmapAxes: 0).Estimates.Single(e => e.Implementation == NtkImplementation.NtkVectorProducts);
        double gemm0 = Gemm();
        var fn = Empirical.NtkFn(net.Apply, vmapAxes: 0, implementation: NtkImplementation.NtkVectorProducts);
        var sw = Stopwatch.StartNew();
        fn(x, null, p);
        double first = sw.Elapsed.TotalSeconds;
        var times = new List<double>();
        long a0 = GC.GetTotalAllocatedBytes(true), f0 = PeerCompare.MinorFaults();
        int g0 = GC.CollectionCount(2);
        for (int r = 0; r < reps; r++) { sw.Restart(); fn(x, null, p); times.Add(sw.Elapsed.TotalSeconds); }
        double perCall = 1.0 / reps;
        Console.WriteLine(string.Format(inv, "vp-check: per warm call {0:F1} MB allocated, {1:F2} full GCs, {2:F0} minor page faults",
            (GC.GetTotalAllocatedBytes(true) - a0) * perCall / 1e6, (GC.CollectionCount(2) - g0) * perCall, (PeerCompare.MinorFaults() - f0) * perCall));
        double gemm1 = Gemm();
        times.Sort();
        double median = times[times.Count / 2], rate = (gemm0 + gemm1) / 2;
        double model = est.Flops / rate;
        Console.WriteLine(string.Format(inv, "vp-check: cost model {0:F2} GFLOP, est. peak {1:F1} MiB; SGEMM 1024³ {2:F0} / {3:F0} GFLOP/s (before/after) → model time {4:F4} s",
            est.Flops / 1e9, est.PeakBytes / (1 << 20), gemm0 / 1e9, gemm1 / 1e9, model));
        Console.WriteLine(string.Format(inv, "vp-check: first call {0:F3} s; {1} warm calls median {2:F4} s [{3:F4}–{4:F4}]; median / model = {5:F2}; peak working set {6} MB",
            first, reps, median, times[0], times[^1], median / model, Process.GetCurrentProcess().PeakWorkingSet64 >> 20));
        return 0;
    }

    /// <summary>SGEMM 1024³ FLOP/s with all cores, median of 9 runs after a warm-up.</summary>
    private static double Gemm()
    {
        const int n = 1024;
        var rng = new Random(1);
        var a = new float[n * n]; var b = new float[n * n]; var c = new float[n * n];
        for (int i = 0; i < a.Length; i++) { a[i] = (float)rng.NextDouble(); b[i] = (float)rng.NextDouble(); }
        Blas.Gemm<float>(n, n, n, a, n, false, b, n, false, c, n);
        var t = new List<double>();
        for (int r = 0; r < 9; r++)
        {
            var sw = Stopwatch.StartNew();
            Blas.Gemm<float>(n, n, n, a, n, false, b, n, false, c, n);
            t.Add(sw.Elapsed.TotalSeconds);
        }
        t.Sort();
        return 2.0 * n * n * n / t[t.Count / 2];
    }
}
