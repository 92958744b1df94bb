using System.Diagnostics;
using NeuralTangents.Tensors;

namespace NeuralTangents.Perf;

/// <summary>Stopwatch timing of square GEMMs (best of several runs).</summary>
internal static class QuickGemm
{
    public static void Run(int[] sizes)
    {
        if (sizes.Length == 0) sizes = [256, 1024];
        foreach (var n in sizes)
        {
            Time<float>(n);
            Time<double>(n);
        }
    }

    private static void Time<T>(int n) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(1);
        var a = new T[n * n];
        var b = new T[n * n];
        var c = new T[n * n];
        for (int i = 0; i < a.Length; i++) { a[i] = T.CreateTruncating(rng.NextDouble()); b[i] = T.CreateTruncating(rng.NextDouble()); }
        foreach (int dop in new[] { 1, Environment.ProcessorCount })
        {
            Blas.MaxDegreeOfParallelism = dop;
            double best = double.MaxValue, bestCpu = double.MaxValue;
            var total = Stopwatch.StartNew();
            var proc = Process.GetCurrentProcess();
            for (int r = 0; r < 50 && (r < 3 || total.Elapsed.TotalSeconds < 3); r++)
            {
                proc.Refresh();
                var cpu0 = proc.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                Blas.Gemm<T>(n, n, n, a, n, false, b, n, false, c, n);
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
                proc.Refresh();
                bestCpu = Math.Min(bestCpu, (proc.TotalProcessorTime - cpu0).TotalSeconds);
            }
            // CPU time is a steadier yardstick than wall time on a shared, loaded machine.
            Console.WriteLine($"{typeof(T).Name,-7} n={n,5} threads={dop} best={best * 1e3,9:F3} ms  {2.0 * n * n * n / best / 1e9,7:F2} GFLOP/s wall, {2.0 * n * n * n / bestCpu / 1e9 * dop,7:F2} GFLOP/s per-cpu-time x threads");
        }
    }
}
