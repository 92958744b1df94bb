namespace NeuralTangents.Cluster.Tiles;

/// <summary>
/// Everything that defines a tiled empirical kernel: the network (as an <c>nt</c> net spec, so that a worker can
/// rebuild it), its parameters, the inputs, the kernels wanted and their axes, and the tile size — the counterpart of
/// <c>nt.batch(nt.empirical_kernel_fn(f, trace_axes, diagonal_axes, vmap_axes, implementation), batch_size)(x1, x2, get, params)</c>.
/// </summary>
/// <param name="NetSpec">Network description, e.g. <c>"Dense(512),Relu,Dense(10)"</c>; resolved by an <see cref="INetResolver"/>.</param>
/// <param name="Parameters">Parameters of the network (any dtype; converted to the dtype of <paramref name="X1"/>).</param>
/// <param name="X1">First inputs, batch axis first: shape (N1, …).</param>
/// <param name="X2">Second inputs (N2, …), or null for x2 = x1 (then only upper-triangular tiles are computed and mirrored).</param>
/// <param name="Get">Kernels to compute, in order (NTK and/or NNGP).</param>
/// <param name="TraceAxes">Output axes traced (averaged over), as in Neural Tangents (<c>trace_axes</c>, default (-1,)).</param>
/// <param name="DiagonalAxes">Output axes kept diagonal (<c>diagonal_axes</c>); axis 0 means only the diagonal tiles.</param>
/// <param name="VmapAxis">Batch axis of inputs and outputs (<c>vmap_axes</c>), or null.</param>
/// <param name="Implementation">NTK implementation.</param>
/// <param name="BatchSize">Examples per tile side (<c>batch_size</c> of <c>nt.batch</c>), ≥ 1.</param>
public sealed record KernelRequest(
    string NetSpec,
    Params Parameters,
    Tensor X1,
    Tensor? X2,
    IReadOnlyList<KernelKind> Get,
    int[] TraceAxes,
    int[] DiagonalAxes,
    int? VmapAxis,
    NtkImplementation Implementation,
    int BatchSize)
{
    /// <summary>Checks the request before any work; throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(NetSpec);
        ArgumentNullException.ThrowIfNull(Parameters);
        ArgumentNullException.ThrowIfNull(X1);
        if (BatchSize < 1) throw new ArgumentException($"batch size: expected >= 1, got {BatchSize}", nameof(BatchSize));
        if (Get is null || Get.Count == 0) throw new ArgumentException("get: expected at least one kernel (ntk and/or nngp)", nameof(Get));
        if (Get.Distinct().Count() != Get.Count) throw new ArgumentException("get: a kernel is repeated", nameof(Get));
        if (X1.Rank < 1) throw new ArgumentException($"x1: expected a batch axis first, got shape {X1.Shape}", nameof(X1));
        if (X2 is { } x2)
        {
            if (x2.DType != X1.DType) throw new ArgumentException($"x2: dtype {x2.DType} differs from x1's {X1.DType}", nameof(X2));
            if (x2.Rank != X1.Rank) throw new ArgumentException($"x2: shape {x2.Shape} has a different rank from x1 {X1.Shape}", nameof(X2));
        }
    }
}
