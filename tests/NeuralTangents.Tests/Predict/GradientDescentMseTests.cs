using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Implementations;
using NeuralTangents.Linalg;
using NeuralTangents.Predict;
using Xunit.Abstractions;
using static NeuralTangents.Stax.Stax;
using static NeuralTangents.Tests.TestUtil;
using NtEmpirical = NeuralTangents.Empirical;

namespace NeuralTangents.Tests.Predict;

/// <summary>
/// <see cref="Predictors.GradientDescentMse"/>: Neural Tangents' closed-form MSE dynamics (loss ½·mean((f − y)²),
/// time in steps, absolute time learningRate·t), checked against explicit gradient descent on Linearize(f).
/// </summary>
public class GradientDescentMseTests(ITestOutputHelper output)
{
    private static readonly Stax.Layer Net = Serial(Dense(8, 1.5, 0.1), Erf(), Dense(2));

    private sealed record Problem(Params P0, Tensor XTrain, Tensor XTest, Tensor YTrain, Tensor F0Train, Tensor F0Test);

    private static Problem Setup(int seed)
    {
        var rng = new Random(seed);
        var xTrain = Tensor.RandomNormal(rng, new Shape(5, 3));
        var xTest = Tensor.RandomNormal(rng, new Shape(3, 3));
        var y = Tensor.RandomNormal(rng, new Shape(5, 2));
        var p0 = Net.Init(seed, xTrain.Shape).Params;
        var apply = new TracedApply(Net.Apply);
        return new Problem(p0, xTrain, xTest, y, apply.Evaluate(p0, xTrain), apply.Evaluate(p0, xTest));
    }

    /// <summary>The (N·C, N'·C) NTK with rows ordered (n, c): exact finite-width dynamics, no Θ ⊗ I assumption.</summary>
    private static Tensor FullNtk(Problem pr, Tensor x1, Tensor? x2)
    {
        var k = NtEmpirical.NtkFn(Net.Apply, traceAxes: Array.Empty<int>(), implementation: TestDefaults.Ntk)(x1, x2, pr.P0); // (N1, N2, C, C)
        return k.Transpose(0, 2, 1, 3).Contiguous().Reshape(k.Shape[0] * k.Shape[2], k.Shape[1] * k.Shape[3]);
    }

    private static Tensor Col(Tensor t) => t.Contiguous().Reshape(t.Size, 1);

    [Fact]
    public void TimeZeroGivesInitialOutputs()
    {
        var pr = Setup(1);
        var predict = Predictors.GradientDescentMse(FullNtk(pr, pr.XTrain, null), Col(pr.YTrain), learningRate: 0.7);
        var (train, test) = predict(0, Col(pr.F0Train), Col(pr.F0Test), FullNtk(pr, pr.XTest, pr.XTrain));
        Assert.Equal(Col(pr.F0Train).ToDoubleArray(), train!.ToDoubleArray());
        Assert.Equal(Col(pr.F0Test).ToDoubleArray(), test!.ToDoubleArray());
    }

    [Fact]
    public void LongTrainingIsKernelRegression()
    {
        var pr = Setup(2);
        var k = FullNtk(pr, pr.XTrain, null);
        var kTest = FullNtk(pr, pr.XTest, pr.XTrain);
        var predict = Predictors.GradientDescentMse(k, Col(pr.YTrain));
        var (trainInf, testInf) = predict(double.PositiveInfinity, Col(pr.F0Train), Col(pr.F0Test), kTest);
        Assert.Equal(Col(pr.YTrain).ToDoubleArray(), trainInf!.ToDoubleArray());
        // t = ∞ is f_test(0) + K_test,train·K⁻¹(y − f_train(0)).
        var residual = Tensor.FromArray(Col(pr.YTrain).ToDoubleArray().Zip(Col(pr.F0Train).ToDoubleArray(), (a, b) => a - b).ToArray(), new Shape(10, 1));
        var kr = KernelRegression.Predict(kTest, k, residual, 0).ToDoubleArray();
        var expected = kr.Zip(Col(pr.F0Test).ToDoubleArray(), (a, b) => a + b).ToArray();
        AssertClose(expected, testInf!.ToDoubleArray(), 1e-12, 1e-12);

        var eig = SymmetricEigen.Eigenvalues(k);
        output.WriteLine($"NTK eigenvalues {eig.Min():G3} … {eig.Max():G3}");
        var (train6, test6) = predict(1e6, Col(pr.F0Train), Col(pr.F0Test), kTest);
        AssertClose(trainInf.ToDoubleArray(), train6!.ToDoubleArray(), 1e-8, 1e-9);
        AssertClose(testInf.ToDoubleArray(), test6!.ToDoubleArray(), 1e-7, 1e-8);
    }

