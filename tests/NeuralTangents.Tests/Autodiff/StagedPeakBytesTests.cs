using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Implementations;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>
/// <see cref="GraphCost.StagedPeakBytes"/>: a staged graph holds every residual while its unknown part runs, which the
/// unstaged graph's liveness peak does not count (NTK-VP's pair blocks on conv nets: 110 MiB planned vs 166 MiB staged
/// on the seed CNN, 173 MiB measured).
/// </summary>
public class StagedPeakBytesTests
{
    [Fact]
    public void A_staged_conv_pair_block_holds_its_residuals_beyond_the_unstaged_peak()
    {
        var net = Serial(Conv(8, [3, 3]), Relu(), Conv(8, [3, 3]), Relu(), Flatten(), Dense(4));
        var x = Tensor.RandomNormal(new Random(1), new Shape(4, 8, 8, 3), DType.Float32);
        var p = net.Init(0, x.Shape, DType.Float32).Params;
        var g = NtkVectorProducts.DebugPairGraph(net.Apply, p, [x], 0, simplify: true, fuse: true, c2: 2);
        var staged = Ad.Linearize(g, Masks.From(g.Inputs.Count, p.Count + 1));
        static double Bytes(TensorType t) => t.Shape.Elements * (double)t.DType.SizeOf();
        double residuals = staged.Unknown.Inputs.Take(staged.ResidualCount).Sum(v => Bytes(v.Type));
        double largest = staged.Unknown.Equations.Max(e => Bytes(e.Output.Type));
        double peak = GraphCost.StagedPeakBytes(staged);
        Assert.Equal(Math.Max(GraphCost.PeakBytes(staged.Known), GraphCost.PeakBytes(staged.Unknown)), peak);
        Assert.True(peak >= residuals + largest, $"staged peak {peak} < residuals {residuals} + largest unknown intermediate {largest}");
        Assert.True(peak > GraphCost.PeakBytes(g), $"staged peak {peak} vs unstaged {GraphCost.PeakBytes(g)}");
    }
}
