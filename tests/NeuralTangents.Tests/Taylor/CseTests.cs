using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Autodiff.Transforms;

namespace NeuralTangents.Tests.Taylor;

/// <summary>Common-subexpression elimination merges only provably identical equations and never changes results.</summary>
public class CseTests
{
    private static readonly TensorType V3 = new(new Shape(3), DType.Float64);

    [Fact]
    public void MergesRepeatsCommutedOperandsAndEqualScalarLiterals()
    {
        var g = Ad.Trace(x =>
        {
            var a = Lax.Mul(x[0], x[1]);
            var b = Lax.Mul(x[1], x[0]);        // commuted: same
            var c = Lax.Sin(a);
            var d = Lax.Sin(b);                 // same after merging b into a
            var e = x[0] * 2.0 + x[0] * 2.0;    // two equal broadcast literals
            var f = Lax.Sub(x[0], x[1]);
            var h = Lax.Sub(x[1], x[0]);        // not commutative: kept
            return new[] { c + d, e, f + h };
        }, new[] { V3, V3 });
        var cse = CseTransform.Apply(g);
        Assert.Equal(g.Equations.Count - 3, cse.Equations.Count);
        var x0 = Tensor.FromArray(new[] { 0.5, -1.0, 2.0 });
        var x1 = Tensor.FromArray(new[] { 3.0, 0.25, -0.75 });
        var want = Ad.Evaluate(g, x0, x1);
        var got = Ad.Evaluate(cse, x0, x1);
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i].ToDoubleArray(), got[i].ToDoubleArray());
    }

    [Fact]
    public void KeepsDifferentParametersLiteralsAndTypes()
    {
        var m = new TensorType(new Shape(2, 3), DType.Float64);
        var g = Ad.Trace(x =>
        {
            var s0 = Lax.ReduceSum(x[0], 0);
            var s1 = Lax.ReduceSum(x[0], 1);     // other axes
            var a = x[0] * 2.0;
            var b = x[0] * 3.0;                  // other literal value
            var c = x[0] * -0.0;
            var d = x[0] * 0.0;                  // +0 and −0 differ bitwise
            var t0 = Lax.Transpose(x[0], 1, 0);
            var r = Lax.Reshape(x[0], new Shape(3, 2)); // same output type as t0, other primitive
            return new[] { s0, s1, a, b, c, d, t0, r };
        }, new[] { m });
        Assert.Equal(g.Equations.Count, CseTransform.Apply(g).Equations.Count);
    }

    [Fact]
    public void NonUniformLiteralsMergeOnlyByIdentity()
    {
        var k1 = Tensor.FromArray(new[] { 1.0, 2, 3 });
        var k2 = Tensor.FromArray(new[] { 1.0, 2, 3 });
        var g = Ad.Trace(x =>
        {
            var b = x[0].Builder;
            return new[] { Lax.Add(x[0], b.Constant(k1)), Lax.Add(x[0], b.Constant(k1)), Lax.Add(x[0], b.Constant(k2)) };
        }, new[] { V3 });
        var cse = CseTransform.Apply(g);
        Assert.Equal(2, cse.Equations.Count);
        Assert.Same(cse.Outputs[0], cse.Outputs[1]);
        Assert.NotSame(cse.Outputs[0], cse.Outputs[2]);
    }
}
