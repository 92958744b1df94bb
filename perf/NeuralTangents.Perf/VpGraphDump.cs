using System.Diagnostics;
using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Kernels;
using NeuralTangents.Tensors;
using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Perf;

/// <summary><c>vp-graph</c>: prints the per-example-pair NTK-VP graph of the seed FCN (debugging the graph optimiser).</summary>
internal static class VpGraphDump
{
    public static int Run(string[] args)
    {
        var net = Serial(Flatten(), Dense(1024), Relu(), Dense(1024), Relu(), Dense(100));
        var x = Tensor.RandomNormal(new Random(1), new Shape(5, 32, 32, 3), DType.Float32);
        var p = net.Init(0, x.Shape, DType.Float32).Params;
        var g = NtkVectorProducts.DebugPairGraph(net.Apply, p, [x], 0, args.Contains("--opt"));
        Console.WriteLine(g);
        Console.WriteLine($"flops {GraphCost.Flops(g) / 1e9:F3} GFLOP largest {GraphCost.LargestBytes(g) / 1e6:F1} MB peak {GraphCost.PeakBytes(g) / 1e6:F1} MB");
        return 0;
    }
}
