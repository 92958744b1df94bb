using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>The interpreter passes its compute backend to the bilinear primitives; nothing inside reads ambient state.</summary>
public class InterpreterBackendTests
{
    private static readonly DotDimensionNumbers MatMul = new(new[] { 1 }, new[] { 0 }, Array.Empty<int>(), Array.Empty<int>());

    [Fact]
    public void EvaluateRunsDotGeneralOnTheGivenBackend()
    {
        var g = Ad.Trace(ins => new[] { Lax.DotGeneral(ins[0], ins[1], MatMul) },
            new[] { new TensorType(new Shape(2, 3), DType.Float64), new TensorType(new Shape(3, 2), DType.Float64) });
        var a = Tensor.FromArray(new[] { 1.0, 2, 3, 4, 5, 6 }, new Shape(2, 3));
        var b = Tensor.FromArray(new[] { 1.0, 0, 0, 1, 1, 1 }, new Shape(3, 2));
        var counting = new CountingBackend();
        var r = Interpreter.Evaluate(g, new[] { a, b }, counting)[0];
        Assert.Equal(1, counting.Dots);
        Assert.Equal(new[] { 4.0, 5, 10, 11 }, r.ToDoubleArray());
        // The ambient scope is read once, at the entry point.
        using (ComputeBackend.Use(counting)) Interpreter.Evaluate(g, new[] { a, b });
        Assert.Equal(2, counting.Dots);
    }

    [Fact]
    public void ConstantFoldingWhileTracingRunsOnTheCpu()
    {
        var counting = new CountingBackend();
        var a = Tensor.FromArray(new[] { 1.0, 2, 3, 4, 5, 6 }, new Shape(2, 3));
        using (ComputeBackend.Use(counting))
        {
            var g = Ad.Trace(ins => new[] { Lax.Add(ins[0], Lax.DotGeneral(ins[0].Builder.Constant(a), ins[0].Builder.Constant(a.Transpose(1, 0).Contiguous()), MatMul)) },
                new[] { new TensorType(new Shape(2, 2), DType.Float64) });
            Assert.Equal(0, counting.Dots);
            Assert.Equal(new[] { 14.0, 32, 32, 77 }, Interpreter.Evaluate(g, new[] { Tensor.Zeros(new Shape(2, 2), DType.Float64) }, ComputeBackend.Cpu)[0].ToDoubleArray());
        }
    }
}
