using NeuralTangents.Data;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Empirical;

/// <summary>
/// float32 kernels stay within 1e-5 (relative to the largest entry) of the float64 kernel of the same network and
/// data — the guide's target, which needs blocked float32 reductions combined in float64 (GEMM k-blocks, einsum
/// steps, sums). Measured at larger sizes (SD): seed CNN 5×20 1.5e-7, digits FCN 64-512-512-10 on 400² 2.2e-7.
/// </summary>
public class Float32AccuracyTests
{
    public static IEnumerable<object[]> Cases() =>
        from impl in new[] { NtkImplementation.StructuredDerivatives, NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts }
        from net in new[] { "fcn", "cnn" }
        select new object[] { impl, net };

    [Theory, MemberData(nameof(Cases))]
    public void Float32KernelIsWithin1e5OfFloat64(NtkImplementation impl, string net)
    {
        NeuralTangents.Stax.Layer layer; Tensor x1; Tensor? x2;
        if (net == "fcn")
        {
            // Real data: 40 digits, a 64-256-256-10 FCN with biases; train-train kernel.
            layer = Serial(Flatten(), Dense(256, bStd: 0.1), Relu(), Dense(256, bStd: 0.1), Relu(), Dense(10));
            x1 = OptDigits.Load(Path.Combine(OptDigits.FindDataDirectory(), OptDigits.TestFileName), 40).Images; x2 = null;
        }
        else
        {
            var rng = new Random(2);
            layer = Serial(Conv(16, new[] { 3, 3 }, bStd: 0.1), Relu(), Conv(16, new[] { 3, 3 }), Relu(), Flatten(), Dense(10));
            x1 = Tensor.RandomNormal(rng, new Shape(4, 12, 12, 3)); x2 = Tensor.RandomNormal(rng, new Shape(6, 12, 12, 3));
        }
        var (_, p64) = layer.Init(5, x1.Shape, DType.Float64);
        var p32 = new Params(p64.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.AsType(DType.Float32))));
        var fn = NeuralTangents.Empirical.NtkFn(layer.Apply, traceAxes: new[] { -1 }, vmapAxes: 0, implementation: impl);
        var k64 = fn(x1.AsType(DType.Float64), x2?.AsType(DType.Float64), p64).ToDoubleArray();
        var k32 = fn(x1.AsType(DType.Float32), x2?.AsType(DType.Float32), p32);
        Assert.Equal(DType.Float32, k32.DType);
        double scale = k64.Max(Math.Abs);
        double err = k64.Zip(k32.ToDoubleArray(), (a, b) => Math.Abs(a - b)).Max() / scale;
        Assert.True(err < 1e-5, $"{impl} {net}: max |k32 - k64| / max |k64| = {err:E2}");
    }
}
