using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.StaxLayers;

/// <summary>FsCheck: with x2 = null, NNGP and NTK of random compositions of the combinators are symmetric and PSD.</summary>
public class CombinatorPropertyTests
{
    private static Layer Nonlinearity(Random rng) => rng.Next(8) switch
    {
        0 => Relu(), 1 => Gelu(), 2 => Tanh(), 3 => LeakyRelu(0.1), 4 => Erf(), 5 => Rbf(), 6 => Monomial(2), _ => Abs(),
    };

    /// <summary>A random width-preserving block on (N, S, w) activations.</summary>
    private static Layer Block(Random rng, int w, int depth)
    {
        Layer Inner() => depth > 0 && rng.Next(3) == 0 ? Block(rng, w, depth - 1) : Serial(Dense(w, 0.5 + rng.NextDouble(), rng.Next(2) == 0 ? null : 0.3), Nonlinearity(rng));
        switch (rng.Next(6))
        {
            case 0: return Serial(FanOut(2), Parallel(Identity(), Inner()), FanInSum());
            case 1: return Serial(FanOut(2), Parallel(Inner(), Inner()), FanInProd());
            case 2: return Serial(FanOut(3), Parallel(Inner(), Inner(), Identity()), FanInConcat(), Dense(w));
            case 3: return Repeat(Inner(), rng.Next(1, 3));
            case 4: return Serial(LayerNorm(), Inner());
            default: return Serial(GlobalSelfAttention(w, 2, 2, rng.Next(1, 3), rng.Next(2) == 0), Nonlinearity(rng));
        }
    }

    [Property(MaxTest = 20)]
    public Property SameInputKernelsAreSymmetricAndPsd(PositiveInt seed)
    {
        var rng = new Random(seed.Get);
        int n = rng.Next(1, 5), s = rng.Next(1, 3), d = rng.Next(1, 4), w = rng.Next(2, 4), o = rng.Next(1, 3);
        var layers = new List<Layer> { Dense(w) };
        for (int i = 0, depth = rng.Next(1, 3); i < depth; i++) layers.Add(Block(rng, w, 1));
        layers.Add(GlobalAvgPool());
        layers.Add(Dense(o));
        var net = Serial(layers.ToArray());
        var x = Tensor.RandomNormal(rng, new Shape(n, s, d));
        var (_, p) = net.Init(seed.Get, x.Shape);
        var kernels = NeuralTangents.Empirical.KernelFn(net.Apply, new int[0], implementation: TestDefaults.Ntk)(x, null, null, p);
        foreach (var k in new[] { kernels.Nngp!, kernels.Ntk! })
        {
            var m = new double[n * o, n * o];
            for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) for (int i = 0; i < o; i++) for (int j = 0; j < o; j++)
                m[a * o + i, b * o + j] = k[a, b, i, j];
            double scale = 1e-300;
            foreach (var v in m) scale = Math.Max(scale, Math.Abs(v));
            for (int i = 0; i < n * o; i++)
                for (int j = 0; j < n * o; j++)
                    if (Math.Abs(m[i, j] - m[j, i]) > 1e-12 * scale) return false.Label($"{net}: asymmetric at ({i},{j})");
            var eig = TestUtil.JacobiEigenvalues(m);
            if (eig[0] < -1e-10 * scale) return false.Label($"{net}: smallest eigenvalue {eig[0]} (scale {scale})");
        }
        return true.ToProperty();
    }
}
