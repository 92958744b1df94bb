using NeuralTangents.Implementations;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Implementations;

/// <summary>
/// Every NTK implementation runs its graph evaluations and contractions on the request's backend
/// (<see cref="KernelRequest.Backend"/>, resolved once when the requests are made), never on the ambient one.
/// </summary>
public class RequestBackendTests
{
    private static KernelRequest Request(ComputeBackend backend, bool vmap)
    {
        var net = Serial(Dense(8, 1.3, 0.2), Relu(), Dense(3));
        var rng = new Random(5);
        var x1 = Tensor.RandomNormal(rng, new Shape(4, 5));
        var x2 = Tensor.RandomNormal(rng, new Shape(3, 5));
        var p = net.Init(2, x1.Shape, DType.Float64).Params;
        var axes = KernelAxes.Canonicalize([-1], [], 2);
        return KernelRequest.ForOutputs(new TracedApply(net.Apply), p, [x1], [x2], [axes], vmap ? 0 : null, 1L << 30,
            SdRules.All, backend)[0];
    }

    public static IEnumerable<object[]> Cases() =>
        NtkImplementations.All.SelectMany(m => new[] { new object[] { m.Kind, false }, new object[] { m.Kind, true } });

    [Theory, MemberData(nameof(Cases))]
    public void Runs_on_the_requests_backend_not_the_ambient_one(NtkImplementation kind, bool vmap)
    {
        var impl = NtkImplementations.For(kind);
        var reference = impl.Ntk(Request(ComputeBackend.Cpu, vmap)).ToDoubleArray();

        var given = new CountingBackend();
        var k = impl.Ntk(Request(given, vmap)).ToDoubleArray();
        Assert.True(given.Dots > 0, $"{kind}: no dot_general ran on the request's backend");
        // Same products on the same CPU kernels; the CPU-only paths (symmetric Grams, in-place accumulation) may sum
        // in another order: float64, 1e-12.
        TestUtil.AssertClose(reference, k, 1e-12, 1e-12);

        var ambient = new CountingBackend();
        using (ComputeBackend.Use(ambient)) impl.Ntk(Request(ComputeBackend.Cpu, vmap));
        Assert.Equal(0, ambient.Dots);
    }
}
