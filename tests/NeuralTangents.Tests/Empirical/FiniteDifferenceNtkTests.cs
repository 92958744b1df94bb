using NeuralTangents.Implementations;
using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Empirical;

/// <summary>
/// The NTK of small Stax networks against a float64 reference built from central-difference Jacobians and the
/// naive loops of the value rule (docs/conventions.md#kernel-layout) — a path that shares no code with the implementation but the forward pass.
/// </summary>
public class FiniteDifferenceNtkTests
{
    public sealed record Net(string Name, Layer Layer, int[] X1, int[] X2)
    {
        public override string ToString() => Name;
    }

    public static readonly Net[] Nets =
    {
        new("dense-relu-dense", Serial(Dense(3, 1.5, 0.1), Relu(), Dense(2, 2, 0.05)), new[] { 3, 4 }, new[] { 2, 4 }),
        new("conv-same-strided-erf-flatten", Serial(Conv(2, new[] { 2, 2 }, new[] { 2, 1 }, Padding.Same, 1.2, 0.1), Erf(), Flatten(), Dense(2)),
            new[] { 2, 5, 4, 2 }, new[] { 3, 5, 4, 2 }),
        new("conv-valid-relu-avgpool-gap", Serial(Conv(3, new[] { 3, 3 }), Relu(), AvgPool(new[] { 2, 2 }), GlobalAvgPool(), Dense(2, 1, 0.2)),
            new[] { 2, 5, 5, 1 }, new[] { 1, 5, 5, 1 }),
        new("spec-conv", Serial(Conv(2, new[] { 1, 2 }, wStd: 1.5, bStd: 0.1), Relu(), Conv(2, new[] { 3, 2 }, wStd: 2, bStd: 0.05)),
            new[] { 2, 4, 4, 3 }, new[] { 1, 4, 4, 3 }),
        new("conv1d-sin-avgpool-strided", Serial(Conv(2, new[] { 2 }, new[] { 2 }, Padding.Same), Sin(), AvgPool(new[] { 2 }, new[] { 1 }, Padding.Same), Flatten(), Dense(1)),
            new[] { 2, 5, 1 }, new[] { 2, 5, 1 }),
    };

    public static IEnumerable<object[]> Cases()
    {
        foreach (var n in Nets)
        {
            yield return new object[] { n, new[] { -1 }, new int[0], false };
            yield return new object[] { n, new int[0], new int[0], false };
            yield return new object[] { n, new int[0], new[] { 0 }, true };
            yield return new object[] { n, new[] { 0 }, new int[0], true };
        }
        yield return new object[] { Nets[3], new[] { -1 }, new[] { 1, 2 }, false };
        yield return new object[] { Nets[3], new[] { 2, -1 }, new[] { 1 }, false };
    }

    private static Tensor FdJacobian(TracedApply f, Params p, Tensor x)
    {
        const double eps = 1e-6;
        var keys = p.Keys.ToArray();
        var y0 = f.Evaluate(p, new[] { x })[0];
        int P = (int)p.ParameterCount, m = y0.Size;
        var j = new double[m * P];
        int col = 0;
        foreach (var key in keys)
        {
            var w = p[key].ToDoubleArray();
            for (int q = 0; q < w.Length; q++, col++)
            {
                Tensor Eval(double delta)
                {
                    var wq = (double[])w.Clone(); wq[q] += delta;
                    var shifted = p.Map((k, t) => k == key ? Tensor.FromArray(wq, t.Shape) : t);
                    return f.Evaluate(shifted, new[] { x })[0];
                }
                var yp = Eval(eps).ToDoubleArray(); var ym = Eval(-eps).ToDoubleArray();
                for (int i = 0; i < m; i++) j[i * P + col] = (yp[i] - ym[i]) / (2 * eps);
            }
        }
        return Tensor.FromArray(j, y0.Shape.Concat(new Shape(P)));
    }

    [Theory, MemberData(nameof(Cases))]
    public void NtkMatchesFiniteDifferenceReference(Net net, int[] trace, int[] diag, bool sameInputs)
    {
        var rng = new Random(7);
        var x1 = Tensor.RandomNormal(rng, new Shape(net.X1));
        var x2 = sameInputs ? null : Tensor.RandomNormal(rng, new Shape(net.X2));
        var (_, p) = net.Layer.Init(11, new Shape(net.X1));
        var f = new TracedApply(net.Layer.Apply);
        var j1 = FdJacobian(f, p, x1);
        var j2 = x2 is null ? j1 : FdJacobian(f, p, x2);
        var reference = NaiveKernel.Compute(j1, j2, trace, diag, trailingP: true);
        double scale = reference.ToDoubleArray().Select(Math.Abs).DefaultIfEmpty(1).Max();
        foreach (var impl in new[] { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives })
        foreach (var vmap in new VmapAxes?[] { null, 0 })
        {
            var k = NeuralTangents.Empirical.NtkFn(net.Layer.Apply, trace, diag, vmap, impl)(x1, x2, p);
            // Central differences (eps = 1e-6) are accurate to ~1e-9 relative here; 1e-7 leaves margin.
            TestUtil.AssertClose(reference, k, 1e-7, 1e-7 * scale);
        }
    }
}
