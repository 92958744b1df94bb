namespace NeuralTangents.Predict;

/// <summary>
/// Closed-form training dynamics of linearized networks (<c>neural_tangents.predict</c>).
/// </summary>
public static class Predictors
{
    /// <summary>
    /// Outputs of a linearized network trained by continuous-time gradient descent on the MSE loss
    /// (<c>nt.predict.gradient_descent_mse</c> with <c>trace_axes=(-1,)</c>). As in Neural Tangents the loss is
    /// <c>½·mean((f − y)²) = ‖f − y‖²/(2·N·C)</c>, so with <c>τ = learningRate·t</c> and K regularized as
    /// <c>K + diagReg·(tr K / N)·I</c> (or <c>+ diagReg·I</c> when <paramref name="diagRegAbsoluteScale"/>):
    /// <c>f_train(t) = y + e^{−τK/(NC)}(f_train(0) − y)</c> and
    /// <c>f_test(t) = f_test(0) + K_test,train·K⁻¹·(e^{−τK/(NC)} − I)(f_train(0) − y)</c>.
    /// Finite t uses a symmetric eigendecomposition of K (computed once, on first use) with <c>expm1</c> for accuracy
    /// at small t; eigenvalues are clamped at 0 as Neural Tangents does, and a clamped mode contributes its
    /// λ → 0 limit <c>−τ/(NC)</c> to the test term (Neural Tangents divides 0 by |λ|). <c>t = +∞</c> is kernel
    /// regression by Cholesky (computed once): training predictions are exactly <paramref name="yTrain"/> (even
    /// with a ridge, as in Neural Tangents) and test predictions are <c>f_test(0) + K_test,train·K⁻¹(y − f_train(0))</c>.
    /// The kernel treats the C output columns as independent (<c>Θ ⊗ I</c>); for the exact dynamics of a finite
    /// network with C &gt; 1, pass the full (N·C, N·C) NTK (traceAxes = [], axes ordered (n, c)) and targets reshaped
    /// to (N·C, 1): the normalization N·C is the same.
    /// </summary>
    /// <param name="kTrainTrain">(N, N) symmetric positive semi-definite kernel (e.g. the empirical NTK) of the
    /// training inputs.</param>
    /// <param name="yTrain">(N, C) targets.</param>
    /// <param name="learningRate">Positive step size; times are in steps.</param>
    /// <param name="diagReg">Non-negative diagonal regularization (relative to the mean diagonal by default).</param>
    /// <param name="diagRegAbsoluteScale">Whether <paramref name="diagReg"/> is absolute.</param>
    /// <returns>The predictor; it throws <see cref="ArgumentException"/> for inconsistent shapes, when both initial
    /// outputs are null, or when <c>kTestTrain</c> is missing for a test prediction; and
    /// <see cref="ArgumentOutOfRangeException"/> for a negative or NaN time.</returns>
    /// <exception cref="ArgumentException">kTrainTrain not square, yTrain not (N, C), or a bad learning rate or ridge.</exception>
    public static PredictFn GradientDescentMse(Tensor kTrainTrain, Tensor yTrain, double learningRate = 1, double diagReg = 0,
        bool diagRegAbsoluteScale = false)
    {
        var solver = new GradientDescentMseSolver(kTrainTrain, yTrain, learningRate, diagReg, diagRegAbsoluteScale);
        return solver.Predict;
    }
}