    /// <summary>
    /// Explicit full-batch gradient descent on f_lin = Linearize(f, θ₀) with loss ½·mean((f_lin − y)²), 2000 steps of
    /// learning rate 0.01, against the predictor at t = 2000 steps (absolute time 20). Both the exact (N·C)² kernel and,
    /// for a single output, the default traced (N, N) kernel.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MatchesGradientDescentOnLinearizedNetwork(bool fullKernel)
    {
        var pr = Setup(3);
        Stax.Layer net = fullKernel ? Net : Serial(Dense(8, 1.5, 0.1), Erf(), Dense(1));
        var p0 = fullKernel ? pr.P0 : net.Init(3, pr.XTrain.Shape).Params;
        var yTrain = fullKernel ? pr.YTrain : pr.YTrain.Slice(new[] { 0, 0 }, new[] { 5, 1 }).Contiguous();
        var lin = NtEmpirical.Linearize(net.Apply, p0);
        var traced = new TracedApply(lin);
        int c = yTrain.Shape[1], n = 5;
        const int steps = 2000;
        const double lr = 0.01;

        // Gradient descent on the linearized network, gradients by reverse mode through f_lin.
        var g = traced.GraphFor(p0, new[] { TensorType.Of(pr.XTrain) });
        var wrt = Enumerable.Range(0, g.Inputs.Count).Select(i => i < p0.Count).ToArray();
        var vjp = Ad.VjpGraph(g, wrt);
        var names = p0.Keys.ToArray();
        var theta = p0.Values.Select(t => t.ToDoubleArray()).ToArray();
        var y = yTrain.ToDoubleArray();
        Tensor[] Leaves() => theta.Select((v, i) => Tensor.FromArray(v, p0[names[i]].Shape)).ToArray();
        for (int s = 0; s < steps; s++)
        {
            var fx = Ad.Evaluate(g, Leaves().Append(pr.XTrain).ToArray())[0].ToDoubleArray();
            var ct = fx.Zip(y, (a, b) => (a - b) / (n * c)).ToArray();   // ∂(½·mean((f − y)²))/∂f
            var grads = Ad.Evaluate(vjp, Leaves().Append(pr.XTrain).Append(Tensor.FromArray(ct, yTrain.Shape)).ToArray());
            for (int i = 0; i < theta.Length; i++)
            {
                var gi = grads[1 + i].ToDoubleArray();
                for (int e = 0; e < gi.Length; e++) theta[i][e] -= lr * gi[e];
            }
        }
        var pT = new Params(names.Select((nm, i) => new KeyValuePair<string, Tensor>(nm, Tensor.FromArray(theta[i], p0[nm].Shape))));
        var gdTrain = traced.Evaluate(pT, pr.XTrain).ToDoubleArray();
        var gdTest = traced.Evaluate(pT, pr.XTest).ToDoubleArray();

        var f0Train = traced.Evaluate(p0, pr.XTrain);
        var f0Test = traced.Evaluate(p0, pr.XTest);
        double[] predTrain, predTest;
        if (fullKernel)
        {
            var pro = pr with { P0 = p0 };
            var predict = Predictors.GradientDescentMse(FullNtk(pro, pr.XTrain, null), Col(yTrain), lr);
            var (tr, te) = predict(steps, Col(f0Train), Col(f0Test), FullNtk(pro, pr.XTest, pr.XTrain));
            (predTrain, predTest) = (tr!.ToDoubleArray(), te!.ToDoubleArray());
        }
        else
        {
            var ntk = NtEmpirical.NtkFn(net.Apply, implementation: TestDefaults.Ntk);
            var predict = Predictors.GradientDescentMse(ntk(pr.XTrain, null, p0), yTrain, lr);
            var (tr, te) = predict(steps, f0Train, f0Test, ntk(pr.XTest, pr.XTrain, p0));
            (predTrain, predTest) = (tr!.ToDoubleArray(), te!.ToDoubleArray());
        }
        double moved = gdTrain.Zip(f0Train.ToDoubleArray(), (a, b) => Math.Abs(a - b)).Max();
        double errTrain = gdTrain.Zip(predTrain, (a, b) => Math.Abs(a - b)).Max();
        double errTest = gdTest.Zip(predTest, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"outputs moved by up to {moved:G3}; |GD − closed form| train {errTrain:G3}, test {errTest:G3}");
        Assert.True(moved > 0.1, $"training barely moved the outputs ({moved})");
        Assert.True(errTrain < 2e-3 && errTest < 2e-3, $"train {errTrain}, test {errTest}");
    }

