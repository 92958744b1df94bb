using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Autodiff.Transforms;
using Xunit;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>
/// <see cref="ScaleFoldTransform"/>: a uniform scaling of a bilinear product's result, or of an operand read only by
/// the product, moves onto the product's smaller operand. The rewritten graph computes the same values (float64:
/// the same factors associated differently, within 1e-13 relative), keeps its inputs and outputs, and no longer
/// scales the activation-sized tensors; a scaled value read elsewhere too is left alone.
/// </summary>
public class ScaleFoldTests
{
    private static readonly ConvParams Valid = new([1, 1], [(0, 0), (0, 0)], [1, 1]);
    private const double C1 = 0.37, C2 = 1.9, C3 = -0.6;

    private static Tracer Scale(Tracer x, double c) =>
        Lax.Mul(x, x.Builder.Constant(Tensor.Scalar(c, x.DType).BroadcastTo(x.Shape)));

    /// <summary>x (4, 7, 6, 3), w (3, 3, 3, 5), ct (4, 5, 4, 5), v (5, 2): conv → reshape → ·c (rewrite 1),
    /// ct·c → reshape → conv_lhs_transpose (rewrite 2), and dot_general(·c, v) (rewrite 2 on a dot).</summary>
    private static Graph Network(bool sharedScaling) => Ad.Trace(ins =>
    {
        var (x, w, ct, v) = (ins[0], ins[1], ins[2], ins[3]);
        var y = Scale(Lax.Reshape(Lax.Conv(x, w, Valid), new Shape(4, 1, 5, 4, 5)), C1);
        var s = Scale(ct, C2);
        var back = ct.Builder.Emit(new ConvLhsTransposePrimitive(Valid, x.Shape), Lax.Reshape(Lax.Reshape(s, new Shape(4, 1, 5, 4, 5)), new Shape(4, 5, 4, 5)), w);
        var z = Lax.DotGeneral(Scale(Lax.Reshape(y, new Shape(4, 5, 4, 5)), C3), v, new DotDimensionNumbers([3], [0], [], []));
        return sharedScaling ? new[] { y, back, z, s } : new[] { y, back, z };
    }, [new TensorType(new Shape(4, 7, 6, 3), DType.Float64), new TensorType(new Shape(3, 3, 3, 5), DType.Float64),
        new TensorType(new Shape(4, 5, 4, 5), DType.Float64), new TensorType(new Shape(5, 2), DType.Float64)]);

    /// <summary>Scaling equations over tensors larger than any weight (30 elements here).</summary>
    private static int LargeScalings(Graph g) =>
        g.Equations.Count(e => e.Primitive is MulPrimitive && e.Output.Type.Shape.Size > 135);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ScalingsMoveOntoWeightsWithTheSameValues(bool sharedScaling)
    {
        var g = Network(sharedScaling);
        var s = ScaleFoldTransform.Apply(g);
        Assert.Equal(g.Inputs.Select(v => v.Type), s.Inputs.Select(v => v.Type));
        Assert.Equal(g.Outputs.Select(v => v.Type), s.Outputs.Select(v => v.Type));
        Assert.Equal(3, LargeScalings(g));
        // The shared ct·c is also an output: that scaling stays, the other two move onto w and v.
        Assert.Equal(sharedScaling ? 1 : 0, LargeScalings(s));
        var rng = new Random(5);
        var xs = g.Inputs.Select(v => Tensor.RandomNormal(rng, v.Type.Shape)).ToArray();
        var want = Ad.Evaluate(g, xs);
        var got = Ad.Evaluate(s, xs);
        for (int i = 0; i < want.Length; i++)
        {
            var (wv, gv) = (want[i].ToDoubleArray(), got[i].ToDoubleArray());
            double scale = wv.Max(Math.Abs);
            for (int k = 0; k < wv.Length; k++) Assert.True(Math.Abs(wv[k] - gv[k]) <= 1e-13 * scale, $"output {i}[{k}]: {wv[k]} vs {gv[k]}");
        }
    }

    [Fact]
    public void LeavesGraphsWithoutFoldableScalingsAlone()
    {
        // The scaled product is read twice: scaling its operand would change the other reader's value.
        var g = Ad.Trace(ins =>
        {
            var p = Lax.DotGeneral(ins[0], ins[1], new DotDimensionNumbers([1], [0], [], []));
            return new[] { Scale(p, C1), p };
        }, [new TensorType(new Shape(6, 4), DType.Float64), new TensorType(new Shape(4, 5), DType.Float64)]);
        Assert.Same(g, ScaleFoldTransform.Apply(g));
    }
}
