using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using NeuralTangents.Cuda;
using NeuralTangents.Tensors;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Perf;

/// <summary>
/// <c>gpu-gemm</c>: a short cuBLAS check for a GPU machine (not a BenchmarkDotNet run). Prints the CUDA setup,
/// checks small GEMMs and a batched dot_general against float64 CPU references, then measures square GEMM
/// throughput on device-resident buffers (float32 default/pedantic/TF32, float64), a strided-batched GEMM, and
/// one host-to-host GEMM including transfers; then the seed page's CNN NTK per implementation on the GPU
/// (<see cref="CnnCheck"/>) and on the CPU. Exit code 0 = all checks passed, 1 = a check failed,
/// 2 = CUDA unavailable. Options: <c>--size N</c> (default 4096), <c>--seconds S</c> per measurement (default 2),
/// <c>--skip-gemm</c>, <c>--cnn N</c> (default 128; 0 skips the CNN), <c>--cnn-budget S</c> seconds per
/// implementation (default 80), <c>--cpu-only</c> (the CNN part on the CPU alone, to check the harness without a GPU).
/// </summary>
public static class GpuCheck
{
    public static int Run(string[] args)
    {
        int size = IntOption(args, "--size", 4096);
        double seconds = double.Parse(Option(args, "--seconds") ?? "2", CultureInfo.InvariantCulture);
        int cnnN = IntOption(args, "--cnn", 128);
        double cnnBudget = double.Parse(Option(args, "--cnn-budget") ?? "80", CultureInfo.InvariantCulture);
        Console.WriteLine($"[gpu-gemm] {CudaRuntime.Describe()}");
        if (args.Contains("--cpu-only")) return CnnCheck.Run(cnnN, cnnBudget, gpu: false);
        if (!CudaRuntime.IsAvailable) return 2;
        if (args.Contains("--skip-gemm")) return cnnN > 0 ? CnnCheck.Run(cnnN, cnnBudget, gpu: true) : 0;
        var (free, total) = CudaRuntime.State.MemoryInfo(0);
        Console.WriteLine($"[gpu-gemm] device 0 memory: {free / (1 << 20)} MiB free of {total / (1 << 20)} MiB");

        int failures = 0;
        failures += CheckSmall<float>(1e-5, CublasMath.Default);
        failures += CheckSmall<double>(1e-13, CublasMath.Default);
        failures += CheckDotGeneral();

        failures += Measure<float>(size, CublasMath.Default, seconds, 1e-5);
        failures += Measure<float>(size, CublasMath.Pedantic, seconds, 1e-5);
        failures += Measure<float>(size, CublasMath.Tf32TensorOp, seconds, 1e-2);
        failures += Measure<double>(size, CublasMath.Default, seconds, 1e-13);
        MeasureBatched<float>(64, 512, seconds);
        MeasureBatched<double>(64, 512, seconds);
        MeasureHostRoundTrip<float>(Math.Min(size, 2048));
        Console.WriteLine(failures == 0 ? "[gpu-gemm] all checks passed" : $"[gpu-gemm] {failures} check(s) FAILED");
        if (cnnN > 0 && CnnCheck.Run(cnnN, cnnBudget, gpu: true) != 0) failures++;
        return failures == 0 ? 0 : 1;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int IntOption(string[] args, string name, int dflt) =>
        Option(args, name) is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : dflt;

    private static T[] RandomArray<T>(Random rng, long n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new T[n];
        for (long i = 0; i < n; i++) a[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>All four transpose combinations with padded leading dimensions, against a full float64 reference.</summary>
    private static int CheckSmall<T>(double tol, CublasMath math) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int fails = 0;
        var rng = new Random(1);
        const int m = 123, n = 77, k = 301, pad = 3;
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
            var a = RandomArray<T>(rng, (long)(ta ? k : m) * lda);
            var b = RandomArray<T>(rng, (long)(tb ? n : k) * ldb);
            var c = new T[m * ldc];
            CudaBlas.Gemm<T>(m, n, k, a, lda, ta, b, ldb, tb, c, ldc, math: math);
            double worst = 0;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0, scale = 0;
                    for (int l = 0; l < k; l++)
                    {
                        double x = double.CreateChecked(ta ? a[l * lda + i] : a[i * lda + l]);
                        double y = double.CreateChecked(tb ? b[j * ldb + l] : b[l * ldb + j]);
                        s += x * y;
                        scale += Math.Abs(x * y);
                    }
                    worst = Math.Max(worst, Math.Abs(double.CreateChecked(c[i * ldc + j]) - s) / scale);
                }
            bool ok = worst <= tol;
            fails += ok ? 0 : 1;
            Console.WriteLine($"[gpu-gemm] check {typeof(T).Name} {m}x{n}x{k} transA={ta} transB={tb} {math}: max err/Σ|ab| = {worst:E2} (tol {tol:E0}) {(ok ? "ok" : "FAIL")}");
        }
        return fails;
    }

