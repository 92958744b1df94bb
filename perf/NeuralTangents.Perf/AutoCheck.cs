using System.Diagnostics;
using System.Globalization;

namespace NeuralTangents.Perf;

/// <summary>
/// <c>auto-check [--reps R] [--only NET] [--extended]</c>: issue 4's check of the AUTO cost model. For each reference workload it
/// asks <see cref="Empirical.ExplainNtk"/> for the choice, times every implementation that fits the memory budget
/// (Stopwatch, median of R calls after a warm-up call, VmapAxes = 0, float32) unless its estimate is over
/// <see cref="SkipFactor"/> times the cheapest one (NtkVectorProducts on the digits FCN: 40 TFLOP, hours here), and
/// fails (exit code 1) unless the chosen implementation is the fastest or within 20 % of it.
/// </summary>
internal static class AutoCheck
{
    /// <summary>Implementations estimated this many times costlier than the cheapest that fits are not timed.</summary>
    public const double SkipFactor = 20;

    public static int Run(string[] args)
    {
        int reps = Math.Max(1, args.SkipWhile(a => a != "--reps").Skip(1).Select(int.Parse).FirstOrDefault(3));
        string? only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"# auto-check {DateTime.Now:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine("| Network | Implementation | est. GFLOP | est. peak MiB | fits | median (s) | chosen |");
        Console.WriteLine("|---|---|---:|---:|---|---:|---|");
        bool ok = true;
        var nets = only is not null ? new[] { only }
            : args.Contains("--extended") ? new[] { "cnn", "fcn", "digits" }.Concat(NtkWorkload.Extended).ToArray() : new[] { "cnn", "fcn", "digits" };
        foreach (var net in nets)
        {
            var w = NtkWorkload.Create(net);
            var explanation = w.Explain(vmap: true);
            var times = new Dictionary<NtkImplementation, double>();
            double cheapest = explanation.Estimates.Where(e => e.FitsBudget).Min(e => e.Flops);
            foreach (var e in explanation.Estimates)
            {
                double? median = null;
                if (e.FitsBudget && e.Flops <= SkipFactor * cheapest)
                {
                    var fn = w.Fn(e.Implementation, vmap: true);
                    w.Run(fn);   // warm-up: tracing
                    var t = Enumerable.Range(0, reps).Select(_ => { var sw = Stopwatch.StartNew(); w.Run(fn); return sw.Elapsed.TotalSeconds; }).Order().ToArray();
                    median = t[t.Length / 2];
                    times[e.Implementation] = median.Value;
                }
                Console.WriteLine(string.Format(inv, "| {0} | {1} | {2:F1} | {3:F0} | {4} | {5} | {6} |", net, e.Implementation, e.Flops / 1e9, e.PeakBytes / (1 << 20),
                    e.FitsBudget ? "yes" : "no", median is { } m ? m.ToString("F2", inv) : e.FitsBudget ? $"not run (est. > {SkipFactor}× cheapest)" : "not run (over budget)", e.Implementation == explanation.Chosen ? "**AUTO**" : ""));
            }
            if (times.Count == 0) { Console.WriteLine($"| {net} | nothing fits the budget | | | | | FAIL |"); ok = false; continue; }
            double fastest = times.Values.Min();
            double chosen = times.TryGetValue(explanation.Chosen, out var c) ? c : double.PositiveInfinity;
            bool pass = chosen <= 1.2 * fastest;
            ok &= pass;
            Console.WriteLine(string.Format(inv, "| {0} | AUTO → {1} | | | | {2:F2} / fastest {3:F2} = {4:F2} | {5} |", net, explanation.Chosen, chosen, fastest, chosen / fastest, pass ? "PASS" : "FAIL"));
        }
        return ok ? 0 : 1;
    }
}
