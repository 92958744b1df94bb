using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Empirical;

/// <summary>
/// All implementations agree (float64 1e-10, float32 5e-3) on Neural Tangents' <c>EmpiricalTest</c> networks (FLAT, POOLING, CONV)
/// over its <c>testAxes</c> grid of trace/diagonal axes, with and without <c>VmapAxes</c>, x2 given and null.
/// </summary>
public class ImplementationAgreementTests
{
    internal static readonly NtkImplementation[] Implementations = { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives, NtkImplementation.Auto };

    public static readonly (string Name, Layer Net, int[] X1, int[] X2)[] Networks =
    {
        ("FLAT", Dense(3, 2, 0.5), new[] { 4, 8 }, new[] { 6, 8 }),
        ("FLAT-conv", Serial(Conv(2, new[] { 3, 3 }, wStd: 2, bStd: 0.05), Flatten(), Dense(3, 2, 0.5)), new[] { 6, 4, 4, 3 }, new[] { 2, 4, 4, 3 }),
        ("POOLING", Serial(Conv(2, new[] { 3, 3 }, wStd: 2, bStd: 0.05), GlobalAvgPool(), Dense(3, 2, 0.5)), new[] { 4, 4, 4, 3 }, new[] { 2, 4, 4, 3 }),
        ("CONV", Serial(Conv(2, new[] { 1, 2 }, wStd: 1.5, bStd: 0.1), Relu(), Conv(2, new[] { 3, 2 }, wStd: 2, bStd: 0.05)), new[] { 4, 5, 6, 3 }, new[] { 2, 5, 6, 3 }),
    };

    private static readonly int[][] Diag = { new int[0], new[] { 0 }, new[] { 0, 1 }, new[] { 0, 1, 2 }, new[] { 0, 1, 2, 3 }, new[] { -1 }, new[] { -2 }, new[] { 0, -1 }, new[] { 1, -2 }, new[] { 2, 3 }, new[] { 3, 0, 2 } };
    private static readonly int[][] Trace = { new int[0], new[] { 0 }, new[] { 0, 1 }, new[] { -1 }, new[] { 1 }, new[] { 0, -1 }, new[] { -1, -2 }, new[] { 0, 1, 2, 3 }, new[] { 3, 1, 2, 0 }, new[] { 1, 2, 3 }, new[] { -3, -2 }, new[] { -3, -1 }, new[] { -2, -4 }, new[] { 2, 0, -1 } };

    public static IEnumerable<object[]> Cases()
    {
        for (int n = 0; n < Networks.Length; n++)
            foreach (var dtype in new[] { DType.Float64, DType.Float32 })
                yield return new object[] { n, new int[0], new int[0], dtype };
        // The CONV network over the whole testAxes grid (outputs of rank 4), overlapping combinations skipped.
        for (int d = 0; d < Diag.Length; d++)
            for (int t = 0; t < Trace.Length; t++)
            {
                var dd = Diag[d].Select(a => (a + 4) % 4).ToHashSet();
                if (Trace[t].Select(a => (a + 4) % 4).Any(dd.Contains)) continue;
                if ((d * 7 + t) % 3 == 0 && (d, t) != (0, 0)) yield return new object[] { 3, Trace[t], Diag[d], DType.Float64 };
            }
    }

    [Theory, MemberData(nameof(Cases))]
    public void ImplementationsAndVmapAgree(int network, int[] trace, int[] diag, DType dtype)
    {
        var (_, net, s1, s2) = Networks[network];
        var rng = new Random(network);
        var x1 = Tensor.RandomNormal(rng, new Shape(s1), dtype);
        var x2 = Tensor.RandomNormal(rng, new Shape(s2), dtype);
        var (_, p) = net.Init(0, new Shape(s1), dtype);
        bool axis0 = trace.Concat(diag).Any(a => a == 0 || a == -4 && s1.Length == 4);
        double tol = dtype == DType.Float64 ? 1e-10 : 5e-3;
        foreach (var second in axis0 ? new Tensor?[] { null } : new Tensor?[] { null, x2 })
        {
            var reference = NeuralTangents.Empirical.NtkFn(net.Apply, trace, diag, implementation: NtkImplementation.JacobianContraction)(x1, second, p);
            var nngp = NeuralTangents.Empirical.NngpFn(net.Apply, trace, diag)(x1, second, p);
            Assert.Equal(reference.Shape, nngp.Shape);
            double scale = reference.ToDoubleArray().Select(Math.Abs).DefaultIfEmpty(0).Max();
            foreach (var impl in Implementations)
                foreach (var vmap in new VmapAxes?[] { null, 0 })
                {
                    var k = NeuralTangents.Empirical.NtkFn(net.Apply, trace, diag, vmap, impl)(x1, second, p);
                    Assert.Equal(dtype, k.DType);
                    TestUtil.AssertClose(reference.ToDoubleArray(), k.ToDoubleArray(), tol, tol * scale, $"{impl} vmap={vmap}");
                }
        }
    }
}