    private static int CheckDotGeneral()
    {
        var rng = new Random(2);
        var lhs = Tensor.RandomNormal(rng, new Shape(8, 33, 65));
        var rhs = Tensor.RandomNormal(rng, new Shape(65, 8, 17)).Transpose(1, 0, 2);   // (8, 65, 17)
        var c = CudaKernels.DotGeneral(lhs, rhs, [2], [1], [0], [0]).ToDoubleArray();
        double worst = 0;
        for (int b = 0; b < 8; b++)
            for (int i = 0; i < 33; i++)
                for (int j = 0; j < 17; j++)
                {
                    double s = 0, scale = 0;
                    for (int l = 0; l < 65; l++) { double p = lhs[b, i, l] * rhs[b, l, j]; s += p; scale += Math.Abs(p); }
                    worst = Math.Max(worst, Math.Abs(c[(b * 33 + i) * 17 + j] - s) / scale);
                }
        bool ok = worst <= 1e-13;
        Console.WriteLine($"[gpu-gemm] check dot_general (8,33,65)·(8,65,17) float64: max err/Σ|ab| = {worst:E2} {(ok ? "ok" : "FAIL")}");
        return ok ? 0 : 1;
    }

    /// <summary>n×n×n GEMM on device buffers: TFLOP/s over ~<paramref name="seconds"/>, then spot-checks 64 entries.</summary>
    private static int Measure<T>(int n, CublasMath math, double seconds, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(3);
        var a = RandomArray<T>(rng, (long)n * n);
        var b = RandomArray<T>(rng, (long)n * n);
        using var da = DeviceBuffer.FromHost<T>(a);
        using var db = DeviceBuffer.FromHost<T>(b);
        using var dc = DeviceBuffer.Allocate<T>((long)n * n);
        void Once() => CudaBlas.Gemm<T>(n, n, n, da, n, false, db, n, false, dc, n, math: math);
        Once();
        CudaRuntime.State.Synchronize(0);
        var sw = Stopwatch.StartNew();
        Once();
        CudaRuntime.State.Synchronize(0);
        int iters = Math.Clamp((int)(seconds / Math.Max(sw.Elapsed.TotalSeconds, 1e-6)), 3, 10000);
        sw.Restart();
        for (int i = 0; i < iters; i++) Once();
        CudaRuntime.State.Synchronize(0);
        double t = sw.Elapsed.TotalSeconds / iters;
        double tflops = 2.0 * n * n * (double)n / t / 1e12;

        var c = dc.ToArray<T>();
        double worst = 0;
        for (int s = 0; s < 64; s++)
        {
            int i = rng.Next(n), j = rng.Next(n);
            double sum = 0, scale = 0;
            for (int l = 0; l < n; l++) { double p = double.CreateChecked(a[(long)i * n + l]) * double.CreateChecked(b[(long)l * n + j]); sum += p; scale += Math.Abs(p); }
            worst = Math.Max(worst, Math.Abs(double.CreateChecked(c[(long)i * n + j]) - sum) / scale);
        }
        bool ok = worst <= tol;
        Console.WriteLine($"[gpu-gemm] {(typeof(T) == typeof(float) ? "sgemm" : "dgemm")} {n}^3 {math,-12}: {t * 1e3,8:F3} ms/iter, {tflops,7:F2} TFLOP/s ({iters} iters); spot err/Σ|ab| {worst:E2} {(ok ? "ok" : "FAIL")}");
        return ok ? 0 : 1;
    }

    private static void MeasureBatched<T>(int batch, int n, double seconds) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(4);
        long per = (long)n * n;
        using var da = DeviceBuffer.FromHost<T>(RandomArray<T>(rng, batch * per));
        using var db = DeviceBuffer.FromHost<T>(RandomArray<T>(rng, batch * per));
        using var dc = DeviceBuffer.Allocate<T>(batch * per);
        void Once() => CudaBlas.GemmStridedBatched<T>(batch, n, n, n, da, n, per, false, db, n, per, false, dc, n, per);
        Once();
        CudaRuntime.State.Synchronize(0);
        var sw = Stopwatch.StartNew();
        Once();
        CudaRuntime.State.Synchronize(0);
        int iters = Math.Clamp((int)(seconds / Math.Max(sw.Elapsed.TotalSeconds, 1e-6)), 3, 10000);
        sw.Restart();
        for (int i = 0; i < iters; i++) Once();
        CudaRuntime.State.Synchronize(0);
        double t = sw.Elapsed.TotalSeconds / iters;
        Console.WriteLine($"[gpu-gemm] {typeof(T).Name} strided-batched {batch} x {n}^3: {t * 1e3:F3} ms/iter, {2.0 * batch * n * n * (double)n / t / 1e12:F2} TFLOP/s ({iters} iters)");
    }

    /// <summary>Host spans in and out: what a CPU tensor pays to borrow the GPU for one GEMM.</summary>
    private static void MeasureHostRoundTrip<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(5);
        var a = RandomArray<T>(rng, (long)n * n);
        var b = RandomArray<T>(rng, (long)n * n);
        var c = new T[(long)n * n];
        CudaBlas.Gemm<T>(n, n, n, a, n, false, b, n, false, c, n);
        const int iters = 5;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < iters; i++) CudaBlas.Gemm<T>(n, n, n, a, n, false, b, n, false, c, n);
        double t = sw.Elapsed.TotalSeconds / iters;
        Console.WriteLine($"[gpu-gemm] {typeof(T).Name} host->host {n}^3 incl. transfers: {t * 1e3:F2} ms/iter, {2.0 * n * n * (double)n / t / 1e12:F2} TFLOP/s effective");
    }
}

