using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Cuda;

/// <summary>A backend that counts the hot kernels sent to it and computes them on the CPU.</summary>
internal sealed class CountingBackend(string name = "counting") : ComputeBackend
{
    private int _dot, _conv, _convLhs, _convRhs;

    public override string Name => name;
    public int Dot => _dot;
    public int ConvForwardCalls => _conv;
    public int ConvLhsCalls => _convLhs;
    public int ConvRhsCalls => _convRhs;
    public int Total => _dot + _conv + _convLhs + _convRhs;

    /// <summary>Set when a kernel ran while <see cref="ComputeBackend.Current"/> was some other backend.</summary>
    public volatile bool SawForeignScope;

    private void Hit(ref int counter)
    {
        Interlocked.Increment(ref counter);
        if (!ReferenceEquals(Current, this)) SawForeignScope = true;
    }

    internal override Tensor DotGeneral(Tensor lhs, Tensor rhs, DotDimensionNumbers dims) { Hit(ref _dot); return base.DotGeneral(lhs, rhs, dims); }
    internal override Tensor ConvForward(Tensor lhs, Tensor rhs, ConvParams p) { Hit(ref _conv); return base.ConvForward(lhs, rhs, p); }
    internal override Tensor ConvLhsTranspose(Tensor ct, Tensor rhs, Shape lhsShape, ConvParams p) { Hit(ref _convLhs); return base.ConvLhsTranspose(ct, rhs, lhsShape, p); }
    internal override Tensor ConvRhsTranspose(Tensor lhs, Tensor ct, Shape rhsShape, ConvParams p) { Hit(ref _convRhs); return base.ConvRhsTranspose(lhs, ct, rhsShape, p); }
}

/// <summary>
/// The ambient backend: every NTK implementation sends its dot_general and convolution evaluations to
/// <see cref="ComputeBackend.Current"/>; scopes nest, are restored on dispose, and are private to a call flow.
/// </summary>
public class ComputeBackendRoutingTests
{
    internal static readonly NtkImplementation[] Implementations =
        [NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives];

    internal static (Layer Net, Tensor X1, Tensor X2, Params P) DenseCase(DType dtype = DType.Float64)
    {
        var net = Serial(Dense(6, bStd: 0.1), Relu(), Dense(3));
        var rng = new Random(4);
        var x1 = Tensor.RandomNormal(rng, new Shape(4, 5), dtype);
        var x2 = Tensor.RandomNormal(rng, new Shape(3, 5), dtype);
        return (net, x1, x2, net.Init(1, x1.Shape, dtype).Params);
    }

    internal static (Layer Net, Tensor X1, Tensor X2, Params P) ConvCase(DType dtype = DType.Float64)
    {
        var net = Serial(Conv(3, [3, 3], bStd: 0.1), Relu(), Conv(4, [2, 2], strides: [2, 1], padding: Padding.Same), Flatten(), Dense(2));
        var rng = new Random(5);
        var x1 = Tensor.RandomNormal(rng, new Shape(3, 6, 5, 2), dtype);
        var x2 = Tensor.RandomNormal(rng, new Shape(2, 6, 5, 2), dtype);
        return (net, x1, x2, net.Init(2, x1.Shape, dtype).Params);
    }

    private static Tensor Ntk((Layer Net, Tensor X1, Tensor X2, Params P) c, NtkImplementation impl, int? vmapAxes = null) =>
        NeuralTangents.Empirical.NtkFn(c.Net.Apply, traceAxes: [], vmapAxes: vmapAxes, implementation: impl)(c.X1, c.X2, c.P);

    [Theory]
    [InlineData(NtkImplementation.JacobianContraction, null)]
    [InlineData(NtkImplementation.NtkVectorProducts, null)]
    [InlineData(NtkImplementation.StructuredDerivatives, null)]
    [InlineData(NtkImplementation.JacobianContraction, 0)]
    [InlineData(NtkImplementation.NtkVectorProducts, 0)]
    [InlineData(NtkImplementation.StructuredDerivatives, 0)]
    public void Every_implementation_sends_dot_general_to_the_current_backend(NtkImplementation impl, int? vmapAxes)
    {
        var c = DenseCase();
        var cpu = Ntk(c, impl, vmapAxes);
        var counting = new CountingBackend();
        Tensor k;
        using (ComputeBackend.Use(counting)) k = Ntk(c, impl, vmapAxes);
        Assert.True(counting.Dot > 0, $"{impl}: no dot_general reached the backend");
        Assert.False(counting.SawForeignScope);
        Assert.Equal(cpu.Shape, k.Shape);
        Assert.Equal(cpu.ToDoubleArray(), k.ToDoubleArray());   // the counting backend computes on the CPU: bitwise equal
    }

