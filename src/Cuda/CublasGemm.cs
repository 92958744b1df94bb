using System.Numerics;

namespace NeuralTangents.Cuda;

/// <summary><see cref="IBatchedGemm"/> on one CUDA device through cuBLAS, in the given math mode.</summary>
internal sealed class CublasGemm(int device, CublasMath math) : IBatchedGemm
{
    public int Device => device;

    public CublasMath Math => math;

    public void EnsureReady() => CudaRuntime.Require().CheckOrdinal(device);

    public void Run<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, IReadOnlyList<GemmCall> calls)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        CudaBlas.RunProgram(a, b, c, calls, device, math);
}
