using System.Diagnostics;
using System.Globalization;
using NeuralTangents.Tensors;
using NeuralTangents.Tensors.Kernels;

namespace NeuralTangents.Perf;

/// <summary>
/// `gram [--reps R] [--f64] [MxK...]`: the symmetric Gram X·Xᵀ three ways, round-robin in one process so load changes
/// hit all alike: the plain GEMM (full), the previous SymmetricDot (up to 8×8 row blocks, upper blocks as separate
/// GEMMs, then mirrored; reproduced here as the baseline) and <c>Blas.Gram</c> (one GEMM skipping the tiles below the
/// diagonal). Shapes: the digits FCN's ∂f/∂y Grams (1797 × 5120, 1797 × 512) and smaller ones.
/// </summary>
internal static class GramBench
{
    private static readonly string[] Default = ["1797x5120", "1797x512", "1797x64", "1100x300", "400x20000"];

    public static int Run(string[] args)
    {
        int reps = QuickNtk.IntOpt(args, "--reps", 9);
        bool f64 = args.Contains("--f64");
        var shapes = args.Where(a => char.IsDigit(a[0]) && a.Contains('x')).ToArray();
        if (shapes.Length == 0) shapes = Default;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"# gram {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {(f64 ? "float64" : "float32")}, {Environment.ProcessorCount} threads, {reps} reps, load {QuickNtk.Load()}");
        foreach (var s in shapes)
        {
            var p = s.Split('x').Select(int.Parse).ToArray();
            int m = p[0], k = p[1];
            var ops = f64 ? Make<double>(m, k) : Make<float>(m, k);
            foreach (var op in ops) op(); // warm-up (JIT, workspaces)
            var times = ops.Select(_ => new List<double>()).ToArray();
            for (int r = 0; r < reps; r++)
                for (int i = 0; i < ops.Length; i++)
                {
                    var sw = Stopwatch.StartNew();
                    ops[i]();
                    times[i].Add(sw.Elapsed.TotalSeconds);
                }
            double Med(List<double> t) => t.Order().ElementAt(t.Count / 2);
            double full = Med(times[0]), flops = 2.0 * m * m * k;
            string[] names = ["plain GEMM", "old blocks", "Blas.Gram"];
            for (int i = 0; i < ops.Length; i++)
                Console.WriteLine(string.Format(inv, "{0,-10} {1,-12} median {2,8:F2} ms [{3:F2}–{4:F2}]  {5:F2}× plain  ({6,6:F1} GFLOP/s of the full product)",
                    s, names[i], Med(times[i]) * 1e3, times[i].Min() * 1e3, times[i].Max() * 1e3, Med(times[i]) / full, flops / Med(times[i]) / 1e9));
        }
        return 0;
    }

    private static Action[] Make<T>(int m, int k) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(1);
        var xs = new T[m * k];
        for (int i = 0; i < xs.Length; i++) xs[i] = T.CreateTruncating(rng.NextDouble() - 0.5);
        var c = new T[m * m];
        var x = Tensor.FromArray(xs.Select(v => double.CreateTruncating(v)).ToArray(), new Shape(m, k)).AsType(typeof(T) == typeof(float) ? DType.Float32 : DType.Float64);
        return
        [
            () => Blas.Gemm<T>(m, m, k, xs, k, false, xs, k, true, c, m),
            () => OldBlocks<T>(x, m, k),
            () => Blas.Gram<T>(1, m, k, xs, k, m * k, c),
        ];
    }

    /// <summary>The SymmetricDot of before (2026-12-04): nb×nb row blocks, each upper block a separate dot_general, mirrored.</summary>
    private static T[] OldBlocks<T>(Tensor x, int M, int K) where T : unmanaged
    {
        int nb = Math.Clamp(M / 128, 2, 8), bs = (M + nb - 1) / nb;
        var dst = new T[M * M];
        var dims = new DotDimensionNumbers([1], [1], [], []);
        for (int i0 = 0; i0 < M; i0 += bs)
        {
            int mi = Math.Min(bs, M - i0);
            var xi = x.Slice([i0, 0], [i0 + mi, K]);
            for (int j0 = i0; j0 < M; j0 += bs)
            {
                int mj = Math.Min(bs, M - j0);
                var xj = j0 == i0 ? xi : x.Slice([j0, 0], [j0 + mj, K]);
                var src = ComputeBackend.Cpu.DotGeneral(xi, xj, dims).Contiguous().Span<T>();
                for (int r = 0; r < mi; r++)
                {
                    var row = src.Slice(r * mj, mj);
                    row.CopyTo(dst.AsSpan((i0 + r) * M + j0, mj));
                    if (j0 != i0) for (int col = 0; col < mj; col++) dst[(j0 + col) * M + i0 + r] = row[col];
                }
            }
        }
        return dst;
    }
}
