namespace NeuralTangents;

/// <summary>
/// A kernel function <c>(x1, x2, params) ↦ K</c> as returned by <see cref="Empirical.NngpFn"/> and
/// <see cref="Empirical.NtkFn"/>. <paramref name="x2"/> = null means <c>x2 = x1</c> (and reuses the work).
/// </summary>
/// <param name="x1">First batch, e.g. <c>(N1, …)</c>.</param>
/// <param name="x2">Second batch, e.g. <c>(N2, …)</c>, or null.</param>
/// <param name="parameters">Network parameters (same dtype as the inputs).</param>
/// <returns>The kernel, shaped as spec §2.2, in f's output dtype.</returns>
public delegate Tensor KernelFunction(Tensor x1, Tensor? x2, Params parameters);

/// <summary>
/// The function returned by <see cref="Empirical.KernelFn"/>: <c>(x1, x2, get, params)</c> — note <c>get</c> comes
/// before <c>params</c>, as in Neural Tangents. <paramref name="get"/> = null means NNGP then NTK.
/// </summary>
public delegate EmpiricalKernel KernelsFunction(Tensor x1, Tensor? x2, IReadOnlyList<KernelKind>? get, Params parameters);
