using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Empirical;

/// <summary>Errors raised while tracing f name the kernel argument that caused them, for every kernel function.</summary>
public class InputValidationTests
{
    private static readonly NeuralTangents.Stax.Layer Net = Serial(Dense(5), Relu(), Dense(3));

    public static IEnumerable<object[]> Kernels() => new[]
    {
        new object[] { "nngp" }, new object[] { "ntk-jc" }, new object[] { "ntk-sd" }, new object[] { "ntk-auto" },
    };

    private static KernelFunction Fn(string kind) => kind switch
    {
        "nngp" => NeuralTangents.Empirical.NngpFn(Net.Apply),
        "ntk-jc" => NeuralTangents.Empirical.NtkFn(Net.Apply, implementation: NtkImplementation.JacobianContraction),
        "ntk-sd" => NeuralTangents.Empirical.NtkFn(Net.Apply, vmapAxes: 0, implementation: NtkImplementation.StructuredDerivatives),
        _ => NeuralTangents.Empirical.NtkFn(Net.Apply, implementation: NtkImplementation.Auto),
    };

    [Theory, MemberData(nameof(Kernels))]
    public void ShapeErrorsInsideTheNetworkNameX1OrX2(string kind)
    {
        var rng = new Random(1);
        var (_, p) = Net.Init(0, new Shape(3, 4));
        var good = Tensor.RandomNormal(rng, new Shape(3, 4));
        var bad = Tensor.RandomNormal(rng, new Shape(2, 6));   // Dense(5) was initialised for 4 input features
        var e2 = Assert.ThrowsAny<ArgumentException>(() => Fn(kind)(good, bad, p));
        Assert.Equal("x2", e2.ParamName);
        Assert.Contains("(2, 6)", e2.Message);
        var e1 = Assert.ThrowsAny<ArgumentException>(() => Fn(kind)(bad, good, p));
        Assert.Equal("x1", e1.ParamName);
        Assert.Contains("(2, 6)", e1.Message);
    }

    [Theory, MemberData(nameof(Kernels))]
    public void AnX2WithoutTheBatchAxisIsNamedInItsOwnTerms(string kind)
    {
        // Dense applies to a (4,) vector as one example, so f(x2) has rank 1 where f(x1) has rank 2.
        var rng = new Random(2);
        var (_, p) = Net.Init(0, new Shape(3, 4));
        var x1 = Tensor.RandomNormal(rng, new Shape(3, 4));
        var e = Assert.ThrowsAny<ArgumentException>(() => Fn(kind)(x1, Tensor.RandomNormal(rng, new Shape(4)), p));
        Assert.Equal("x2", e.ParamName);
        Assert.Contains("expected the axes of x1 (3, 4) (the batch axis first, then the same feature axes), got shape (4,) (one example with these features is (1, 4))", e.Message);
    }

    [Theory, MemberData(nameof(Kernels))]
    public void AMissingParameterIsAnArgumentErrorOnParameters(string kind)
    {
        var (_, p) = Net.Init(0, new Shape(3, 4));
        var partial = new Params();
        foreach (var kv in p) if (kv.Key != "2.W") partial.Add(kv.Key, kv.Value);
        var e = Assert.ThrowsAny<ArgumentException>(() => Fn(kind)(Tensor.RandomNormal(new Random(2), new Shape(3, 4)), null, partial));
        Assert.Equal("parameters", e.ParamName);
        Assert.Contains("2.W", e.Message);
    }

    [Fact]
    public void AnUndefinedKernelKindInGetIsRejected()
    {
        var (_, p) = Net.Init(0, new Shape(3, 4));
        var x = Tensor.RandomNormal(new Random(3), new Shape(3, 4));
        var e = Assert.ThrowsAny<ArgumentException>(() => NeuralTangents.Empirical.KernelFn(Net.Apply)(x, null, new[] { (KernelKind)7 }, p));
        Assert.Equal("get", e.ParamName);
        Assert.Contains("7", e.Message);
    }
}
