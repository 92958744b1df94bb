using NeuralTangents.Autodiff.Interpreters;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Tiles;

/// <summary>A kernel computed whole (one tile) stops within one equation of its cancellation, not at its end.</summary>
public class CancellationTests
{
    /// <summary>Counts dot_generals and cancels <see cref="Source"/> at the <see cref="CancelAt"/>-th.</summary>
    private sealed class CancellingBackend : ComputeBackend
    {
        public int Dots;
        public int CancelAt = int.MaxValue;
        public CancellationTokenSource Source { get; } = new();
        public override string Name => "cancelling";

        internal override Tensor DotGeneral(Tensor lhs, Tensor rhs, DotDimensionNumbers dims)
        {
            if (Interlocked.Increment(ref Dots) == CancelAt) Source.Cancel();
            return base.DotGeneral(lhs, rhs, dims);
        }
    }

    [Theory]
    [InlineData(NtkImplementation.JacobianContraction)]
    [InlineData(NtkImplementation.NtkVectorProducts)]
    [InlineData(NtkImplementation.StructuredDerivatives)]
    public void A_whole_kernel_stops_soon_after_its_token_is_cancelled(NtkImplementation impl)
    {
        var net = Serial(Dense(16), Relu(), Dense(16), Relu(), Dense(3));
        var x = Tensor.RandomNormal(new Random(0), new Shape(6, 5), DType.Float64);
        var p = net.Init(0, x.Shape, DType.Float64).Params;

        var full = new CancellingBackend();
        using (ComputeBackend.Use(full))
            NeuralTangents.Empirical.NtkFn(net.Apply, null, null, 0, impl, new KernelOptions { CancellationToken = full.Source.Token })(x, null, p);
        Assert.True(full.Dots >= 3, $"{impl}: {full.Dots} dot_generals");

        var cut = new CancellingBackend { CancelAt = 1 };
        using (ComputeBackend.Use(cut))
            Assert.ThrowsAny<OperationCanceledException>(() =>
                NeuralTangents.Empirical.NtkFn(net.Apply, null, null, 0, impl, new KernelOptions { CancellationToken = cut.Source.Token })(x, null, p));
        // Cancelled at the first dot_general: the next equation's checkpoint stops it (a multiply-add or two later).
        Assert.InRange(cut.Dots, 1, 2);
    }

    [Fact]
    public void The_token_applies_only_inside_its_scope_and_scopes_restore_the_outer_one()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        MemoryPacer.Tick();
        using (MemoryPacer.Enter())
        {
            MemoryPacer.Tick();
            using (MemoryPacer.Enter(cancelled.Token))
                Assert.Throws<OperationCanceledException>(MemoryPacer.Tick);
            MemoryPacer.Tick();
        }
        MemoryPacer.Tick();
    }
}
