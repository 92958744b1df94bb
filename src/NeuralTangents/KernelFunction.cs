namespace NeuralTangents;

/// <summary>
/// A kernel function <c>(x1, x2, params) ↦ K</c> as returned by <see cref="Empirical.NngpFn(ApplyFn, int[], int[])"/> and
/// <see cref="Empirical.NtkFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/>. <paramref name="x2"/> = null
/// means <c>x2 = x1</c> (and reuses the work).
/// </summary>
/// <param name="x1">First batch, e.g. <c>(N1, …)</c>.</param>
/// <param name="x2">Second batch, e.g. <c>(N2, …)</c>, or null.</param>
/// <param name="parameters">Network parameters (same dtype as the inputs).</param>
/// <returns>The kernel, shaped as docs/conventions.md#kernel-layout, in f's output dtype.</returns>
public delegate Tensor KernelFunction(Tensor x1, Tensor? x2, Params parameters);

/// <summary>
/// The function returned by <see cref="Empirical.KernelFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/>:
/// <c>(x1, x2, get, params)</c> — note <c>get</c> comes before <c>params</c>, as in Neural Tangents.
/// <paramref name="get"/> = null means NNGP then NTK.
/// </summary>
public delegate EmpiricalKernel KernelsFunction(Tensor x1, Tensor? x2, IReadOnlyList<KernelKind>? get, Params parameters);

/// <summary>Kernel function of a <see cref="MultiApplyFn"/>: one kernel per output (no cross terms between outputs).</summary>
public delegate Tensor[] MultiKernelFunction(Tensor[] x1, Tensor[]? x2, Params parameters);

/// <summary>Both kernels of a <see cref="MultiApplyFn"/>: one <see cref="EmpiricalKernel"/> per output.</summary>
public delegate EmpiricalKernel[] MultiKernelsFunction(Tensor[] x1, Tensor[]? x2, IReadOnlyList<KernelKind>? get, Params parameters);
