using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Tests.Autodiff;

/// <summary><see cref="Ad.Linearize"/> (bind the known inputs once, apply the rest many times) and the Jacobian plan's
/// per-example cache.</summary>
public class StagingTests
{
    private static readonly TensorType V3 = new(new Shape(3), DType.Float64);

    [Fact]
    public void BindThenApplyEqualsEvaluatingTheWholeGraph()
    {
        // f(x, w) = sin(x)·w + x·x: with w unknown, sin(x) and x·x are residuals.
        var g = Ad.Trace(ins => new[] { Lax.Add(Lax.Mul(Lax.Sin(ins[0]), ins[1]), Lax.Mul(ins[0], ins[0])) }, new[] { V3, V3 });
        var staged = Ad.Linearize(g, new[] { false, true });
        var x = Tensor.FromArray(0.3, -1.2, 2.0);
        var residuals = staged.Bind(new[] { x });
        Assert.Equal(staged.ResidualCount, residuals.Length);
        Assert.Equal(1, staged.UnknownCount);
        foreach (var w in new[] { Tensor.FromArray(1.0, 2.0, 3.0), Tensor.FromArray(-0.5, 0.0, 4.0) })
        {
            var expected = Ad.Evaluate(g, x, w)[0].ToDoubleArray();
            Assert.Equal(expected, staged.Apply(residuals, w)[0].ToDoubleArray());
            Assert.Equal(x.ToDoubleArray().Select((v, i) => Math.Sin(v) * w.ToDoubleArray()[i] + v * v), expected);
        }
    }

    [Fact]
    public void JacobianPlanKeysPerExampleGraphsOnWhichInputsCarryExamples()
    {
        // y = a·w·b, ∂y/∂w = diag(a·b). One plan, two batching patterns with the same row and example counts.
        var g = Ad.Trace(ins => new[] { Lax.Mul(Lax.Mul(ins[1], ins[0]), ins[2]) }, new[] { V3, V3, V3 });
        var plan = Ad.JacobianPlan(g, new[] { true, false, false });
        var w = Tensor.FromArray(0.5, -1.0, 2.0);
        var stack = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, -1.0, 0.5, 4.0 }, new Shape(2, 3));
        var shared = Tensor.FromArray(2.0, -3.0, 0.25);
        var stackRows = stack.ToDoubleArray();
        foreach (var aBatched in new[] { true, false })
        {
            var inputs = aBatched ? new[] { w, stack, shared } : new[] { w, shared, stack };
            var axes = aBatched ? new int?[] { null, 0, null } : new int?[] { null, null, 0 };
            var j = plan.PerExample(inputs, axes, 2).ToDoubleArray();   // (2, 3, 3)
            for (int e = 0; e < 2; e++)
                for (int i = 0; i < 3; i++)
                    for (int k = 0; k < 3; k++)
                        Assert.Equal(i == k ? stackRows[e * 3 + i] * shared.ToDoubleArray()[i] : 0.0, j[(e * 3 + i) * 3 + k]);
        }
    }
}
