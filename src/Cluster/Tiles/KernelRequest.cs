using NeuralTangents.Tiles;

namespace NeuralTangents.Cluster.Tiles;

/// <summary>
/// A tiled kernel as <see cref="Empirical.Tiled(ApplyFn, Tensor, Tensor, Params, IReadOnlyList{KernelKind}, int[], int[], VmapAxes, NtkImplementation, KernelOptions)"/>
/// takes it — the counterpart of <c>nt.batch(nt.empirical_kernel_fn(f, trace_axes, diagonal_axes, vmap_axes,
/// implementation), batch_size)(x1, x2, get, params)</c> — with the network named by an <c>nt</c> net spec instead of
/// a delegate, so that workers on other machines can rebuild it.
/// </summary>
/// <param name="NetSpec">Network description, e.g. <c>"Dense(512),Relu,Dense(10)"</c>; resolved by an <see cref="INetResolver"/>.</param>
/// <param name="Parameters">Parameters of the network (same dtype as the inputs).</param>
/// <param name="X1">First inputs, examples along the batch axis (<paramref name="VmapAxis"/>, else 0).</param>
/// <param name="X2">Second inputs, or null for x2 = x1 (upper-triangular tiles, mirrored).</param>
/// <param name="Get">Kernels to compute (one per .npy file).</param>
/// <param name="TraceAxes">Output axes traced (<c>trace_axes</c>; default (-1,)).</param>
/// <param name="DiagonalAxes">Output axes kept diagonal (<c>diagonal_axes</c>).</param>
/// <param name="VmapAxis">Batch axis of inputs and outputs (<c>vmap_axes</c>), or null.</param>
/// <param name="Implementation">NTK implementation (AUTO is resolved once, on the client, with tiled costs).</param>
/// <param name="Options">Tile size (<see cref="KernelOptions.BatchSize"/>), memory budget, progress and cancellation.</param>
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
    KernelOptions Options)
{
    /// <summary>The single-machine tiled kernel of this request (validated and planned; nothing computed yet).</summary>
    /// <exception cref="KernelMemoryException">Even one tile does not fit the memory budget.</exception>
    /// <exception cref="ArgumentException">Invalid axes, shapes or options.</exception>
    public TiledKernel Plan(INetResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        return Empirical.Tiled(resolver.Resolve(NetSpec), X1, X2, Parameters, Get, TraceAxes, DiagonalAxes,
            VmapAxis is { } v ? (VmapAxes)v : null, Implementation, Options);
    }
}
