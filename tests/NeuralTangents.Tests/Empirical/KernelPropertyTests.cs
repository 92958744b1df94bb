using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Empirical;

/// <summary>FsCheck properties: with x2 = null the NNGP and NTK are symmetric (every zipped pair of axes swapped at
/// once, docs/conventions.md#kernel-layout) and positive semi-definite.</summary>
public class KernelPropertyTests
{
    /// <summary>Random small FCNs: width, depth, input size, batch, output size, bias on/off, trace over logits or not.</summary>
    [Property(MaxTest = 25)]
    public Property SameInputKernelsAreSymmetricAndPsd(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        int n = rng.Next(1, 6), d = rng.Next(1, 5), o = rng.Next(1, 4), depth = rng.Next(1, 3);
        bool traceLogits = rng.Next(2) == 0;
        var layers = new List<NeuralTangents.Stax.Layer>();
        for (int i = 0; i < depth; i++)
        {
            layers.Add(Dense(rng.Next(1, 6), 0.5 + rng.NextDouble(), rng.Next(2) == 0 ? null : rng.NextDouble()));
            layers.Add(rng.Next(2) == 0 ? Relu() : Erf());
        }
        layers.Add(Dense(o));
        var net = Serial(layers.ToArray());
        var x = Tensor.RandomNormal(rng, new Shape(n, d));
        var (_, p) = net.Init(seed.Get, x.Shape);
        var trace = traceLogits ? new[] { -1 } : new int[0];
        var kernels = NeuralTangents.Empirical.KernelFn(net.Apply, trace, implementation: TestDefaults.Ntk)(x, null, null, p);
        foreach (var k in new[] { kernels.Nngp!, kernels.Ntk! })
        {
            var m = AsMatrix(k, n, traceLogits ? 1 : o);
            int size = m.GetLength(0);
            double scale = 1e-300;
            foreach (var v in m) scale = Math.Max(scale, Math.Abs(v));
            for (int i = 0; i < size; i++)
                for (int j = 0; j < size; j++)
                    if (Math.Abs(m[i, j] - m[j, i]) > 1e-13 * scale) return false.Label($"asymmetric at ({i},{j})");
            var eig = TestUtil.JacobiEigenvalues(m);
            if (eig[0] < -1e-10 * scale) return false.Label($"smallest eigenvalue {eig[0]} (scale {scale})");
        }
        return true.ToProperty();
    }

    /// <summary>(N, N) or (N, N, O, O) → the (N·O, N·O) matrix K[(n1,o1),(n2,o2)].</summary>
    private static double[,] AsMatrix(Tensor k, int n, int o)
    {
        var m = new double[n * o, n * o];
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
                for (int i = 0; i < o; i++)
                    for (int j = 0; j < o; j++)
                        m[a * o + i, b * o + j] = k.Rank == 2 ? k[a, b] : k[a, b, i, j];
        return m;
    }
}
