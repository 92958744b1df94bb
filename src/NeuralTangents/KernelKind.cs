namespace NeuralTangents;

/// <summary>Which empirical kernel to compute (the strings <c>'nngp'</c> and <c>'ntk'</c> of <c>get</c>).</summary>
public enum KernelKind
{
    /// <summary>The empirical NNGP <c>f(x1)·f(x2)ᵀ</c>.</summary>
    Nngp,
    /// <summary>The empirical NTK <c>J(x1)·J(x2)ᵀ</c>.</summary>
    Ntk,
}

/// <summary>
/// Result of <see cref="Empirical.KernelFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/> (Neural Tangents' <c>EmpiricalKernel</c> namedtuple): the requested
/// kernels, in the order asked.
/// </summary>
public sealed class EmpiricalKernel
{
    private readonly IReadOnlyList<(KernelKind Kind, Tensor Value)> _items;

    internal EmpiricalKernel(IReadOnlyList<(KernelKind, Tensor)> items) => _items = items;

    /// <summary>The NNGP, or null when not requested.</summary>
    public Tensor? Nngp => _items.FirstOrDefault(i => i.Kind == KernelKind.Nngp).Value;

    /// <summary>The NTK, or null when not requested.</summary>
    public Tensor? Ntk => _items.FirstOrDefault(i => i.Kind == KernelKind.Ntk).Value;

    /// <summary>The kernels in the order of <c>get</c>.</summary>
    public IReadOnlyList<(KernelKind Kind, Tensor Value)> Items => _items;
}
