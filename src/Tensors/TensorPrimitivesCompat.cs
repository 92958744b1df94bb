using System.Numerics.Tensors;

namespace NeuralTangents.Tensors;

internal static class TensorPrimitivesCompat
{
    public static void ConvertToDouble(ReadOnlySpan<float> src, Span<double> dst) => Kernels.SimdSpan.Widen(src, dst);
    public static void ConvertToSingle(ReadOnlySpan<double> src, Span<float> dst) => Kernels.SimdSpan.Narrow(src, dst);
}
