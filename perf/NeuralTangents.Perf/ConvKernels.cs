using System.Diagnostics;
using NeuralTangents.Tensors;

namespace NeuralTangents.Perf;

/// <summary>
/// <c>conv-kernels [--reps R] [--threads T] [--fresh] [--cold]</c> (issue 12 item 6): every convolution kernel that structured derivatives run
/// for the seed CNN row (N = 20, x2 = null, float32, trace [-1]), at its exact shapes and operand layouts, timed in one
/// process next to SGEMM 1024³ on the same threads (measured before and after the kernels, the better of the two is the
/// reference). Output buffers come from a buffer pool, as inside a warm kernel function call (<c>--fresh</c>: newly allocated). GFLOP/s = 2·(multiply-adds
/// of the kernel) / median wall time.
/// </summary>
internal static class ConvKernels
{
    public static int Run(string[] args)
    {
        int reps = QuickNtk.IntOpt(args, "--reps", 15);
        int threads = QuickNtk.IntOpt(args, "--threads", Blas.MaxDegreeOfParallelism);
        bool fresh = args.Contains("--fresh");
        // --cold: 64 MB of other data streamed through the caches before each call, as in the NTK, where every operand was
        // written by an earlier pass.
        bool cold = args.Contains("--cold");
        var flush = cold ? new float[16 << 20] : null;   // no pool: every result in fresh memory (zeroed by the runtime, first-touch faults)
        Blas.MaxDegreeOfParallelism = threads;
        var rng = new Random(1);
        Tensor N(params int[] s) => Tensor.RandomNormal(rng, new Shape(s), DType.Float32);
        var valid = new ConvParams([1, 1], [(0, 0), (0, 0)], [1, 1], 1);
        var w3 = N(3, 3, 3, 32); var w32 = N(3, 3, 32, 32);
        var x0 = N(20, 32, 32, 3); var x1 = N(20, 30, 30, 32); var x2 = N(20, 28, 28, 32);
        var ct3 = N(10, 26, 26, 32); var ct2 = N(200, 28, 28, 32);
        // ∂f/∂y per layer: (E, basis, H, W, O); the last conv layer's is shared by the examples (a broadcast view).
        var a1 = N(20, 10, 30, 30, 32); var a2 = N(20, 10, 28, 28, 32);
        var a3 = N(1, 10, 26, 26, 32).BroadcastInDim(new Shape(20, 10, 26, 26, 32), [0, 1, 2, 3, 4]);
        var p1 = Patches.Compute(x0, [3, 3], valid); var p2 = Patches.Compute(x1, [3, 3], valid); var p3 = Patches.Compute(x2, [3, 3], valid);
        var wg = new DotDimensionNumbers([2, 3], [1, 2], [0], [0]);
        var g = DotGrad(a2, p2, wg);   // (20, 10, 32, 288), a view as the einsum reads it
        var gramDims = new DotDimensionNumbers([1, 2, 3], [1, 2, 3], [], []);
        double Fl(double macs) => 2 * macs;
        var rows = new (string Name, double Flops, Func<Tensor> Run)[]
        {
            ("conv_general_dilated (20,32,32,3)·(3,3,3,32)", Fl(20.0 * 900 * 27 * 32), () => Conv.Forward(x0, w3, valid)),
            ("conv_general_dilated (20,30,30,32)·(3,3,32,32)", Fl(20.0 * 784 * 288 * 32), () => Conv.Forward(x1, w32, valid)),
            ("conv_general_dilated (20,28,28,32)·(3,3,32,32)", Fl(20.0 * 676 * 288 * 32), () => Conv.Forward(x2, w32, valid)),
            ("conv_lhs_transpose (10,26,26,32) → (10,28,28,32)", Fl(10.0 * 784 * 288 * 32), () => Conv.LhsTranspose(ct3, w32, new Shape(10, 28, 28, 32), valid)),
            ("conv_lhs_transpose (200,28,28,32) → (200,30,30,32)", Fl(200.0 * 900 * 288 * 32), () => Conv.LhsTranspose(ct2, w32, new Shape(200, 30, 30, 32), valid)),
            ("conv_patches (20,30,30,32) → (20,28,28,3,3,32)", 0, () => Patches.Compute(x1, [3, 3], valid)),
            ("weight grads conv1: (20,10,30,30,32)·(20,30,30,27)", Fl(200.0 * 900 * 27 * 32), () => DotGrad(a1, p1, wg)),
            ("weight grads conv2: (20,10,28,28,32)·(20,28,28,288)", Fl(200.0 * 784 * 288 * 32), () => DotGrad(a2, p2, wg)),
            ("weight grads conv3: shared (10,26,26,32)·(20,26,26,288)", Fl(200.0 * 676 * 288 * 32), () => DotGrad(a3, p3, wg)),
            ("Gram (20, 92160)·(20, 92160)ᵀ", Fl(20.0 * 20 * 92160), () => NeuralTangents.Implementations.SymmetricDot.TryDotGeneral(g, g, gramDims, ComputeBackend.Cpu) ?? DotGeneral.Compute(g, g, gramDims)),
        };
        Console.WriteLine($"# conv-kernels {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {threads} thread(s), {reps} reps, {(fresh ? "fresh outputs (no pool)" : "pooled outputs")}{(cold ? ", cold caches" : "")}, load {QuickNtk.Load()}");
        foreach (var rowName in new[] { "cnn", "cnn-full" })
        {
            var row = PeerRow.Find(rowName);
            var (net, x) = row.Build();
            var e = Empirical.ExplainNtk(net.Apply, x, null, net.Init(0, x.Shape, DType.Float32).Params, traceAxes: row.TraceAxes, vmapAxes: 0);
            Console.WriteLine($"AUTO's estimates for the {rowName} row: " + string.Join(", ", e.Estimates.Select(t => $"{t.Implementation} {t.Flops / 1e9:F1} GFLOP")));
        }
        double gemm0 = GemmRate(threads);
        var results = new List<(string, double, double, double)>();
        foreach (var (name, flops, run) in rows)
        {
            var pool = new BufferPool();
            using var scope = fresh ? null : BufferPool.Use(pool);
            var times = new List<double>();
            for (int r = 0; r < reps + 2; r++)
            {
                if (flush is not null) for (int i = 0; i < flush.Length; i += 16) flush[i] += 1;
                var sw = Stopwatch.StartNew();
                var y = run();
                double t = sw.Elapsed.TotalSeconds;
                if (r >= 2) times.Add(t);
                if (!fresh) pool.Return(y.Storage);   // every row's result is fresh storage (NarrowDot's: a view of it)
            }
            times.Sort();
            results.Add((name, flops, times[times.Count / 2], times[0]));
        }
        double gemm1 = GemmRate(threads);
        double gemm = Math.Max(gemm0, gemm1);
        Console.WriteLine($"SGEMM 1024³, {threads} thread(s): {gemm0 / 1e9:F0} GFLOP/s before, {gemm1 / 1e9:F0} after the kernels (reference: {gemm / 1e9:F0})");
        Console.WriteLine("| kernel | GFLOP | median ms [best] | GFLOP/s (median) | % of SGEMM |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, flops, med, best) in results)
            Console.WriteLine(flops == 0
                ? $"| {name} | — | {med * 1e3:F2} [{best * 1e3:F2}] | copy | |"
                : $"| {name} | {flops / 1e9:F2} | {med * 1e3:F2} [{best * 1e3:F2}] | {flops / med / 1e9:F0} | {100 * flops / med / gemm:F0} % |");
        return 0;
    }

    /// <summary>The per-example weight gradient as structured derivatives' einsum step runs it (NarrowDot, else dot_general).</summary>
    private static Tensor DotGrad(Tensor a, Tensor patches, DotDimensionNumbers d) =>
        NarrowDot.TryCompute(a, patches.Reshape(patches.Shape[0], patches.Shape[1], patches.Shape[2], patches.Shape.Dims[3..].Aggregate(1, (x, y) => x * y)), d)
        ?? DotGeneral.Compute(a, patches, d);

    private static double GemmRate(int threads)
    {
        const int n = 1024;
        var a = new float[n * n]; var b = new float[n * n]; var c = new float[n * n];
        var rng = new Random(2);
        for (int i = 0; i < a.Length; i++) { a[i] = (float)rng.NextDouble(); b[i] = (float)rng.NextDouble(); }
        Blas.Gemm<float>(n, n, n, a, n, false, b, n, false, c, n);
        double best = double.MaxValue;
        for (int r = 0; r < 7; r++)
        {
            var sw = Stopwatch.StartNew();
            Blas.Gemm<float>(n, n, n, a, n, false, b, n, false, c, n);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best;
    }
}
