namespace NeuralTangents.Tests;

/// <summary>The CPU backend, counting its <c>dot_general</c> calls: shows which backend a computation ran on.</summary>
internal sealed class CountingBackend : ComputeBackend
{
    public int Dots;
    public override string Name => "counting";

    internal override Tensor DotGeneral(Tensor lhs, Tensor rhs, DotDimensionNumbers dims)
    {
        Interlocked.Increment(ref Dots);
        return base.DotGeneral(lhs, rhs, dims);
    }
}