/// <summary>
/// The seed page's CNN NTK (Conv(32,(3,3)), Relu, Conv(32,(3,3)), Relu, Conv(32,(3,3)), Flatten, Dense(10) on
/// (N, 32, 32, 3) float32, <c>vmap_axes=0</c>, traced over the logits) per implementation, on the GPU
/// (<c>Device.Cuda(0).Use()</c>) and on the CPU, comparing the two results. N doubles from 8 up to the target while
/// the next step is predicted (×4: the kernel has N² entries) to fit the per-implementation time budget, so the
/// whole check stays bounded; each line says which N was reached.
/// </summary>
internal static class CnnCheck
{
    private static readonly NtkImplementation[] Implementations =
        [NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives];

    public static int Run(int target, double budgetSeconds, bool gpu)
    {
        var net = Serial(Conv(32, [3, 3]), Relu(), Conv(32, [3, 3]), Relu(), Conv(32, [3, 3]), Flatten(), Dense(10));
        var all = Tensor.RandomNormal(new Random(1), new Shape(target, 32, 32, 3), DType.Float32);
        var p = net.Init(3, all.Shape, DType.Float32).Params;
        var gpuDevice = gpu ? Device.Cuda(0) : null;
        Console.WriteLine($"[cnn] seed CNN NTK, float32, target N={target}, budget {budgetSeconds:F0} s per implementation, {Environment.ProcessorCount} cores{(gpu ? ", GPU cuda:0 (" + CudaRuntime.GetDeviceName(0) + ")" : ", CPU only")}");
        int failures = 0;
        foreach (var impl in Implementations)
        {
            var fn = NeuralTangents.Empirical.NtkFn(net.Apply, vmapAxes: 0, implementation: impl);
            Tensor X(int n) => all.Slice([0, 0, 0, 0], [n, 32, 32, 3]);
            // Warm-up (JIT, CUDA context, cuBLAS handles, memory pool) at a tiny size.
            fn(X(2), null, p);
            if (gpuDevice is not null) using (gpuDevice.Use()) fn(X(2), null, p);
            var sw = Stopwatch.StartNew();
            double lastGpu = 0, lastCpu = 0;
            int prev = 0;
            for (int n = Math.Min(8, target); n <= target; n = n == target ? target + 1 : Math.Min(2 * n, target))
            {
                double scale = prev == 0 ? 0 : (double)n * n / ((double)prev * prev);
                double left = budgetSeconds - sw.Elapsed.TotalSeconds;
                if (prev > 0 && (lastGpu + lastCpu) * scale > left)
                {
                    Console.WriteLine($"[cnn] {impl,-22} N={n,4}: skipped (predicted {(lastGpu + lastCpu) * scale:F1} s > {left:F1} s left of the budget)");
                    break;
                }
                var x = X(n);
                Tensor? kg = null;
                double tg = 0;
                if (gpuDevice is not null)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    using (gpuDevice.Use()) kg = fn(x, null, p);
                    tg = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                }
                var t1 = Stopwatch.GetTimestamp();
                var kc = fn(x, null, p);
                double tc = Stopwatch.GetElapsedTime(t1).TotalSeconds;
                string cmp = "";
                if (kg is not null)
                {
                    double err = MaxRel(kc, kg);
                    bool ok = err <= 1e-4;   // both float32: each within ~1e-5 of float64
                    failures += ok ? 0 : 1;
                    cmp = $", max|gpu-cpu|/max|cpu| {err:E2} {(ok ? "ok" : "FAIL")}";
                }
                Console.WriteLine($"[cnn] {impl,-22} N={n,4}: " + (kg is null ? "" : $"GPU {tg,8:F3} s, ") + $"CPU {tc,8:F3} s" +
                                  (kg is null ? "" : $", speed-up {tc / tg,6:F2}x") + cmp);
                lastGpu = tg;
                lastCpu = tc;
                prev = n;
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private static double MaxRel(Tensor want, Tensor got)
    {
        var w = want.ToDoubleArray();
        var g = got.ToDoubleArray();
        double scale = w.Max(Math.Abs), err = 0;
        for (int i = 0; i < w.Length; i++) err = Math.Max(err, Math.Abs(w[i] - g[i]));
        return err / scale;
    }
}