    [Fact]
    public void ScalarKernelHasTheExponentialClosedForm()
    {
        // N = 1, C = 2: f(t) = y + exp(−k·lr·t/(N·C))·(f0 − y); test: f_test(0) + (k_t/k)(exp(−k·lr·t/2) − 1)(f0 − y).
        double k = 3, kt = 1.5, lr = 0.5, t = 0.8;
        var predict = Predictors.GradientDescentMse(T(new[] { k }, 1, 1), T(new[] { 1.0, -2 }, 1, 2), lr);
        var (train, test) = predict(t, T(new[] { 0.25, 0.5 }, 1, 2), T(new[] { 0.0, 1 }, 1, 2), T(new[] { kt }, 1, 1));
        double decay = Math.Exp(-k * lr * t / 2);
        AssertClose(new[] { 1 + decay * (0.25 - 1), -2 + decay * (0.5 + 2) }, train!.ToDoubleArray(), 1e-14);
        AssertClose(new[] { 0 + kt / k * (decay - 1) * (0.25 - 1), 1 + kt / k * (decay - 1) * (0.5 + 2) }, test!.ToDoubleArray(), 1e-14);
    }

    [Fact]
    public void SmallTimesAreAccurate()
    {
        // First order: f(t) − f(0) = −(lr·t/(N·C))·K(f(0) − y). With f(0) = 0 the change is the whole output, so
        // expm1 must keep full relative precision at t = 1e-12 (exp(x) − 1 would lose about 4 digits).
        var pr = Setup(4);
        var kTrain = NtEmpirical.NtkFn(Net.Apply, implementation: TestDefaults.Ntk)(pr.XTrain, null, pr.P0);
        var zeros = Tensor.Zeros(new Shape(5, 2));
        var (train, _) = Predictors.GradientDescentMse(kTrain, pr.YTrain)(1e-12, zeros);
        var kk = kTrain.ToDoubleArray();
        var y = pr.YTrain.ToDoubleArray();
        var got = train!.ToDoubleArray();
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 2; j++)
            {
                double want = 1e-12 / 10 * Enumerable.Range(0, 5).Sum(m => kk[i * 5 + m] * y[m * 2 + j]);
                Assert.Equal(want, got[i * 2 + j], Math.Abs(want) * 1e-9);
            }
    }

    [Fact]
    public void DiagonalRegularizationIsRelativeToTheMeanDiagonal()
    {
        var pr = Setup(5);
        var k = NtEmpirical.NtkFn(Net.Apply, implementation: TestDefaults.Ntk)(pr.XTrain, null, pr.P0);
        var kTest = NtEmpirical.NtkFn(Net.Apply, implementation: TestDefaults.Ntk)(pr.XTest, pr.XTrain, pr.P0);
        double meanDiag = Enumerable.Range(0, 5).Average(i => k[i, i]);
        var rel = Predictors.GradientDescentMse(k, pr.YTrain, diagReg: 0.1)(3, pr.F0Train, pr.F0Test, kTest);
        var abs = Predictors.GradientDescentMse(k, pr.YTrain, diagReg: 0.1 * meanDiag, diagRegAbsoluteScale: true)(3, pr.F0Train, pr.F0Test, kTest);
        AssertClose(rel.Train!, abs.Train!, 1e-12, 1e-12);
        AssertClose(rel.Test!, abs.Test!, 1e-12, 1e-12);
        // With a ridge, t = ∞ test predictions are ridge regression (training predictions stay y, as in Neural Tangents).
        var inf = Predictors.GradientDescentMse(k, pr.YTrain, diagReg: 0.1)(double.PositiveInfinity, pr.F0Train, pr.F0Test, kTest);
        var late = Predictors.GradientDescentMse(k, pr.YTrain, diagReg: 0.1)(1e7, pr.F0Train, pr.F0Test, kTest);
        AssertClose(inf.Test!, late.Test!, 1e-8, 1e-9);
        Assert.Equal(pr.YTrain.ToDoubleArray(), inf.Train!.ToDoubleArray());
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var k = T(new[] { 2.0, 0.5, 0.5, 1 }, 2, 2);
        var y = T(new[] { 1.0, 0, 0, 1 }, 2, 2);
        Assert.Equal("kTrainTrain", Assert.Throws<ArgumentException>(() => Predictors.GradientDescentMse(T(new double[6], 2, 3), y)).ParamName);
        Assert.Equal("yTrain", Assert.Throws<ArgumentException>(() => Predictors.GradientDescentMse(k, T(new double[3], 3, 1))).ParamName);
        Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => Predictors.GradientDescentMse(k, y, 0)).ParamName);
        Assert.Equal("diagReg", Assert.Throws<ArgumentOutOfRangeException>(() => Predictors.GradientDescentMse(k, y, 1, -1)).ParamName);
        var predict = Predictors.GradientDescentMse(k, y);
        var f0 = T(new double[4], 2, 2);
        Assert.Equal("fxTrain0", Assert.Throws<ArgumentException>(() => predict(1, null)).ParamName);
        Assert.Equal("fxTrain0", Assert.Throws<ArgumentException>(() => predict(1, T(new double[2], 1, 2))).ParamName);
        Assert.Equal("kTestTrain", Assert.Throws<ArgumentException>(() => predict(1, f0, T(new double[6], 3, 2))).ParamName);
        var e = Assert.Throws<ArgumentException>(() => predict(1, f0, T(new double[6], 3, 2), T(new double[6], 2, 3)));
        Assert.Equal("kTestTrain", e.ParamName);
        Assert.Contains("(3, 2)", e.Message);
        Assert.Equal("fxTest0", Assert.Throws<ArgumentException>(() => predict(1, f0, T(new double[3], 3, 1), T(new double[6], 3, 2))).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => predict(-1, f0)).ParamName);
        Assert.Equal("t", Assert.Throws<ArgumentOutOfRangeException>(() => predict(double.NaN, f0)).ParamName);
        // Only the test set: zeros stand for f_train(0) and no training prediction is returned.
        var (train, test) = predict(double.PositiveInfinity, null, T(new double[2], 1, 2), T(new[] { 2.0, 0.5 }, 1, 2));
        Assert.Null(train);
        AssertClose(new[] { 1.0, 0 }, test!.ToDoubleArray(), 1e-14, 1e-14);
    }
}
