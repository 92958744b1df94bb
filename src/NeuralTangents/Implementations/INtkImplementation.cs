namespace NeuralTangents.Implementations;

/// <summary>
/// One way of computing the empirical NTK (a value of <see cref="NtkImplementation"/>): the kernel of one output,
/// and the estimate of its cost from the graphs it would evaluate, without evaluating anything (AUTO's cost model
/// and the memory planner both use it). See <see cref="NtkImplementations"/> for the table.
/// </summary>
internal interface INtkImplementation
{
    /// <summary>Which implementation this is.</summary>
    NtkImplementation Kind { get; }

    /// <summary>The NTK of output <see cref="KernelRequest.Output"/>, laid out by <see cref="KernelRequest.Axes"/>.</summary>
    Tensor Ntk(KernelRequest request);

    /// <summary>Estimated FLOPs and peak bytes (excluding the kernel itself); fits when within
    /// <see cref="KernelRequest.Budget"/>. Throws <see cref="TensorSizeException"/> when one of its tensors cannot exist.</summary>
    NtkCostEstimate Estimate(KernelRequest request);
}