    [Theory]
    [InlineData(NtkImplementation.JacobianContraction)]
    [InlineData(NtkImplementation.NtkVectorProducts)]
    [InlineData(NtkImplementation.StructuredDerivatives)]
    public void Every_implementation_sends_convolutions_to_the_current_backend(NtkImplementation impl)
    {
        var c = ConvCase();
        var cpu = Ntk(c, impl, 0);
        var counting = new CountingBackend();
        Tensor k;
        using (ComputeBackend.Use(counting)) k = Ntk(c, impl, 0);
        Assert.True(counting.ConvForwardCalls > 0, $"{impl}: no conv forward reached the backend");
        // Reverse mode (Jacobians, vjp) needs the adjoint in the weights at least.
        if (impl != NtkImplementation.StructuredDerivatives)
            Assert.True(counting.ConvRhsCalls + counting.ConvLhsCalls > 0, $"{impl}: no conv adjoint reached the backend");
        Assert.Equal(cpu.ToDoubleArray(), k.ToDoubleArray());
    }

    [Fact]
    public void Nngp_routes_too()
    {
        var c = ConvCase();
        var counting = new CountingBackend();
        Tensor k;
        var cpu = NeuralTangents.Empirical.NngpFn(c.Net.Apply)(c.X1, c.X2, c.P);
        using (ComputeBackend.Use(counting)) k = NeuralTangents.Empirical.NngpFn(c.Net.Apply)(c.X1, c.X2, c.P);
        Assert.True(counting.ConvForwardCalls > 0 && counting.Dot > 0);
        Assert.Equal(cpu.ToDoubleArray(), k.ToDoubleArray());
    }

    [Fact]
    public void Scopes_nest_and_are_restored_on_dispose()
    {
        Assert.Same(ComputeBackend.Cpu, ComputeBackend.Current);
        var a = new CountingBackend("a");
        var b = new CountingBackend("b");
        var outer = ComputeBackend.Use(a);
        Assert.Same(a, ComputeBackend.Current);
        using (ComputeBackend.Use(b))
        {
            Assert.Same(b, ComputeBackend.Current);
            using (ComputeBackend.Use(ComputeBackend.Cpu)) Assert.Same(ComputeBackend.Cpu, ComputeBackend.Current);
            Assert.Same(b, ComputeBackend.Current);
        }
        Assert.Same(a, ComputeBackend.Current);
        outer.Dispose();
        Assert.Same(ComputeBackend.Cpu, ComputeBackend.Current);
        outer.Dispose();   // idempotent
        Assert.Same(ComputeBackend.Cpu, ComputeBackend.Current);
        Assert.Throws<ArgumentNullException>(() => ComputeBackend.Use(null!));
    }

    [Fact]
    public void Scope_is_restored_when_the_computation_throws()
    {
        var counting = new CountingBackend();
        var c = DenseCase();
        var bad = Tensor.Zeros(new Shape(2, 7));   // wrong feature count
        Assert.ThrowsAny<ArgumentException>(() =>
        {
            using (ComputeBackend.Use(counting)) NeuralTangents.Empirical.NtkFn(c.Net.Apply)(bad, null, c.P);
        });
        Assert.Same(ComputeBackend.Cpu, ComputeBackend.Current);
    }

    [Fact]
    public async Task Scope_flows_into_tasks_started_inside_it()
    {
        var counting = new CountingBackend();
        using (ComputeBackend.Use(counting))
        {
            var seen = await Task.Run(() => ComputeBackend.Current);
            Assert.Same(counting, seen);
            var inParallel = new ComputeBackend[8];
            System.Threading.Tasks.Parallel.For(0, inParallel.Length, i => inParallel[i] = ComputeBackend.Current);
            Assert.All(inParallel, s => Assert.Same(counting, s));
        }
    }

    [Fact]
    public void Two_threads_with_different_scopes_do_not_interfere()
    {
        var c = DenseCase();
        var expected = Ntk(c, NtkImplementation.JacobianContraction);
        var single = new CountingBackend();
        using (ComputeBackend.Use(single)) Ntk(c, NtkImplementation.JacobianContraction);

        var backends = new[] { new CountingBackend("t0"), new CountingBackend("t1") };
        var results = new Tensor?[2];
        var errors = new Exception?[3];
        using var inside = new Barrier(3);
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            try
            {
                using (ComputeBackend.Use(backends[t]))
                {
                    inside.SignalAndWait();   // both scopes (and the plain main thread) are live at once
                    for (int rep = 0; rep < 3; rep++) results[t] = Ntk(c, NtkImplementation.JacobianContraction);
                    Assert.Same(backends[t], ComputeBackend.Current);
                }
                Assert.Same(ComputeBackend.Cpu, ComputeBackend.Current);
            }
            catch (Exception e) { errors[t] = e; }
        })).ToArray();
        foreach (var th in threads) th.Start();
        inside.SignalAndWait();
        // The main thread, never scoped, stays on the CPU while the others run.
        try { Assert.Same(ComputeBackend.Cpu, ComputeBackend.Current); Ntk(c, NtkImplementation.JacobianContraction); }
        catch (Exception e) { errors[2] = e; }
        foreach (var th in threads) th.Join();
        Assert.All(errors, e => Assert.Null(e));
        foreach (var b in backends)
        {
            Assert.Equal(3 * single.Total, b.Total);
            Assert.False(b.SawForeignScope);
        }
        Assert.All(results, r => Assert.Equal(expected.ToDoubleArray(), r!.ToDoubleArray()));
    }
}
