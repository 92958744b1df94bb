namespace NeuralTangents.Tensors;

/// <summary>
/// Where the hot kernels (GEMM-based <c>dot_general</c> and convolutions) run. The CPU backend is the default;
/// the CUDA backend (in <c>NeuralTangents.Cuda</c>) overrides the hot paths. The backend in effect is an
/// ambient value scoped to the current logical call flow (<see cref="Use"/>; an <see cref="AsyncLocal{T}"/>, so it
/// flows into tasks started inside the scope and two threads never see each other's choice).
/// </summary>
public abstract class ComputeBackend
{
    private static readonly AsyncLocal<ComputeBackend?> Ambient = new();

    /// <summary>The managed CPU backend (SIMD kernels, multi-threaded GEMM).</summary>
    public static ComputeBackend Cpu { get; } = new CpuBackend();

    /// <summary>The backend in effect for the current call flow (CPU unless inside <see cref="Use"/>).</summary>
    public static ComputeBackend Current => Ambient.Value ?? Cpu;

    /// <summary>Short name, e.g. <c>cpu</c> or <c>cuda:0</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Runs the enclosed calls on <paramref name="backend"/> until the returned scope is disposed.</summary>
    public static IDisposable Use(ComputeBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var previous = Ambient.Value;
        Ambient.Value = backend;
        return new Scope(previous);
    }

    /// <summary><c>dot_general</c> (output: batch, lhs free, rhs free).</summary>
    internal virtual Tensor DotGeneral(Tensor lhs, Tensor rhs, DotDimensionNumbers dims) => Kernels.DotGeneral.Compute(lhs, rhs, dims);

    /// <summary>Convolution forward (canonical layout).</summary>
    internal virtual Tensor ConvForward(Tensor lhs, Tensor rhs, ConvParams p) => Conv.Forward(lhs, rhs, p);

    /// <summary>Adjoint of the convolution in its lhs.</summary>
    internal virtual Tensor ConvLhsTranspose(Tensor ct, Tensor rhs, Shape lhsShape, ConvParams p) => Conv.LhsTranspose(ct, rhs, lhsShape, p);

    /// <summary>Adjoint of the convolution in its rhs.</summary>
    internal virtual Tensor ConvRhsTranspose(Tensor lhs, Tensor ct, Shape rhsShape, ConvParams p) => Conv.RhsTranspose(lhs, ct, rhsShape, p);

    /// <summary>The name.</summary>
    public override string ToString() => Name;

    private sealed class CpuBackend : ComputeBackend
    {
        public override string Name => "cpu";
    }

    private sealed class Scope(ComputeBackend? previous) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            Ambient.Value = previous;
        }
    }
}
