using NeuralTangents.Implementations;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Implementations;

/// <summary>
/// Plans and estimates are memoised on the kernel function (<see cref="TracedApply.Memo{T}"/>, keyed by
/// <see cref="KernelRequest.Key"/>): one function called in turn with different example counts, x2 given or null, and
/// parameter values must give exactly what a fresh function gives for each call (the same plan, so bit-identical), and
/// concurrent calls on one function must not interfere.
/// </summary>
public class PlanMemoTests
{
    private static readonly Stax.Layer Net = Serial(Dense(12, 1.2, 0.1), Relu(), Dense(9), Erf(), Dense(4, 1.1, 0.2));

    [Theory]
    [InlineData(NtkImplementation.NtkVectorProducts)]
    [InlineData(NtkImplementation.StructuredDerivatives)]
    [InlineData(NtkImplementation.Auto)]
    public void OneFunctionOverChangingCallsMatchesFreshFunctions(NtkImplementation impl)
    {
        var rng = new Random(11);
        var xa = Tensor.RandomNormal(rng, new Shape(3, 6));
        var xb = Tensor.RandomNormal(rng, new Shape(5, 6));
        var pa = Net.Init(1, xa.Shape, DType.Float64).Params;
        var pb = Net.Init(2, xa.Shape, DType.Float64).Params;
        var calls = new (Tensor X1, Tensor? X2, Params P)[] { (xa, null, pa), (xb, null, pa), (xa, xb, pa), (xb, xa, pb), (xa, null, pb), (xa, null, pa) };
        foreach (var trace in new[] { new[] { -1 }, Array.Empty<int>() })
        {
            var shared = NeuralTangents.Empirical.NtkFn(Net.Apply, trace, null, 0, impl);
            foreach (var (x1, x2, p) in calls)
            {
                var want = NeuralTangents.Empirical.NtkFn(Net.Apply, trace, null, 0, impl)(x1, x2, p);
                var got = shared(x1, x2, p);
                Assert.Equal(want.Shape, got.Shape);
                Assert.Equal(want.ToDoubleArray(), got.ToDoubleArray());
            }
        }
    }

    // Structured derivatives also keep the backward and Jacobian graphs derived from a memoised plan on its sides,
    // filled by whichever call gets there first: concurrent first calls must read whole (graph, variables) pairs.
    [Theory]
    [InlineData(NtkImplementation.NtkVectorProducts)]
    [InlineData(NtkImplementation.StructuredDerivatives)]
    public void ConcurrentCallsOnOneFunctionAgreeWithSequentialOnes(NtkImplementation impl)
    {
        var rng = new Random(12);
        var xs = Enumerable.Range(2, 4).Select(n => Tensor.RandomNormal(rng, new Shape(n, 6))).ToArray();
        var p = Net.Init(3, xs[0].Shape, DType.Float64).Params;
        var want = xs.Select(x => NeuralTangents.Empirical.NtkFn(Net.Apply, null, null, 0, impl)(x, null, p).ToDoubleArray()).ToArray();
        var fn = NeuralTangents.Empirical.NtkFn(Net.Apply, null, null, 0, impl);
        var got = new double[16][];
        System.Threading.Tasks.Parallel.For(0, got.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => got[i] = fn(xs[i % xs.Length], null, p).ToDoubleArray());
        for (int i = 0; i < got.Length; i++) Assert.Equal(want[i % xs.Length], got[i]);
    }
}
