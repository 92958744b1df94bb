using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Data;
using NeuralTangents.Implementations;
using NeuralTangents.Stax;

namespace NeuralTangents.Cli;

/// <summary>
/// <c>nt taylor</c>: how far a trained network moves from its linearization as the width grows (Lee et al. 2019,
/// "Wide neural networks of any depth evolve as linear models under gradient descent"). For each width a 2-hidden-layer
/// FCN is trained by a few full-batch gradient steps from θ₀; the table compares f(θ_T) with the linearization
/// f_lin(θ_T) = f(θ₀) + J(θ₀)(θ_T − θ₀) and with f(θ₀) on held-out inputs. In the NTK parameterization the weights
/// move by O(1/√width) each, so MSE(f, f_lin) falls at least like 1/width while MSE(f, f₀) stays O(1).
/// </summary>
internal static class TaylorCommand
{
    public const string DefaultWidths = "64,128,256,512,1024,2048";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var widths = new Option<string>("--widths") { Description = "Comma-separated hidden widths.", DefaultValueFactory = _ => DefaultWidths };
        var activation = new Option<string>("--activation") { Description = "Hidden nonlinearity: erf or relu.", DefaultValueFactory = _ => "erf" };
        activation.AcceptOnlyFromAmong("erf", "relu");
        var nTrain = new Option<int>("--n-train") { Description = "Training images (optdigits; random inputs if the data is missing).", DefaultValueFactory = _ => 32 };
        var nEval = new Option<int>("--n-eval") { Description = "Held-out images on which the outputs are compared.", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "Full-batch gradient descent steps on ½·mean((f − y)²).", DefaultValueFactory = _ => 10 };
        var lr = new Option<double>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 2.0 };
        var seed = new Option<int>("--seed") { Description = "Parameter seed.", DefaultValueFactory = _ => 0 };
        var plot = new Option<string?>("--plot") { Description = "Also draw the table as a log-log PNG (MSE against width)." };
        var cmd = new Command("taylor", "Distance of a trained network from its linearization, by width.")
        {
            widths, activation, nTrain, nEval, steps, lr, seed, plot,
        };
        cmd.SetAction(r => Run(CliParsing.IntList(r.GetValue(widths)!, "--widths"), r.GetValue(activation)!, r.GetValue(nTrain),
            r.GetValue(nEval), r.GetValue(steps), r.GetValue(lr), r.GetValue(seed), r.GetValue(plot), stdout, stderr));
        return cmd;
    }

    private static string F(double x, string format) => x.ToString(format, CultureInfo.InvariantCulture);

    private static int Run(int[] widths, string activation, int nTrain, int nEval, int steps, double lr, int seed, string? plotPath,
        TextWriter stdout, TextWriter stderr)
    {
        if (plotPath is not null) PlotCommand.CheckPng(plotPath, "--plot");
        if (widths.Length == 0 || widths.Any(w => w < 1)) throw new ArgumentException($"--widths must list positive widths, got [{string.Join(",", widths)}]");
        if (nTrain < 1 || nEval < 1) throw new ArgumentException($"--n-train and --n-eval must be positive, got {nTrain} and {nEval}");
        if (steps < 1) throw new ArgumentException($"--steps must be positive, got {steps}");
        if (!(lr > 0) || double.IsInfinity(lr)) throw new ArgumentException($"--lr must be positive and finite, got {lr}");
        var total = Stopwatch.StartNew();
        var (xTrain, yTrain, xEval, source) = LoadData(nTrain, nEval, seed);

        stdout.WriteLine("nt taylor: distance of a trained network from its linearization, by width");
        stdout.WriteLine($"  net       Flatten,Dense(w,W_std=1.5,b_std=0.05),{Act(activation)},Dense(w,W_std=1.5,b_std=0.05),{Act(activation)},Dense(10,W_std=1.5,b_std=0.05)");
        stdout.WriteLine($"  data      {source}");
        stdout.WriteLine($"  training  {steps} full-batch gradient steps of lr {F(lr, "G4")} on ½·mean((f − y)²), one-hot targets, float64, seed {seed}");
        stdout.WriteLine($"  compared  on the {nEval} held-out inputs: f = f(θ_T), f_lin = f(θ₀) + J(θ₀)(θ_T − θ₀), f₀ = f(θ₀)");
        stdout.WriteLine();
        stdout.WriteLine($"  {"width",6} {"params",10} {"MSE(f, f_lin)",14} {"MSE(f, f₀)",12} {"ratio",10} {"time",8}");
        stdout.Flush();
        var rows = new List<(int Width, double Lin, double Initial)>();
        var diverged = new List<int>();
        foreach (int w in widths)
        {
            var sw = Stopwatch.StartNew();
            var r = Measure(w, activation, xTrain, yTrain, xEval, steps, lr, seed);
            rows.Add((w, r.MseLin, r.Mse0));
            // Diverged: non-finite outputs, or a training loss that grew instead of falling (the learning rate is too large).
            if (!double.IsFinite(r.MseLin) || !double.IsFinite(r.Mse0) || !(r.LossLast <= r.LossFirst)) diverged.Add(w);
            stdout.WriteLine($"  {w,6} {r.Params,10} {F(r.MseLin, "E3"),14} {F(r.Mse0, "E3"),12} {F(r.MseLin / r.Mse0, "E3"),10} {CliParsing.Seconds(sw.Elapsed),8}");
            stdout.Flush();
        }
        double? slope = null;
        if (diverged.Count > 0)
            stderr.WriteLine($"nt: warning: training diverged (the loss grew or became non-finite) at width{(diverged.Count > 1 ? "s" : "")} {string.Join(", ", diverged)} " +
                $"with --lr {F(lr, "G4")}; those rows are not measurements of lazy training — try a smaller --lr (default 2)");
        if (rows.Count >= 2 && diverged.Count == 0)
        {
            // Least-squares slope of log MSE(f, f_lin) against log width; lazy training predicts −1.
            var xs = rows.Select(r => Math.Log(r.Width)).ToArray();
            var ys = rows.Select(r => Math.Log(r.Lin)).ToArray();
            double mx = xs.Average(), my = ys.Average();
            slope = xs.Zip(ys, (a, b) => (a - mx) * (b - my)).Sum() / xs.Sum(a => (a - mx) * (a - mx));
            stdout.WriteLine();
            stdout.WriteLine($"  log-log slope of MSE(f, f_lin) vs width: {F(slope.Value, "0.00")} (lazy training bounds it by −1: f − f_lin = O(1/√width))");
        }
        if (plotPath is not null)
        {
            Plotting.PlotFile.SavePng(Plotting.KernelPlots.WidthTable(rows.Select(r => r.Width).ToArray(), rows.Select(r => r.Lin).ToArray(),
                rows.Select(r => r.Initial).ToArray(), slope), plotPath);
            stdout.WriteLine($"  plot -> {plotPath}");
        }
        stdout.WriteLine($"  total {CliParsing.Seconds(total.Elapsed)}");
        return CliApp.Ok;
    }

    private static string Act(string a) => a == "relu" ? "Relu" : "Erf";

    private static (Tensor XTrain, Tensor YTrain, Tensor XEval, string Source) LoadData(int nTrain, int nEval, int seed)
    {
        string? dir = null;
        try { dir = OptDigits.FindDataDirectory(); }
        catch (FileNotFoundException) { }
        if (dir is not null)
        {
            var train = OptDigits.Load(Path.Combine(dir, OptDigits.TrainFileName), nTrain);
            var test = OptDigits.Load(Path.Combine(dir, OptDigits.TestFileName), nEval);
            // Asking for more than the data holds is an error, not a silent switch to random inputs.
            if (train.Count < nTrain || test.Count < nEval)
                throw new ArgumentException(string.Join("; ", new[]
                {
                    train.Count < nTrain ? $"--n-train {nTrain}: {OptDigits.TrainFileName} has only {train.Count} images" : null,
                    test.Count < nEval ? $"--n-eval {nEval}: {OptDigits.TestFileName} has only {test.Count} images" : null,
                }.Where(m => m is not null)) + $" (in {dir})");
            return (train.Images, train.OneHot(10), test.Images, $"optdigits ({dir}): {nTrain} training images, {nEval} held-out test images, 8×8 pixels in [0, 1]");
        }
        var rng = new Random(seed + 1);
        var labels = Enumerable.Range(0, nTrain).Select(_ => rng.Next(10)).ToArray();
        var y = new double[nTrain * 10];
        for (int i = 0; i < nTrain; i++) y[i * 10 + labels[i]] = 1;
        return (Tensor.RandomNormal(rng, new Shape(nTrain, 8, 8, 1)), Tensor.FromArray(y, new Shape(nTrain, 10)),
            Tensor.RandomNormal(rng, new Shape(nEval, 8, 8, 1)), $"random N(0, 1) 8×8 inputs with random one-hot labels ({nTrain} training, {nEval} held-out; optdigits not found)");
    }

    private static (long Params, double MseLin, double Mse0, double LossFirst, double LossLast) Measure(int width, string activation, Tensor xTrain, Tensor yTrain, Tensor xEval,
        int steps, double lr, int seed)
    {
        Layer Act() => activation == "relu" ? Stax.Stax.Relu() : Stax.Stax.Erf();
        var net = Stax.Stax.Serial(Stax.Stax.Flatten(), Stax.Stax.Dense(width, 1.5, 0.05), Act(), Stax.Stax.Dense(width, 1.5, 0.05), Act(),
            Stax.Stax.Dense(10, 1.5, 0.05));
        var p0 = net.Init(seed, xTrain.Shape).Params;
        var names = p0.Keys.ToArray();
        var shapes = p0.Values.Select(t => t.Shape).ToArray();
        var theta = p0.Values.Select(t => t.ToDoubleArray()).ToArray();
        double norm = yTrain.Size;
        var y = yTrain.ToDoubleArray();
        // f as a function of (θ leaves…, x), for reverse mode; x's cotangent is computed and ignored.
        Tracer[] F(Tracer[] ins) =>
            [net.Apply(new ParamTracers(names.Select((n, i) => (n, ins[i])).ToDictionary(t => t.n, t => t.Item2)), ins[^1])];
        var losses = new List<double>();
        for (int s = 0; s < steps; s++)
        {
            var leaves = theta.Select((v, i) => Tensor.FromArray(v, shapes[i])).Append(xTrain).ToArray();
            var (outs, vjp) = Ad.Vjp(F, leaves);
            var fx = outs[0].ToDoubleArray();
            losses.Add(0.5 * fx.Zip(y, (a, b) => (a - b) * (a - b)).Sum() / norm);
            var ct = new double[fx.Length];
            for (int e = 0; e < ct.Length; e++) ct[e] = (fx[e] - y[e]) / norm;   // ∂(½·mean((f − y)²))/∂f
            var grads = vjp([Tensor.FromArray(ct, yTrain.Shape)]);
            for (int i = 0; i < theta.Length; i++)
            {
                var g = grads[i].ToDoubleArray();
                var t = theta[i];
                for (int e = 0; e < t.Length; e++) t[e] -= lr * g[e];
            }
        }
        var pT = new Params(names.Select((n, i) => new KeyValuePair<string, Tensor>(n, Tensor.FromArray(theta[i], shapes[i]))));
        var f = new TracedApply(net.Apply);
        var fLin = new TracedApply(Empirical.Linearize(net.Apply, p0));
        var yT = f.Evaluate(pT, xEval).ToDoubleArray();
        var yLin = fLin.Evaluate(pT, xEval).ToDoubleArray();
        var y0 = f.Evaluate(p0, xEval).ToDoubleArray();
        static double Mse(double[] a, double[] b) => a.Zip(b, (u, v) => (u - v) * (u - v)).Average();
        return (p0.ParameterCount, Mse(yT, yLin), Mse(yT, y0), losses[0], losses[^1]);
    }
}
