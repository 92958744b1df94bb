using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NeuralTangents.Data;
using NeuralTangents.Linalg;

namespace NeuralTangents.Cli;

/// <summary>
/// <c>nt demo</c> (also <c>nt</c> alone): empirical-NTK kernel regression of a small CNN on the optdigits digits,
/// with timings, test accuracy and sanity checks of the kernel.
/// </summary>
internal static class DemoCommand
{
    public const string DefaultNet = "Conv(8,(3,3),padding=SAME),Relu,Conv(8,(3,3)),Relu,Flatten,Dense(10)";
    public const int DefaultTrain = 1500;
    public const int DefaultTest = 1000;
    public const string DefaultDType = "float32";
    public const double DefaultRidge = 1e-2;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var nTrain = new Option<int>("--n-train") { Description = "Training images (first rows of optdigits.tra).", DefaultValueFactory = _ => DefaultTrain };
        var nTest = new Option<int>("--n-test") { Description = "Test images (first rows of optdigits.tes).", DefaultValueFactory = _ => DefaultTest };
        var net = new Option<string>("--net") { Description = "Network spec for 8×8×1 inputs with 10 outputs.", DefaultValueFactory = _ => DefaultNet };
        var common = new ComputeOptions(defaultSeed: 0, dtypeDefault: DefaultDType);
        var ridge = new Option<double>("--ridge") { Description = "Ridge, relative to the mean of diag(K_train,train).", DefaultValueFactory = _ => DefaultRidge };
        var plots = new Option<string?>("--plots") { Description = "Also draw PNGs into this folder (created if missing): the NTK heat map, its spectrum, and the train/test loss and accuracy of gradient-descent MSE dynamics against training time." };
        var cmd = new Command("demo", "Empirical-NTK kernel regression on optdigits (the default command).")
        {
            nTrain, nTest, net, ridge, plots,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => Run(r.GetValue(nTrain), r.GetValue(nTest), r.GetValue(net)!, common.Read(r), r.GetValue(ridge), r.GetValue(plots), stdout, stderr));
        return cmd;
    }

    private static string F(double x, string format) => x.ToString(format, CultureInfo.InvariantCulture);

    private static int Run(int nTrain, int nTest, string spec, ComputeOptions.Values common, double ridge, string? plotsDir, TextWriter stdout, TextWriter stderr)
    {
        var dtype = common.DType ?? CliParsing.DType(DefaultDType);
        var implementation = common.Implementation;
        if (nTrain < 1) throw new ArgumentException($"--n-train must be positive, got {nTrain}");
        if (nTest < 1) throw new ArgumentException($"--n-test must be positive, got {nTest}");
        if (!(ridge >= 0) || double.IsInfinity(ridge)) throw new ArgumentException($"--ridge must be finite and non-negative, got {ridge}");
        var net = NetSpec.Parse(spec);
        var plotsFolder = plotsDir is null ? null : DemoPlots.Prepare(plotsDir);
        var backend = common.Backend();
        using var onBackend = ComputeBackend.Use(backend);
        var total = Stopwatch.StartNew();
        var timings = new List<(string Step, TimeSpan Time, string Note)>();

        T Step<T>(string name, string note, Func<T> f, string? announce = null)
        {
            if (announce is not null) stderr.WriteLine($"{announce} {name}{(note.Length > 0 ? $" ({note})" : "")}…");
            var sw = Stopwatch.StartNew();
            var v = f();
            sw.Stop();
            if (announce is not null) stderr.WriteLine($"  done: {name} in {CliParsing.Seconds(sw.Elapsed)}");
            timings.Add((name, sw.Elapsed, note));
            return v;
        }

        var dir = OptDigits.FindDataDirectory();
        var (train, test) = Step("load data", "", () => (
            OptDigits.Load(Path.Combine(dir, OptDigits.TrainFileName), nTrain, dtype),
            OptDigits.Load(Path.Combine(dir, OptDigits.TestFileName), nTest, dtype)));
        // Load stops at the requested count, so only a short file's count is known: report that one.
        if (train.Count < nTrain || test.Count < nTest)
            throw new ArgumentException(string.Join("; ", new[]
            {
                train.Count < nTrain ? $"--n-train {nTrain}: {OptDigits.TrainFileName} has only {train.Count} images" : null,
                test.Count < nTest ? $"--n-test {nTest}: {OptDigits.TestFileName} has only {test.Count} images" : null,
            }.Where(m => m is not null)) + $" (in {dir})");

        var (outShape, parameters) = Step(common.Seed is null ? "load params" : "init", "", () =>
            (net.Init(0, train.Images.Shape, dtype).OutputShape, common.LoadParams(net, train.Images.Shape, dtype)));
        if (outShape.Rank != 2 || outShape[1] != 10)
            throw new ArgumentException($"--net must map (N, 8, 8, 1) images to (N, 10) logits, got output shape {outShape}");

        stdout.WriteLine("nt demo: empirical NTK kernel regression on optdigits (8×8 handwritten digits)");
        stdout.WriteLine($"  net          {net.Description}");
        stdout.WriteLine($"  data         {dir}");
        stdout.WriteLine($"  sizes        N_train = {nTrain}, N_test = {nTest}, params P = {parameters.ParameterCount}, dtype {CliParsing.Name(dtype)}, {(common.Seed is { } seed ? $"seed {seed}" : $"params {common.ParamsPath}")}, {backend.Name}");
        stdout.Flush();

        if (implementation == NtkImplementation.Auto)
        {
            // One choice for both kernels (AUTO's for the larger, train-train one), so the line below is what runs.
            implementation = Empirical.ExplainNtk(net.Apply, train.Images, null, parameters, traceAxes: [-1], vmapAxes: common.VmapAxes).Chosen;
            stdout.WriteLine($"  NTK          {CliParsing.ImplementationName(implementation)} (AUTO's choice; --implementation to override)");
        }
        else stdout.WriteLine($"  NTK          {CliParsing.ImplementationName(implementation)}");
        var ntk = Empirical.NtkFn(net.Apply, traceAxes: [-1], vmapAxes: common.VmapAxes, implementation: implementation);
        var kTrain = Step("NTK train-train", $"{nTrain}×{nTrain}", () => ntk(train.Images, null, parameters), "computing");
        var kTest = Step("NTK test-train", $"{nTest}×{nTrain}", () => ntk(test.Images, train.Images, parameters), "computing");
        if (CliInputs.WarnNonFinite(stderr, kTrain, "the train-train NTK") | CliInputs.WarnNonFinite(stderr, kTest, "the test-train NTK"))
            throw new ArgumentException("the NTK has NaN/Inf values, so kernel regression cannot run; check --net (e.g. W_std) and --params");

        // Regress centred one-hot targets and add the class means back, so the ridge shrinks towards the prior.
        var y = train.OneHot(10).ToDoubleArray();
        var mean = new double[10];
        for (int i = 0; i < nTrain; i++) for (int c = 0; c < 10; c++) mean[c] += y[i * 10 + c] / nTrain;
        for (int i = 0; i < nTrain; i++) for (int c = 0; c < 10; c++) y[i * 10 + c] -= mean[c];
        var pred = Step("solve", $"Cholesky, ridge {F(ridge, "G3")}·mean(diag K)",
            () => KernelRegression.Predict(kTest, kTrain, Tensor.FromArray(y, new Shape(nTrain, 10)), ridge), "running").ToDoubleArray();
        int correct = 0;
        for (int i = 0; i < nTest; i++)
        {
            int best = 0;
            for (int c = 1; c < 10; c++) if (pred[i * 10 + c] + mean[c] > pred[i * 10 + best] + mean[best]) best = c;
            if (best == test.Labels[i]) correct++;
        }

        var k = kTrain.ToDoubleArray();
        double maxAbs = 0, maxAsym = 0;
        for (int i = 0; i < nTrain; i++)
            for (int j = 0; j < nTrain; j++)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(k[i * nTrain + j]));
                maxAsym = Math.Max(maxAsym, Math.Abs(k[i * nTrain + j] - k[j * nTrain + i]));
            }
        var eig = Step("eigenvalues", $"{nTrain}×{nTrain}, float64", () => SymmetricEigen.Eigenvalues(kTrain), "computing");

        var pictures = plotsFolder is null ? null : Step("plots", "heat map, spectrum, GD dynamics", () =>
            DemoPlots.Write(plotsFolder, net, parameters, train.Images, train.Labels, test.Images, test.Labels, kTrain, kTest, eig), "drawing");

        stdout.WriteLine("timings");
        foreach (var (step, time, note) in timings)
            stdout.WriteLine($"  {step,-16} {CliParsing.Seconds(time),9}{(note.Length > 0 ? "  " + note : "")}");
        stdout.WriteLine($"  {"total",-16} {CliParsing.Seconds(total.Elapsed),9}");
        stdout.WriteLine("results");
        stdout.WriteLine($"  test accuracy  {F((double)correct / nTest, "0.0000")} ({correct}/{nTest})");
        stdout.WriteLine("kernel checks");
        stdout.WriteLine($"  symmetry       max|K - Kᵀ| / max|K| = {F(maxAbs > 0 ? maxAsym / maxAbs : 0, "G3")}");
        stdout.WriteLine($"  eigenvalues    λ_min(K_train,train) = {F(eig[0], "G4")}, λ_max = {F(eig[^1], "G4")}");
        if (pictures is not null)
        {
            stdout.WriteLine($"plots ({plotsFolder})");
            foreach (var (file, what) in pictures) stdout.WriteLine($"  {file,-22} {what}");
        }
        return CliApp.Ok;
    }
}
