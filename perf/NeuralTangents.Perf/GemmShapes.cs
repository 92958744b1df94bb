using System.Diagnostics;
using System.Globalization;
using NeuralTangents.Tensors;

namespace NeuralTangents.Perf;

/// <summary>
/// `gemm-shapes [--reps R] [--threads 1,2] [MxNxK[tn]...]`: Stopwatch medians of <c>Blas.Gemm</c> at the shapes the Dense
/// NTKs use (the default list is logged from NTK-VP's seed-FCN block and SD's digits FCN), interleaved with 1024³ so
/// every ratio comes from the same moments of a shared machine. A suffix of two letters gives op(A), op(B): n or t.
/// </summary>
internal static class GemmShapes
{
    private static readonly string[] Default =
    [
        "1024x1024x1024nn", "500x1024x1024nn", "100x1024x1024nn", "500x100x1024nn", "500x1024x1024nt", "500x1024x1024tn",
        "1797x1797x512nt", "1797x512x1797nn", "1797x512x512nn", "64x512x1797tn", "512x512x1797tn",
    ];

    public static int Run(string[] args)
    {
        int reps = QuickNtk.IntOpt(args, "--reps", 9);
        var threads = (Opt(args, "--threads") ?? $"1,{Environment.ProcessorCount}").Split(',').Select(int.Parse).ToArray();
        bool f64 = args.Contains("--f64");
        var shapes = args.Where(a => char.IsDigit(a[0]) && a.Contains('x')).ToArray();
        if (shapes.Length == 0) shapes = Default;
        var specs = shapes.Select(Parse).ToArray();
        var inv = CultureInfo.InvariantCulture;
        foreach (int dop in threads)
        {
            // Round-robin over shapes, reps times, so load changes hit all shapes alike.
            var times = specs.Select(_ => new List<double>()).ToArray();
            var cpus = specs.Select(_ => new List<double>()).ToArray();
            var proc = Process.GetCurrentProcess();
            var ops = specs.Select(s => f64 ? (Action)Make<double>(s) : Make<float>(s)).ToArray();
            foreach (var op in ops) { Blas.MaxDegreeOfParallelism = dop; op(); }
            for (int r = 0; r < reps; r++)
                for (int i = 0; i < specs.Length; i++)
                {
                    Blas.MaxDegreeOfParallelism = dop;
                    proc.Refresh();
                    var cpu0 = proc.TotalProcessorTime;
                    var sw = Stopwatch.StartNew();
                    ops[i]();
                    times[i].Add(sw.Elapsed.TotalSeconds);
                    proc.Refresh();
                    cpus[i].Add((proc.TotalProcessorTime - cpu0).TotalSeconds);
                }
            double refRate = 0, refCpu = 0;
            for (int i = 0; i < specs.Length; i++)
            {
                var t = times[i].OrderBy(v => v).ToList();
                double med = t[t.Count / 2], flops = 2.0 * specs[i].M * specs[i].N * specs[i].K;
                double cpu = cpus[i].OrderBy(v => v).ElementAt(cpus[i].Count / 2);
                if (i == 0) { refRate = flops / med; refCpu = flops / cpu; }
                // CPU time (all threads; it includes Parallel.For's spinning) is steadier than wall time on a loaded machine.
                Console.WriteLine(string.Format(inv, "{0} threads={1} {2,-18} median {3,8:F3} ms [{4:F3}–{5:F3}]  {6,6:F1} GFLOP/s ({7:F2}× {8}); per CPU-second {9,6:F1} GFLOP/s ({10:F2}×)",
                    f64 ? "f64" : "f32", dop, shapes[i], med * 1e3, t[0] * 1e3, t[^1] * 1e3, flops / med / 1e9, flops / med / refRate, shapes[0],
                    flops / cpu / 1e9, flops / cpu / refCpu));
            }
        }
        return 0;
    }

    private readonly record struct Spec(int M, int N, int K, bool TA, bool TB);

    private static Spec Parse(string s)
    {
        string dims = s.TrimEnd('n', 't');
        string ops = s[dims.Length..].PadRight(2, 'n');
        var d = dims.Split('x').Select(int.Parse).ToArray();
        return new Spec(d[0], d[1], d[2], ops[0] == 't', ops[1] == 't');
    }

    private static Action Make<T>(Spec s) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(1);
        var a = new T[s.M * s.K];
        var b = new T[s.K * s.N];
        var c = new T[s.M * s.N];
        for (int i = 0; i < a.Length; i++) a[i] = T.CreateTruncating(rng.NextDouble());
        for (int i = 0; i < b.Length; i++) b[i] = T.CreateTruncating(rng.NextDouble());
        int lda = s.TA ? s.M : s.K, ldb = s.TB ? s.K : s.N;
        return () => Blas.Gemm<T>(s.M, s.N, s.K, a, lda, s.TA, b, ldb, s.TB, c, s.N);
    }

    private static string? Opt(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
