namespace NeuralTangents.Linalg;

/// <summary>
/// Kernel (ridge) regression with a precomputed kernel — the mean prediction of an infinitely wide network trained
/// to convergence under MSE with the NTK (or the NNGP posterior mean).
/// </summary>
internal static class KernelRegression
{
    /// <summary>
    /// <c>K_test,train · (K_train,train + ridge·mean(diag K_train,train)·I)⁻¹ · Y_train</c>, in float64.
    /// The ridge is relative to the mean diagonal (the kernel's typical scale), so the same value works for kernels
    /// of any magnitude; <c>ridge = 0</c> is plain interpolation and needs K_train,train positive definite.
    /// </summary>
    /// <param name="kTestTrain">(M, N) kernel between test and training inputs.</param>
    /// <param name="kTrainTrain">(N, N) symmetric kernel of the training inputs (lower triangle used).</param>
    /// <param name="yTrain">(N, C) training targets.</param>
    /// <param name="ridge">Non-negative relative diagonal regularization.</param>
    /// <returns>(M, C) float64 predictions.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit together (message gives both shapes), ridge negative or
    /// not finite, or the regularized matrix is not positive definite.</exception>
    public static Tensor Predict(Tensor kTestTrain, Tensor kTrainTrain, Tensor yTrain, double ridge)
    {
        ArgumentNullException.ThrowIfNull(kTestTrain);
        ArgumentNullException.ThrowIfNull(kTrainTrain);
        ArgumentNullException.ThrowIfNull(yTrain);
        if (kTrainTrain.Rank != 2 || kTrainTrain.Shape[0] != kTrainTrain.Shape[1])
            throw new ArgumentException($"kTrainTrain must be a square matrix (N, N), got shape {kTrainTrain.Shape}", nameof(kTrainTrain));
        int n = kTrainTrain.Shape[0];
        if (kTestTrain.Rank != 2 || kTestTrain.Shape[1] != n)
            throw new ArgumentException($"kTestTrain must have shape (M, {n}) to match kTrainTrain {kTrainTrain.Shape}, got {kTestTrain.Shape}", nameof(kTestTrain));
        if (yTrain.Rank != 2 || yTrain.Shape[0] != n)
            throw new ArgumentException($"yTrain must have shape ({n}, C) to match kTrainTrain {kTrainTrain.Shape}, got {yTrain.Shape}", nameof(yTrain));
        if (!(ridge >= 0) || double.IsInfinity(ridge))
            throw new ArgumentException($"ridge must be finite and non-negative, got {ridge}", nameof(ridge));

        int m = kTestTrain.Shape[0], c = yTrain.Shape[1];
        var k = kTrainTrain.ToDoubleArray();
        if (ridge > 0 && n > 0)
        {
            double meanDiag = 0;
            for (int i = 0; i < n; i++) meanDiag += k[i * n + i];
            meanDiag /= n;
            for (int i = 0; i < n; i++) k[i * n + i] += ridge * meanDiag;
        }
        var alpha = yTrain.ToDoubleArray();
        Cholesky.Factor(k, n).SolveInPlace(alpha, c);

        // K_test,train · α: transpose α so each output is a contiguous dot product.
        var alphaT = new double[c * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++) alphaT[j * n + i] = alpha[i * c + j];
        var kt = kTestTrain.ToDoubleArray();
        var result = new double[m * c];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < c; j++)
                result[i * c + j] = DenseMatrix.Dot(kt.AsSpan(i * n, n), alphaT.AsSpan(j * n, n));
        return Tensor.Wrap(result, new Shape(m, c));
    }
}
