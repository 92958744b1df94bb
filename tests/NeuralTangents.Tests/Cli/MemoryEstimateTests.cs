using System.Globalization;
using System.Text.RegularExpressions;
using System.Diagnostics;
using NeuralTangents.Interop;

namespace NeuralTangents.Tests.Cli;

/// <summary>
/// Issue 17 item 8: the memory estimate <c>nt kernel</c> prints must be within 25 % of the process's measured peak
/// resident memory (VmHWM) on a mid-size workload. Runs <c>nt</c> as its own process (a test host's RSS would
/// include every other test), so each row costs a process start and a few seconds.
/// </summary>
public sealed partial class MemoryEstimateTests
{
    private const string Net = "Dense(256,W_std=1.5,b_std=0.05),Relu,Dense(256,W_std=1.5,b_std=0.05),Relu,Dense(10,W_std=1.5,b_std=0.05)";

    /// <summary>Mid-size rows: the computation holds hundreds of MiB, well above the ~60 MiB runtime constant,
    /// so the 25 % says something about the estimate and not about the constant.</summary>
    [Theory]
    [InlineData("jacobian-contraction", 80, "float64")]
    [InlineData("structured-derivatives", 1000, "float64")]
    public void Estimate_is_within_25_percent_of_the_measured_peak(string implementation, int examples, string dtype)
    {
        if (!OperatingSystem.IsLinux()) return;   // VmHWM (peak RSS) is what the issue measures
        var dir = Directory.CreateTempSubdirectory("nt-mem-");
        try
        {
            var rng = new Random(3);
            var x = new double[examples * 64];
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() * 2 - 1;
            var xPath = Path.Combine(dir.FullName, "x.npy");
            Npy.Write(xPath, new Tensor(x, new Shape(examples, 64)));
            var (peak, estimate) = PeakAndEstimate("kernel", "--net", Net, "--seed", "0", "--x1", xPath, "--vmap-axes", "0", "--dtype", dtype,
                "--implementation", implementation, "--out", Path.Combine(dir.FullName, "k.npy"));
            Assert.True(peak > 2 * MemoryBudget.ProcessOverheadBytes, $"not a mid-size workload: peak {peak / (1 << 20):0} MiB");
            Assert.True(Math.Abs(estimate - peak) <= 0.25 * peak,
                $"{implementation}, {examples} examples: estimated {estimate / (1 << 20):0.0} MiB, measured peak RSS {peak / (1 << 20):0.0} MiB");
        }
        finally { dir.Delete(recursive: true); }
    }

    private const string Cnn = "Conv(32,(3,3)),Relu,Conv(32,(3,3)),Relu,Conv(32,(3,3)),Flatten,Dense(10)";

