using NeuralTangents.Implementations;
using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Implementations;

/// <summary>
/// Structured derivatives with shared cotangents (a Dense/Conv layer's W and b read one ∂f/∂y root, and the MJJMPs of
/// one NTK share their pairwise steps in one einsum session) against the order they replace (each use its own
/// ∂f/∂y, SdRules.ShareCotangents off: float64, 1e-12 relative) and against JacobianContraction and
/// NtkVectorProducts (independent implementations: 1e-10), over Dense and Conv networks, trace/diagonal axes,
/// vmap axes on and off, x2 null and given.
/// </summary>
public class SharedCotangentTests
{
    public static readonly (string Name, Layer Net, int[] X1, int[] X2)[] Networks =
    {
        ("dense-bias", Serial(Dense(7, 1.5, 0.05), Relu(), Dense(6, 1.5, 0.05), Relu(), Dense(3, 1.5, 0.05)), new[] { 5, 4 }, new[] { 3, 4 }),
        ("dense-standard", Serial(Dense(6, 1.3, 0.2, Parameterization.Standard), Erf(), Dense(4, 0.9, 0.1, Parameterization.Standard)), new[] { 4, 5 }, new[] { 6, 5 }),
        ("dense-nobias", Serial(Dense(6, 2.0), Relu(), Dense(3, 0.7)), new[] { 4, 3 }, new[] { 2, 3 }),
        ("conv-bias", Serial(Conv(3, new[] { 2, 2 }, wStd: 1.5, bStd: 0.1), Relu(), Conv(2, new[] { 2, 1 }, wStd: 2, bStd: 0.05), Flatten(), Dense(3, 1.2, 0.3)),
            new[] { 3, 4, 5, 2 }, new[] { 2, 4, 5, 2 }),
    };

    private static readonly (int[] Trace, int[] Diagonal)[] Axes =
    {
        (new[] { -1 }, new int[0]), (new int[0], new int[0]), (new int[0], new[] { 1 }), (new int[0], new[] { 0 }), (new[] { -1 }, new[] { 0 }),
    };

    public static IEnumerable<object[]> Cases()
    {
        for (int n = 0; n < Networks.Length; n++)
            for (int a = 0; a < Axes.Length; a++)
                foreach (var vmap in new[] { false, true })
                    foreach (var x2Null in new[] { false, true })
                    {
                        if (Axes[a].Diagonal.Contains(0) && !x2Null) continue;   // a diagonal batch axis needs equal batch sizes
                        yield return new object[] { n, a, vmap, x2Null };
                    }
    }

