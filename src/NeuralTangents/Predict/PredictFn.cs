namespace NeuralTangents.Predict;

/// <summary>
/// Predictions of a linearized network trained by gradient descent, as returned by
/// <see cref="Predictors.GradientDescentMse"/> (Neural Tangents' <c>predict_fn(t, fx_train_0, fx_test_0, k_test_train)</c>).
/// </summary>
/// <param name="t">Training time in steps (fractional allowed; absolute time is <c>learningRate·t</c>);
/// <see cref="double.PositiveInfinity"/> means convergence (kernel regression).</param>
/// <param name="fxTrain0">Outputs on the training inputs at t = 0, (N, C); null = do not predict the training set
/// (zeros are assumed for the test prediction, as Neural Tangents does).</param>
/// <param name="fxTest0">Outputs on the test inputs at t = 0, (M, C); null = do not predict the test set.</param>
/// <param name="kTestTrain">(M, N) kernel between test and training inputs; required with <paramref name="fxTest0"/>.</param>
/// <returns>(training predictions or null, test predictions or null), in the kernel's dtype.</returns>
public delegate (Tensor? Train, Tensor? Test) PredictFn(double t, Tensor? fxTrain0, Tensor? fxTest0 = null, Tensor? kTestTrain = null);
