using System.Diagnostics;
using NeuralTangents.Implementations;
using NeuralTangents.Tensors;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Perf;

/// <summary>
/// <c>jc-probe N [--budget BYTES] [--reps R]</c>: the digits FCN 64-512-512-10 (float64, W_std 1.5, b_std 0.05) NTK by
/// JacobianContraction on N random inputs (x2 = null, vmap axes 0, trace axes [-1]), with per-chunk times of the
/// Jacobian and of the contraction, the contraction's GFLOP/s against a 1024³ DGEMM in the same process, and peak RSS.
/// </summary>
internal static class JcProbe
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 100;
        int reps = (int)Opt(args, "--reps", 2);
        long budget = (long)Opt(args, "--budget", 4L << 30);
        var net = Serial(Dense(512, wStd: 1.5, bStd: 0.05), Relu(), Dense(512, wStd: 1.5, bStd: 0.05), Relu(), Dense(10, wStd: 1.5, bStd: 0.05));
        var x = Tensor.RandomNormal(new Random(0), new Shape(n, 64), DType.Float64);
        var p = net.Init(0, x.Shape, DType.Float64).Params;
        var opts = new KernelOptions { MemoryBudget = budget };
        if (args.Contains("--layouts"))
        {
            var req = KernelRequest.ForOutputs(new TracedApply(net.Apply), p, [x], null, [KernelAxes.Canonicalize([-1], [], 2)], 0, budget, SdRules.All)[0];
            var plan = JacobianChunkPlan.For(req);
            Console.WriteLine($"trace axis {plan.TraceAxis}, peak {plan.PeakBytes / 1e6:F0} MB, {plan.Flops / 1e9:F1} GFLOP");
            for (int c = 0; c < plan.Chunks.Count; c++)
            {
                var ch = plan.Chunks[c];
                if (args.Contains("--graph") && c == 1) Console.WriteLine(JacobianChunkPlan.Evaluation(p, plan.S1, ch, plan.TraceAxis, plan.Parts[c].Part1));
                var js = plan.Jacobians(plan.S1, c, false, req.Backend);
                Console.WriteLine($"chunk {c}: leaves [{string.Join(",", ch.Leaves)}] t {ch.T0}+{ch.Tc} part {plan.Parts[c].Part1}: " +
                    string.Join("; ", js.Select(j => $"{j.Shape} strides ({string.Join(",", j.Strides)}) off {j.Offset} storage {j.Storage.Length}")));
            }
            return 0;
        }
        double gemm = GemmRate();
        Console.WriteLine($"DGEMM 1024³: {gemm:F1} GFLOP/s (this process, {Environment.ProcessorCount} cores)");
        for (int rep = 0; rep < reps; rep++)
        {
            double jac = 0, con = 0, conFlops = 0, cpu0 = Cpu(); int chunks = 0;
            JacobianContraction.Profiler = (phase, s, f) => { if (phase == "jacobian") { jac += s; chunks++; } else { con += s; conFlops += f; } };
            var sw = Stopwatch.StartNew();
            var k = Empirical.NtkFn(net.Apply, null, null, 0, NtkImplementation.JacobianContraction, opts)(x, null, p);
            double total = sw.Elapsed.TotalSeconds;
            JacobianContraction.Profiler = null;
            if (rep == reps - 1) Console.WriteLine($"DGEMM 1024³ after the runs: {GemmRate():F1} GFLOP/s");
            Console.WriteLine($"rep {rep}: {total:F2} s (cpu {(Cpu() - cpu0) / 1000:F1} s), {chunks} chunks: jacobians {jac:F2} s, contraction {con:F2} s = {conFlops / 1e9:F0} GFLOP at {conFlops / con / 1e9:F1} GFLOP/s ({conFlops / con / 1e9 / gemm * 100:F0} % of DGEMM); K[0,0] {k[0, 0]:G6}; peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
        }
        return 0;
    }

    private static double Cpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;

    private static double GemmRate()
    {
        int m = 1024;
        var a = Tensor.RandomNormal(new Random(1), new Shape(m, m), DType.Float64);
        var dims = new DotDimensionNumbers([1], [0], [], []);
        // Past tier-0 JIT (a few warm calls), then the median of 7: one timed call right after start-up read 69 GFLOP/s
        // where the steady rate is about twice that.
        for (int i = 0; i < 5; i++) DotGeneral.Compute(a, a, dims);
        var times = new double[7];
        for (int i = 0; i < times.Length; i++)
        {
            var sw = Stopwatch.StartNew();
            DotGeneral.Compute(a, a, dims);
            times[i] = sw.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return 2.0 * m * m * m / times[times.Length / 2] / 1e9;
    }

    private static long Opt(string[] args, string name, long d)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? long.Parse(args[i + 1]) : d;
    }
}
