using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;
using static NeuralTangents.Stax.Stax;
using NtEmpirical = NeuralTangents.Empirical;

namespace NeuralTangents.Tests.Tensors.Ops;

/// <summary>Sizes are multiplied in 64-bit: a tensor over 2³¹ elements is a typed refusal naming it, before any work.</summary>
public sealed class TensorSizeTests
{
    [Fact]
    public void Shape_size_over_the_limit_is_a_typed_exception_not_an_overflow()
    {
        var s = new Shape(65536, 65536);
        Assert.Equal(4_294_967_296L, s.LongSize);
        var e = Assert.Throws<TensorSizeException>(() => s.Size);
        Assert.Equal(4_294_967_296L, e.Elements);
        Assert.Contains("(65536, 65536)", e.Message);
        Assert.Contains("4,294,967,296 elements", e.Message);
        Assert.Contains("2,147,483,591", e.Message);
    }

    [Theory]
    [InlineData(new long[] { 46341, 46341 }, 2_147_488_281L)]                    // just over int.MaxValue
    [InlineData(new long[] { 2_000_000_000, 2_000_000_000, 2_000_000_000 }, long.MaxValue)] // saturates instead of wrapping
    [InlineData(new long[] { 3, 0, 2_000_000_000, 2_000_000_000 }, 0L)]           // an empty axis wins
    public void Element_count_is_exact_or_saturated(long[] dims, long expected) =>
        Assert.Equal(expected, TensorSizeException.ElementCount(dims));

    [Fact]
    public void Check_passes_at_the_limit_and_fails_one_above()
    {
        Assert.Equal((int)TensorSizeException.MaxElements, TensorSizeException.Check("t", new[] { TensorSizeException.MaxElements }));
        var e = Assert.Throws<TensorSizeException>(() => TensorSizeException.Check("my tensor", new[] { TensorSizeException.MaxElements + 1 }, "arg", "try less"));
        Assert.Equal("my tensor", e.TensorName);
        Assert.Equal("arg", e.ParamName);
        Assert.EndsWith("; try less", e.Reason);
    }

    [Fact]
    public void A_parameter_too_large_is_refused_at_init_naming_it()
    {
        var e = Assert.Throws<TensorSizeException>(() => Serial(Flatten(), Dense(1_000_000)).Init(0, new Shape(2, 32, 32, 3)));
        Assert.StartsWith("parameter 1.W of Dense(1000000) of shape (3072, 1000000) would have 3,072,000,000 elements", e.Message);
    }

    [Fact]
    public void Tracing_a_value_too_large_names_the_primitive()
    {
        var e = Assert.Throws<TensorSizeException>(() => Ad.Trace(xs => new[] { Lax.BroadcastInDim(xs[0], new Shape(100_000, 100_000), new[] { 1 }) },
            new[] { new TensorType(new Shape(100_000), DType.Float32) }));
        Assert.Contains("the result of broadcast_in_dim on (100000,) of shape (100000, 100000) would have 10,000,000,000 elements", e.Message);
    }

    [Fact]
    public void Jacobian_contraction_refuses_a_huge_jacobian_before_work_and_explain_reports_it()
    {
        // f(x) (3, 2,000,000) with 8 M parameters: the Jacobian has 4.8e13 elements; the NTK itself is (3, 3).
        var net = Dense(2_000_000);
        var xf = Tensor.RandomNormal(new Random(0), new Shape(3, 4)).AsType(DType.Float32);
        var p = new Params { { "W", Tensor.Zeros(new Shape(4, 2_000_000), DType.Float32) } };
        var e = Assert.Throws<TensorSizeException>(() => NtEmpirical.NtkFn(net.Apply, implementation: NtkImplementation.JacobianContraction)(xf, null, p));
        Assert.StartsWith("the Jacobian of f(x1) (outputs × 8000000 parameters) of shape (3, 2000000, 8000000) would have 48,000,000,000,000 elements", e.Message);
        var ex = NtEmpirical.ExplainNtk(net.Apply, xf, null, p, vmapAxes: 0);
        var jc = ex.Estimates.Single(s => s.Implementation == NtkImplementation.JacobianContraction);
        Assert.NotNull(jc.CannotRun);
        Assert.False(jc.FitsBudget);
        Assert.True(double.IsPositiveInfinity(jc.PeakBytes));
        Assert.Contains("cannot run: the Jacobian of f(x1)", ex.ToString());
    }

    [Fact]
    public void A_kernel_too_large_is_refused_before_work()
    {
        // f: (50000, 1) -> (50000, 50), untraced: the full NTK would be (50000, 50000, 50, 50).
        var x = Tensor.Zeros(new Shape(50_000, 1), DType.Float32);
        var net = Dense(50);
        var p = net.Init(0, x.Shape, DType.Float32).Params;
        var e = Assert.Throws<TensorSizeException>(() => NtEmpirical.NngpFn(net.Apply, traceAxes: [])(x, null, p));
        Assert.StartsWith("the kernel of shape (50000, 50000, 50, 50) would have 6,250,000,000,000 elements", e.Message);
    }
}