    [Theory, MemberData(nameof(Cases))]
    public void SharedEqualsUnsharedAndTheOtherImplementations(int net, int axes, bool vmap, bool x2Null)
    {
        var (_, layer, s1, s2) = Networks[net];
        var (trace, diagonal) = Axes[axes];
        var rng = new Random(net * 31 + axes * 7 + (vmap ? 1 : 0));
        var x1 = Tensor.RandomNormal(rng, new Shape(s1));
        var x2 = x2Null ? null : Tensor.RandomNormal(rng, new Shape(s2));
        var (_, p) = layer.Init(net + 1, x1.Shape);
        VmapAxes? v = vmap ? 0 : null;
        var shared = NeuralTangents.Empirical.NtkFn(layer.Apply, trace, diagonal, v, SdRules.All)(x1, x2, p).ToDoubleArray();
        var unshared = NeuralTangents.Empirical.NtkFn(layer.Apply, trace, diagonal, v, new SdRules(ShareCotangents: false))(x1, x2, p).ToDoubleArray();
        double scale = unshared.Select(Math.Abs).Max();
        Assert.True(scale > 0);
        TestUtil.AssertClose(unshared, shared, 1e-12, 1e-12 * scale, "shared vs unshared cotangents");
        foreach (var impl in new[] { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts })
        {
            var other = NeuralTangents.Empirical.NtkFn(layer.Apply, trace, diagonal, v, impl)(x1, x2, p).ToDoubleArray();
            TestUtil.AssertClose(other, shared, 1e-10, 1e-10 * scale, impl.ToString());
        }
        if (x2Null && trace.SequenceEqual(new[] { -1 }) && diagonal.Length == 0)
        {
            // Train-train kernels stay exactly symmetric in the example axes.
            var k = NeuralTangents.Empirical.NtkFn(layer.Apply, trace, diagonal, v, SdRules.All)(x1, null, p);
            int n = x1.Shape[0];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) Assert.Equal(k[i, j], k[j, i]);
        }
    }

    /// <summary>Each Dense layer's W and b meet at their sum: both uses read the same root, W's with the factor σ_w/√n
    /// (NTK parameterization); the last layer's root is the network output itself. One example, as SD sees each
    /// example under vmap axes (with a batch of several, b is broadcast before the sum and keeps its own ∂f/∂y).</summary>
    [Fact]
    public void DenseWeightAndBiasShareOneRoot()
    {
        var net = Serial(Dense(8, 1.5, 0.05), Relu(), Dense(3, 2.0, 0.25));
        var x = Tensor.RandomNormal(new Random(1), new Shape(1, 6));
        var (_, p) = net.Init(0, x.Shape);
        var f = new TracedApply(net.Apply);
        var request = KernelRequest.ForOutputs(f, p, new[] { x }, null, new[] { KernelAxes.Canonicalize(new[] { -1 }, new int[0], 2) }, null, long.MaxValue, SdRules.All)[0];
        var side = StructuredDerivatives.PlanFor(request).Side1;
        Assert.Equal(4, side.Uses.Count);
        var byRoot = side.Uses.GroupBy(u => u.Root).ToArray();
        Assert.Equal(2, byRoot.Length);
        var factors = side.Uses.Select(u => u.Factor).OrderBy(v => v).ToArray();
        // W: x·W·σ_w/√n (the factor); b: b·σ_b is the use itself (σ_b is in its compressed Jacobian).
        Assert.Equal(new[] { 1.5 / Math.Sqrt(6), 2.0 / Math.Sqrt(8), 1, 1 }, factors, (a, b) => Math.Abs(a - b) < 1e-15);
        Assert.Contains(side.Uses, u => ReferenceEquals(u.Root, side.Linear.Outputs[0]));
    }

    /// <summary>Two einsums sharing a keyed operand pair: the second one's Gram costs nothing in the plan, the values
    /// equal separate contractions, and the session holds nothing once both have run.</summary>
    [Fact]
    public void SessionSharesAStepAcrossEinsumsAndFreesIt()
    {
        const int n = 30, t = 4, o = 9, d = 5;
        var rng = new Random(3);
        var a = Tensor.RandomNormal(rng, new Shape(n, t, o));
        var j1 = Tensor.RandomNormal(rng, new Shape(n, d));
        var j2 = Tensor.RandomNormal(rng, new Shape(n, 1));
        // ids: 0 = e1, 1 = e2, 2 = t, 3 = o, 4 = d (and 5 = a size-1 axis on the second einsum's Jacobians)
        var first = new[] { (new[] { 0, 2, 3 }, a, (object)"A"), (new[] { 0, 4 }, j1, "J1"), (new[] { 1, 4 }, j1, "J1"), (new[] { 1, 2, 3 }, a, "A") };
        var second = new[] { (new[] { 0, 2, 3 }, a, (object)"A"), (new[] { 0, 5 }, j2, "J2"), (new[] { 1, 5 }, j2, "J2"), (new[] { 1, 2, 3 }, a, "A") };
        var session = new Einsum.Session();
        var p1 = session.Add(first.Select(x => (x.Item1, x.Item2.Shape, (object?)x.Item3)).ToArray(), new[] { 0, 1 });
        var p2 = session.Add(second.Select(x => (x.Item1, x.Item2.Shape, (object?)x.Item3)).ToArray(), new[] { 0, 1 });
        double gramA = (double)n * n * t * o;
        Assert.Equal(gramA + (double)n * n * d + n * n, p1.Cost);
        Assert.Equal((double)n * n + n * n, p2.Cost);    // the outer product of the (n, 1) Jacobians and the product
        var acc = Tensor.Zeros(new Shape(n, n));
        session.Contract(p1, first.Select(x => x.Item2).ToArray(), acc);
        Assert.Equal(1, session.Held);                   // the Gram of A waits for the second einsum
        session.Contract(p2, second.Select(x => x.Item2).ToArray(), acc);
        Assert.Equal(0, session.Held);
        var e1 = Einsum.Contract(first.Select(x => new Einsum.Operand(x.Item2, x.Item1)).ToArray(), new[] { 0, 1 }).ToDoubleArray();
        var e2 = Einsum.Contract(second.Select(x => new Einsum.Operand(x.Item2, x.Item1)).ToArray(), new[] { 0, 1 }).ToDoubleArray();
        TestUtil.AssertClose(e1.Zip(e2, (x, y) => x + y).ToArray(), acc.ToDoubleArray(), 1e-12, 1e-12);
    }
}
