using NeuralTangents.Tiles;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Tiles;

/// <summary>
/// x2 = null: every kernel equals its transpose (x1 ↔ x2 in every free pair of axes) bit for bit, for every implementation,
/// with and without vmap axes, whole or in tiles (new-user trial 4: NTK-vector products and structured derivatives
/// without vmap axes differed in the last bit, the example-diagonal blocks included), and symmetrizing changes values
/// only at rounding level.
/// </summary>
public class ExactSymmetryTests
{
    private static readonly Stax.Layer Net = Serial(Dense(16, 1.5, 0.1), Relu(), Dense(8, 1, 0.2), Tanh(), Dense(3));

    public static TheoryData<NtkImplementation, bool, bool, bool> Cases()
    {
        var d = new TheoryData<NtkImplementation, bool, bool, bool>();
        foreach (var impl in new[] { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives })
            foreach (var vmap in new[] { true, false })
                foreach (var traced in new[] { true, false })
                    d.Add(impl, vmap, traced, false);
        d.Add(NtkImplementation.NtkVectorProducts, true, false, true);
        d.Add(NtkImplementation.StructuredDerivatives, true, true, true);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void KernelsOfXAgainstItselfEqualTheirTranspose(NtkImplementation impl, bool vmap, bool traced, bool tiled)
    {
        var x = Tensor.RandomNormal(new Random(5), new Shape(7, 6));
        var p = Net.Init(2, x.Shape, DType.Float64).Params;
        int[] trace = traced ? [-1] : [];
        var options = tiled ? new KernelOptions { BatchSize = 3 } : null;
        var k = NeuralTangents.Empirical.NtkFn(Net.Apply, trace, null, vmap ? 0 : null, impl, options)(x, null, p);
        var swap = traced ? new[] { 1, 0 } : new[] { 1, 0, 3, 2 };
        Assert.Equal(k.Transpose(swap).Contiguous().ToDoubleArray(), k.Contiguous().ToDoubleArray());
        // Against x2 given explicitly (not symmetrized): the same kernel up to rounding.
        var given = NeuralTangents.Empirical.NtkFn(Net.Apply, trace, null, vmap ? 0 : null, impl, options)(x, x, p);
        TestUtil.AssertClose(given, k, 1e-14, 1e-15);
    }

    [Fact]
    public void SymmetrizeAveragesEachPairAndKeepsEqualPairs()
    {
        // (2, 2, 2, 2) layout (i, j, a, b): partner of (i, j, a, b) is (j, i, b, a).
        var v = Enumerable.Range(0, 16).Select(i => (double)i).ToArray();
        var k = KernelJob.Symmetrize(Tensor.FromArray(v, new Shape(2, 2, 2, 2)), [1, 0, 3, 2]).ToDoubleArray();
        for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) for (int a = 0; a < 2; a++) for (int b = 0; b < 2; b++)
        {
            int at = ((i * 2 + j) * 2 + a) * 2 + b, partner = ((j * 2 + i) * 2 + b) * 2 + a;
            Assert.Equal((v[at] + v[partner]) / 2, k[at]);
        }
        var f = KernelJob.Symmetrize(Tensor.FromArray(new float[] { 1, 2, 2, 5 }, new Shape(2, 2)), [1, 0]);
        Assert.Equal(new double[] { 1, 2, 2, 5 }, f.ToDoubleArray());
    }
}
