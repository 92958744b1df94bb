namespace NeuralTangents;

/// <summary>
/// A Monte Carlo kernel function (<c>nt.monte_carlo_kernel_fn</c> with an integer <c>n_samples</c>): the empirical
/// kernels averaged over independently initialised parameters. <paramref name="x2"/> = null means <c>x2 = x1</c>;
/// <paramref name="get"/> = null means NNGP then NTK.
/// </summary>
/// <returns>The averaged kernels, in the order of <paramref name="get"/>.</returns>
public delegate EmpiricalKernel MonteCarloKernelFunction(Tensor x1, Tensor? x2, IReadOnlyList<KernelKind>? get = null);

/// <summary>
/// A Monte Carlo kernel function with several sample counts (<c>nt.monte_carlo_kernel_fn</c> with an iterable
/// <c>n_samples</c>): lazily yields the running average after each requested count, reusing the samples of the
/// smaller counts.
/// </summary>
/// <returns>(N, average over the first N samples) for each requested N, ascending.</returns>
public delegate IEnumerable<(int N, EmpiricalKernel Kernel)> MonteCarloKernelsFunction(Tensor x1, Tensor? x2, IReadOnlyList<KernelKind>? get = null);