    /// <summary>
    /// The seed CNN (x (20,32,32,3) float32, vmap axes 0) by JacobianContraction, whole and under a memory budget that
    /// forces tiles: the estimate is within 25 % of the measured peak (it was 33 % under while the contraction copied
    /// the Dense(10) leaf's 165 MiB Jacobian whole), and a budgeted run stays within the budget plus the process
    /// overhead and garbage allowance the estimates add (10 % slack for when the GC decommits freed regions).
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData("150MiB")]
    public void Jacobian_contraction_on_the_seed_cnn_stays_within_its_estimate_and_budget(string? budget)
    {
        if (!OperatingSystem.IsLinux()) return;
        var dir = Directory.CreateTempSubdirectory("nt-mem-");
        try
        {
            var xPath = Path.Combine(dir.FullName, "x.npy");
            Npy.Write(xPath, Tensor.RandomNormal(new Random(3), new Shape(20, 32, 32, 3), DType.Float32));
            var args = new List<string> { "kernel", "--net", Cnn, "--seed", "3", "--x1", xPath, "--vmap-axes", "0",
                "--implementation", "jacobian-contraction", "--out", Path.Combine(dir.FullName, "k.npy") };
            if (budget is not null) args.AddRange(["--memory-budget", budget]);
            var (peak, estimate) = PeakAndEstimate(args.ToArray());
            Assert.True(Math.Abs(estimate - peak) <= 0.25 * peak,
                $"seed CNN, budget {budget ?? "default"}: estimated {estimate / (1 << 20):0.0} MiB, measured peak RSS {peak / (1 << 20):0.0} MiB");
            if (budget is not null) AssertWithinBudget(budget, peak, slack: 0.10);
        }
        finally { dir.Delete(recursive: true); }
    }

    /// <summary>
    /// JacobianContraction without vmap axes (the examples interact, so the chunk graphs carry (basis, examples,
    /// features) intermediates and contract and reduce them over the middle axis) on the test FCN, 80 examples float64:
    /// whole, the measured peak stays within 15 % above the estimate (it was 21 % above, 966 vs 798 MiB: the
    /// operand copies of those contractions and reductions were not counted, and the interpreter's loop kept each
    /// equation's freed operands reachable through the pacer's collection); under a 256 MiB budget within 25 % above
    /// the estimate and above the budget plus the process overhead and garbage allowance (it was 33 % above, 479 vs
    /// 360 MiB). The tiled run's peak depends on when the GC returns freed regions: 400 MiB for 358 estimated when the
    /// test was written, 416 MiB in a later clean-clone CI run, which a 15 % bound failed.
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData("256MiB")]
    public void Jacobian_contraction_without_vmap_stays_within_its_estimate_and_budget(string? budget)
    {
        if (!OperatingSystem.IsLinux()) return;
        var dir = Directory.CreateTempSubdirectory("nt-mem-");
        try
        {
            var rng = new Random(3);
            var x = new double[80 * 64];
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() * 2 - 1;
            var xPath = Path.Combine(dir.FullName, "x.npy");
            Npy.Write(xPath, new Tensor(x, new Shape(80, 64)));
            var args = new List<string> { "kernel", "--net", Net, "--seed", "0", "--x1", xPath, "--vmap-axes", "none", "--dtype", "float64",
                "--implementation", "jacobian-contraction", "--out", Path.Combine(dir.FullName, "k.npy") };
            if (budget is not null) args.AddRange(["--memory-budget", budget]);
            var (peak, estimate) = PeakAndEstimate(args.ToArray());
            Assert.True(peak > 2 * MemoryBudget.ProcessOverheadBytes, $"not a mid-size workload: peak {peak / (1 << 20):0} MiB");
            double over = budget is null ? 1.15 : 1.25;
            Assert.True(peak <= over * estimate && estimate <= 1.25 * peak,
                $"vmap none, budget {budget ?? "default"}: estimated {estimate / (1 << 20):0.0} MiB, measured peak RSS {peak / (1 << 20):0.0} MiB");
            if (budget is not null) AssertWithinBudget(budget, peak, slack: 0.25);
        }
        finally { dir.Delete(recursive: true); }
    }

    /// <summary>Runs nt, which must succeed, and reads its "peak RSS … (estimated …)" line: both in bytes.</summary>
    private static (double Peak, double Estimate) PeakAndEstimate(params string[] args)
    {
        var (code, err) = RunNt(args);
        Assert.True(code == 0, err);
        var m = PeakRegex().Match(err);
        Assert.True(m.Success, $"no 'peak RSS … (estimated …)' in: {err}");
        return (Bytes(m.Groups[1].Value, m.Groups[2].Value), Bytes(m.Groups[3].Value, m.Groups[4].Value));
    }

    /// <summary>A budgeted run stays within the budget plus the process overhead and garbage allowance the estimates
    /// add, and <paramref name="slack"/> (for when the GC decommits freed regions).</summary>
    private static void AssertWithinBudget(string budget, double peak, double slack)
    {
        double b = MemoryBudget.Parse(budget), allowed = b + MemoryBudget.ProcessOverheadBytes + MemoryBudget.GarbageAllowance(b);
        Assert.True(peak <= (1 + slack) * allowed,
            $"budget {budget}: measured peak RSS {peak / (1 << 20):0.0} MiB, allowed {allowed / (1 << 20):0.0} MiB + {slack * 100:0} %");
    }

    private static (int Code, string Err) RunNt(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "nt.dll");
        var host = Environment.ProcessPath is { } pp && Path.GetFileNameWithoutExtension(pp) == "dotnet" ? pp : "dotnet";
        var psi = new ProcessStartInfo(host) { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "nt did not finish in 120 s");
        return (p.ExitCode, err.Result);
    }

    private static double Bytes(string number, string unit) =>
        double.Parse(number, NumberStyles.Number, CultureInfo.InvariantCulture) * unit switch { "GiB" => 1L << 30, "MiB" => 1L << 20, "KiB" => 1L << 10, _ => 1 };

    [GeneratedRegex(@"peak RSS ([0-9.,]+) (GiB|MiB|KiB|B) \(estimated ([0-9.,]+) (GiB|MiB|KiB|B)\)")]
    private static partial Regex PeakRegex();
}
