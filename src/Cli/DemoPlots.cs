using System.Globalization;
using NeuralTangents.Implementations;
using NeuralTangents.Plotting;
using NeuralTangents.Predict;
using NeuralTangents.Stax;

namespace NeuralTangents.Cli;

/// <summary>
/// <c>nt demo --plots DIR</c>: the pictures of the demo, as in Neural Tangents' function-space notebook —
/// the train-train NTK sorted by label, its spectrum, and the train/test loss and accuracy of a linearized network
/// trained by gradient descent on the MSE (<c>predict.gradient_descent_mse</c>) against training time.
/// </summary>
internal static class DemoPlots
{
    /// <summary>The files written into the folder, in order.</summary>
    public static readonly string[] FileNames = ["kernel.png", "spectrum.png", "dynamics-loss.png", "dynamics-accuracy.png"];

    /// <summary>Creates <paramref name="dir"/> if needed (its parent must exist); fails before any work otherwise.</summary>
    public static string Prepare(string dir)
    {
        var full = Path.GetFullPath(dir);
        var parent = Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar));
        if (File.Exists(full)) throw new ArgumentException($"--plots: '{dir}' is a file; expected a folder");
        if (parent is not null && !Directory.Exists(parent)) throw new DirectoryNotFoundException($"--plots: folder '{parent}' does not exist");
        Directory.CreateDirectory(full);
        return full;
    }

    /// <summary>Writes the four pictures; returns (file, what) lines for the report.</summary>
    public static List<(string File, string What)> Write(string dir, Layer net, Params parameters, Tensor xTrain, int[] trainLabels, Tensor xTest,
        int[] testLabels, Tensor kTrain, Tensor kTest, double[] eigenvalues)
    {
        int n = kTrain.Shape[0], m = kTest.Shape[0];
        const int c = 10;
        var written = new List<(string, string)>();

        var heat = KernelPlots.KernelHeatmap(kTrain.ToDoubleArray(), n, n, trainLabels, $"empirical NTK, train×train ({n}×{n}), sorted by digit");
        PlotFile.SavePng(heat, Path.Combine(dir, FileNames[0]), 760, 640);
        written.Add((FileNames[0], "NTK heat map, sorted by label"));
        PlotFile.SavePng(KernelPlots.Spectrum(eigenvalues, $"NTK train×train"), Path.Combine(dir, FileNames[1]));
        written.Add((FileNames[1], "NTK eigenvalues, log scale"));

        // Gradient-descent MSE dynamics of the linearized network from its initial outputs (one-hot targets).
        var yTrain = OneHot(trainLabels, c);
        var f = new TracedApply(net.Apply);
        var fTrain0 = f.Evaluate(parameters, xTrain).AsType(DType.Float64);
        var fTest0 = f.Evaluate(parameters, xTest).AsType(DType.Float64);
        var yTest = OneHot(testLabels, c).ToDoubleArray();
        var predict = Predictors.GradientDescentMse(kTrain.AsType(DType.Float64), yTrain);
        var kTest64 = kTest.AsType(DType.Float64);
        // Times from a hundredth of the fastest mode's time scale N·C/λmax to 10⁷ times that, log-spaced.
        double lambdaMax = eigenvalues.Max();
        double t0 = 0.01 * n * c / lambdaMax;
        const int points = 61;
        var times = Enumerable.Range(0, points).Select(i => t0 * Math.Pow(10, 7.0 * i / (points - 1))).ToArray();
        var trainLoss = new double[points]; var testLoss = new double[points];
        var trainAcc = new double[points]; var testAcc = new double[points];
        var y = yTrain.ToDoubleArray();
        for (int i = 0; i < points; i++)
        {
            var (tr, te) = predict(times[i], fTrain0, fTest0, kTest64);
            (trainLoss[i], trainAcc[i]) = LossAndAccuracy(tr!.ToDoubleArray(), y, trainLabels, c);
            (testLoss[i], testAcc[i]) = LossAndAccuracy(te!.ToDoubleArray(), yTest, testLabels, c);
        }
        PlotFile.SavePng(KernelPlots.Curves(times, [("train", trainLoss), ("test", testLoss)],
            $"gradient descent on ½·mean((f − y)²), linearized network (N = {n}, M = {m})", "loss ½·mean((f − y)²) (log scale)", logY: true),
            Path.Combine(dir, FileNames[2]));
        written.Add((FileNames[2], $"loss: train {F(trainLoss[0])} → {F(trainLoss[^1])}, test {F(testLoss[0])} → {F(testLoss[^1])}"));
        PlotFile.SavePng(KernelPlots.Curves(times, [("train", trainAcc), ("test", testAcc)],
            $"gradient descent on ½·mean((f − y)²), linearized network (N = {n}, M = {m})", "accuracy", legend: ScottPlot.Alignment.LowerRight),
            Path.Combine(dir, FileNames[3]));
        written.Add((FileNames[3], $"accuracy: train {F(trainAcc[0])} → {F(trainAcc[^1])}, test {F(testAcc[0])} → {F(testAcc[^1])}"));
        return written;
    }

    private static string F(double x) => x.ToString("0.0000", CultureInfo.InvariantCulture);

    private static Tensor OneHot(int[] labels, int c)
    {
        var y = new double[labels.Length * c];
        for (int i = 0; i < labels.Length; i++) y[i * c + labels[i]] = 1;
        return Tensor.FromArray(y, new Shape(labels.Length, c));
    }

    private static (double Loss, double Accuracy) LossAndAccuracy(double[] f, double[] y, int[] labels, int c)
    {
        double loss = 0;
        for (int e = 0; e < f.Length; e++) loss += (f[e] - y[e]) * (f[e] - y[e]);
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int best = 0;
            for (int k = 1; k < c; k++) if (f[i * c + k] > f[i * c + best]) best = k;
            if (best == labels[i]) correct++;
        }
        return (0.5 * loss / f.Length, (double)correct / labels.Length);
    }
}
