using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>
/// <c>conv_general_dilated</c> in the canonical layout: lhs <c>(N, S1..Sd, C)</c>, rhs <c>(K1..Kd, C/groups, O)</c>,
/// output <c>(N, S1'..Sd', O)</c> (NHWC/HWIO for d = 2). Cross-correlation (no flip), as XLA. Bilinear; its
/// transposes are the two adjoint primitives below, whose own transposes map back onto these three.
/// </summary>
public sealed class ConvPrimitive : Primitive
{
    /// <summary>Strides, padding, dilation, groups.</summary>
    public ConvParams Params { get; }
    internal ConvPrimitive(ConvParams p) => Params = p;
    /// <inheritdoc/>
    public override string Name => "conv_general_dilated";
    /// <inheritdoc/>
    public override string ParamsText() => ConvText(Params);
    internal static string ConvText(ConvParams p) =>
        $"strides={L(p.Strides)} padding=({string.Join(",", p.Padding.Select(x => $"({x.Lo},{x.Hi})"))}) rhs_dilation={L(p.RhsDilation)} groups={p.FeatureGroupCount}";
    internal override TensorType InferType(TensorType[] i)
    {
        RequireSameDType(Name, i[0], i[1]);
        return new TensorType(Conv.InferShape(i[0].Shape, i[1].Shape, Params), i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i) => Conv.Forward(i[0], i[1], Params);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y)
    {
        Tracer? a = t[0] is null ? null : b.Emit(this, t[0]!, p[1]);
        Tracer? c = t[1] is null ? null : b.Emit(this, p[0], t[1]!);
        return a is null ? c : c is null ? a : Lax.Add(a, c);
    }
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        if (inputs[0] is null && inputs[1] is null) throw new InvalidOperationException("conv: cannot transpose with both operands linear");
        return new[]
        {
            inputs[0] is null ? b.Emit(new ConvLhsTransposePrimitive(Params, types[0].Shape), ct, inputs[1]!) : null,
            inputs[1] is null ? b.Emit(new ConvRhsTransposePrimitive(Params, types[1].Shape), inputs[0]!, ct) : null,
        };
    }
}

/// <summary>Adjoint of the convolution in its lhs: <c>(ct, rhs) ↦ Aᵀct</c> with <c>A x = conv(x, rhs)</c>. Bilinear.</summary>
public sealed class ConvLhsTransposePrimitive : Primitive
{
    /// <summary>Parameters of the forward convolution.</summary>
    public ConvParams Params { get; }
    /// <summary>Shape of the forward lhs (the output shape here).</summary>
    public Shape LhsShape { get; }
    internal ConvLhsTransposePrimitive(ConvParams p, Shape lhsShape) { Params = p; LhsShape = lhsShape; }
    /// <inheritdoc/>
    public override string Name => "conv_lhs_transpose";
    /// <inheritdoc/>
    public override string ParamsText() => ConvPrimitive.ConvText(Params) + " lhs_shape=" + LhsShape;
    internal override TensorType InferType(TensorType[] i)
    {
        RequireSameDType(Name, i[0], i[1]);
        var expect = Conv.InferShape(LhsShape, i[1].Shape, Params);
        if (expect != i[0].Shape) throw new ArgumentException($"{Name}: cotangent shape {i[0].Shape} does not match the convolution output {expect}");
        return new TensorType(LhsShape, i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i) => Conv.LhsTranspose(i[0], i[1], LhsShape, Params);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y)
    {
        Tracer? a = t[0] is null ? null : b.Emit(this, t[0]!, p[1]);
        Tracer? c = t[1] is null ? null : b.Emit(this, p[0], t[1]!);
        return a is null ? c : c is null ? a : Lax.Add(a, c);
    }
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) => new[]
    {
        inputs[0] is null ? b.Emit(new ConvPrimitive(Params), ct, inputs[1]!) : null,
        inputs[1] is null ? b.Emit(new ConvRhsTransposePrimitive(Params, types[1].Shape), ct, inputs[0]!) : null,
    };
}

/// <summary>Adjoint of the convolution in its rhs: <c>(lhs, ct) ↦ Bᵀct</c> with <c>B w = conv(lhs, w)</c>. Bilinear.</summary>
public sealed class ConvRhsTransposePrimitive : Primitive
{
    /// <summary>Parameters of the forward convolution.</summary>
    public ConvParams Params { get; }
    /// <summary>Shape of the forward rhs (the output shape here).</summary>
    public Shape RhsShape { get; }
    internal ConvRhsTransposePrimitive(ConvParams p, Shape rhsShape) { Params = p; RhsShape = rhsShape; }
    /// <inheritdoc/>
    public override string Name => "conv_rhs_transpose";
    /// <inheritdoc/>
    public override string ParamsText() => ConvPrimitive.ConvText(Params) + " rhs_shape=" + RhsShape;
    internal override TensorType InferType(TensorType[] i)
    {
        RequireSameDType(Name, i[0], i[1]);
        var expect = Conv.InferShape(i[0].Shape, RhsShape, Params);
        if (expect != i[1].Shape) throw new ArgumentException($"{Name}: cotangent shape {i[1].Shape} does not match the convolution output {expect}");
        return new TensorType(RhsShape, i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i) => Conv.RhsTranspose(i[0], i[1], RhsShape, Params);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y)
    {
        Tracer? a = t[0] is null ? null : b.Emit(this, t[0]!, p[1]);
        Tracer? c = t[1] is null ? null : b.Emit(this, p[0], t[1]!);
        return a is null ? c : c is null ? a : Lax.Add(a, c);
    }
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) => new[]
    {
        inputs[0] is null ? b.Emit(new ConvLhsTransposePrimitive(Params, types[0].Shape), inputs[1]!, ct) : null,
        inputs[1] is null ? b.Emit(new ConvPrimitive(Params), inputs[0]!, ct) : null,
    };
}
