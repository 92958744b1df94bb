using System.Diagnostics;
using NeuralTangents.Tensors;

namespace NeuralTangents.Perf;

/// <summary>
/// <c>quick-conv [--threads 1,2] [--seconds S]</c>: Stopwatch timing of the convolution kernels at the shapes that
/// dominate the seed page CNN NTK (float32, VALID, stride 1). Prints median/min wall time, GFLOP/s from the median
/// and from CPU time, and checks that the result is bitwise the same for every thread count.
/// </summary>
internal static class QuickConv
{
    /// <summary>One kernel call: op, first and second operand shapes (as the kernel receives them), feature groups.</summary>
    internal sealed record Case(string Op, Shape A, Shape B, int Groups)
    {
        public ConvParams Params => new([1, 1], [(0, 0), (0, 0)], [1, 1], Groups);

        /// <summary>The forward lhs shape (for lhs transpose) or rhs shape (for rhs transpose).</summary>
        public Shape Target => Op switch
        {
            "lhs" => new Shape(A[0], A[1] + B[0] - 1, A[2] + B[1] - 1, B[2] * Groups),
            "rhs" => new Shape(A[1] - B[1] + 1, A[2] - B[2] + 1, A[3] / Groups, B[3]),
            _ => default,
        };

        public string OpName => Op switch { "fwd" => "conv_general_dilated", "lhs" => "conv_lhs_transpose", _ => "conv_rhs_transpose" };
        public override string ToString() => $"{OpName,-20} {A} {B} g={Groups}";
    }

    // The profile of the seed page CNN NTK (see perf/README.md) plus the shapes the brief named.
    internal static readonly Case[] Cases =
    [
        // Named in the performance issue.
        new("lhs", new Shape(40, 28, 28, 32), new Shape(3, 3, 32, 32), 1),
        new("fwd", new Shape(2, 28, 28, 1280), new Shape(3, 3, 32, 1280), 40),
        new("fwd", new Shape(80, 30, 30, 32), new Shape(3, 3, 32, 32), 1),
        new("rhs", new Shape(1, 28, 28, 64), new Shape(1, 26, 26, 640), 2),
        new("rhs", new Shape(1, 30, 30, 1280), new Shape(1, 28, 28, 1280), 40),
        // Top of `quick-ntk --only cnn --profile-conv` (JacobianContraction, VmapAxes 0: 20 train + 5 test images).
        new("lhs", new Shape(200, 28, 28, 32), new Shape(3, 3, 32, 32), 1),
        new("lhs", new Shape(10, 26, 26, 32), new Shape(3, 3, 32, 32), 1),
        new("rhs", new Shape(1, 28, 28, 640), new Shape(1, 26, 26, 6400), 20),
        new("rhs", new Shape(1, 28, 28, 160), new Shape(1, 26, 26, 1600), 5),
        new("rhs", new Shape(1, 32, 32, 60), new Shape(1, 30, 30, 6400), 20),
        new("fwd", new Shape(20, 28, 28, 32), new Shape(3, 3, 32, 32), 1),
        new("fwd", new Shape(5, 32, 32, 3), new Shape(3, 3, 3, 32), 1),
    ];

    /// <summary>Multiply-add flops of one kernel call: 2 · output positions · rhs elements.</summary>
    internal static double Flops(string op, Shape a, Shape b, ConvParams p)
    {
        double pos(Shape s) => (double)s.Size / s[^1];
        switch (op)
        {
            case "conv_general_dilated":
                return 2 * pos(Conv.InferShape(a, b, p)) * b.Size;
            case "conv_lhs_transpose":
                return 2 * pos(a) * b.Size;
            default:
                // rhs transpose (lhs, ct): kernel extent from the sizes, exact for stride 1.
                double k = 1;
                for (int i = 0; i < p.SpatialRank; i++)
                {
                    int padded = a[i + 1] + p.Padding[i].Lo + p.Padding[i].Hi;
                    k *= (padded - (b[i + 1] - 1) * p.Strides[i] - 1) / p.RhsDilation[i] + 1;
                }
                return 2 * pos(b) * k * (a[^1] / p.FeatureGroupCount) * b[^1];
        }
    }

    public static int Run(string[] args)
    {
        var threads = QuickNtkArgs(args, "--threads")?.Split(',').Select(int.Parse).ToArray() ?? [1, Environment.ProcessorCount];
        double seconds = QuickNtk.IntOpt(args, "--seconds", 3);
        Console.WriteLine($"# quick-conv {DateTime.Now:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} cores, load {QuickNtk.Load()}");
        Console.WriteLine("| op | operands | groups | threads | median (ms) | min (ms) | GFLOP/s (median) | GFLOP/s (CPU time) | runs |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        var rng = new Random(1);
        foreach (var c in Cases)
        {
            var a = Tensor.RandomNormal(rng, c.A, DType.Float32);
            var b = Tensor.RandomNormal(rng, c.B, DType.Float32);
            Func<Tensor> run = c.Op switch
            {
                "fwd" => () => Conv.Forward(a, b, c.Params),
                "lhs" => () => Conv.LhsTranspose(a, b, c.Target, c.Params),
                _ => () => Conv.RhsTranspose(a, b, c.Target, c.Params),
            };
            double flops = Flops(c.OpName, c.A, c.B, c.Params);
            float[]? reference = null;
            foreach (int t in threads)
            {
                Blas.MaxDegreeOfParallelism = t;
                var y = run().ToArray<float>(); // warm-up
                if (reference is null) reference = y;
                else if (!y.AsSpan().SequenceEqual(reference)) Console.WriteLine($"!! {c}: result with {t} threads differs bitwise");
                var times = new List<double>();
                var cpus = new List<double>();
                var proc = Process.GetCurrentProcess();
                var total = Stopwatch.StartNew();
                while (times.Count < 5 || (total.Elapsed.TotalSeconds < seconds && times.Count < 200))
                {
                    proc.Refresh();
                    var cpu0 = proc.TotalProcessorTime;
                    var sw = Stopwatch.StartNew();
                    run();
                    times.Add(sw.Elapsed.TotalSeconds);
                    proc.Refresh();
                    cpus.Add((proc.TotalProcessorTime - cpu0).TotalSeconds);
                }
                times.Sort(); cpus.Sort();
                double med = times[times.Count / 2], cpuMed = cpus[cpus.Count / 2];
                Console.WriteLine($"| {c.OpName} | {c.A} {c.B} | {c.Groups} | {t} | {med * 1e3:F1} | {times[0] * 1e3:F1} | {flops / med / 1e9:F2} | {flops / cpuMed / 1e9 * t:F2} | {times.Count} |");
            }
            Blas.MaxDegreeOfParallelism = 0;
        }
        Console.WriteLine($"# done, load {QuickNtk.Load()}");
        return 0;
    }

    private static string? QuickNtkArgs(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
