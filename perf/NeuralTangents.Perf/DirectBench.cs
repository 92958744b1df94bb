using System.Diagnostics;
using NeuralTangents.Tensors;

namespace NeuralTangents.Perf;

/// <summary><c>direct-bench</c>: single-threaded unpacked (<see cref="Blas.GemmDirect"/>) vs packed GEMM at conv shapes.</summary>
internal static class DirectBench
{
    public static int Run(string[] args)
    {
        Blas.MaxDegreeOfParallelism = 1;
        foreach (var (m, n, k) in new[] { (222, 32, 288), (1200, 32, 288), (222, 32, 27), (1200, 32, 27), (288, 32, 1200), (288, 320, 784) })
        {
            var rng = new Random(1);
            var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
            for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble();
            for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble();
            double T(Action f) { f(); var best = double.MaxValue; var tot = Stopwatch.StartNew(); for (int r = 0; r < 2000 && tot.Elapsed.TotalSeconds < 1; r++) { var sw = Stopwatch.StartNew(); f(); best = Math.Min(best, sw.Elapsed.TotalSeconds); } return best; }
            double fl = 2.0 * m * n * k;
            double td = T(() => Blas.GemmDirect<float>(m, n, k, a, k, 1, b, n, c, n, false, 1));
            double tp = T(() => Blas.Gemm<float>(m, n, k, a, k, false, b, n, false, c, n));
            Console.WriteLine($"m={m} n={n} k={k}: direct {fl / td / 1e9:F1} GFLOP/s, packed {fl / tp / 1e9:F1} GFLOP/s");
        }
        {
            var rng = new Random(1);
            var ct = Tensor.RandomNormal(rng, new Shape(200, 28, 28, 32), DType.Float32);
            var w = Tensor.RandomNormal(rng, new Shape(3, 3, 32, 32), DType.Float32);
            var x = Tensor.RandomNormal(rng, new Shape(200, 30, 30, 32), DType.Float32);
            var p = new ConvParams([1, 1], [(0, 0), (0, 0)], [1, 1], 1);
            var proc = Process.GetCurrentProcess();
            void T(string name, double fl, Action f)
            {
                f();
                var best = double.MaxValue; var bestCpu = double.MaxValue;
                for (int r = 0; r < 8; r++) { proc.Refresh(); var c0 = proc.TotalProcessorTime; var sw = Stopwatch.StartNew(); f(); best = Math.Min(best, sw.Elapsed.TotalSeconds); proc.Refresh(); bestCpu = Math.Min(bestCpu, (proc.TotalProcessorTime - c0).TotalSeconds); }
                Console.WriteLine($"{name}: best {best * 1e3:F1} ms {fl / best / 1e9:F1} GFLOP/s, cpu {bestCpu * 1e3:F1} ms");
            }
            double fl = 2.0 * 200 * 30 * 30 * 288 * 32;
            T("lhs (200,28,28,32)", fl, () => Conv.LhsTranspose(ct, w, x.Shape, p));
            T("fwd (200,30,30,32)", 2.0 * 200 * 28 * 28 * 288 * 32, () => Conv.Forward(x, w, p));
            var pa = new float[222 * 288]; var wb = w.ToArray<float>(); var y = new float[222 * 32];
            T("direct 811 x (222,32,288)", fl, () => { for (int t = 0; t < 811; t++) Blas.GemmDirect<float>(222, 32, 288, pa, 288, 1, wb, 32, y, 32, false, 1); });
            T("alloc 5.76M", 1, () => GC.KeepAlive(new float[5760000]));
            // The ∂f/∂y pass's mask product: (1, B, …) basis cotangents times (E, 1, …) masks, both broadcast.
            var basis = Tensor.RandomNormal(rng, new Shape(1, 10, 1, 28, 28, 32), DType.Float32).BroadcastInDim(new Shape(20, 10, 1, 28, 28, 32), [0, 1, 2, 3, 4, 5]);
            var mask = Tensor.RandomNormal(rng, new Shape(20, 1, 1, 28, 28, 32), DType.Float32).BroadcastInDim(new Shape(20, 10, 1, 28, 28, 32), [0, 1, 2, 3, 4, 5]);
            T("mul (20,10,1,28,28,32) both broadcast, in place", 1, () => Elementwise.Binary(BinaryOp.Mul, basis, mask));
            T("mul (20,10,1,28,28,32) both broadcast, materialised", 1, () => Elementwise.Binary(BinaryOp.Mul, basis.Contiguous(), mask.Contiguous()));
        }
        return 0;
    }
}
