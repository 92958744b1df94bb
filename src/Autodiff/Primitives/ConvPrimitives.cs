using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>
/// <c>conv_general_dilated</c> in the canonical layout: lhs <c>(N, S1..Sd, C)</c>, rhs <c>(K1..Kd, C/groups, O)</c>,
/// output <c>(N, S1'..Sd', O)</c> (NHWC/HWIO for d = 2). Cross-correlation (no flip), as XLA. Bilinear; its
/// transposes are the two adjoint primitives below, whose own transposes map back onto these three.
/// </summary>
internal sealed class ConvPrimitive : BilinearPrimitive
{
    /// <summary>Strides, padding, dilation, groups.</summary>
    public ConvParams Params { get; }
    internal ConvPrimitive(ConvParams p) => Params = p;
    /// <inheritdoc/>
    public override string Name => "conv_general_dilated";
    /// <inheritdoc/>
    public override string ParamsText() => ConvText(Params);
    private protected override object? Parameters => Params;
    internal static string ConvText(ConvParams p) =>
        $"strides={L(p.Strides)} padding=({string.Join(",", p.Padding.Select(x => $"({x.Lo},{x.Hi})"))}) rhs_dilation={L(p.RhsDilation)} groups={p.FeatureGroupCount}";
    internal override TensorType InferType(TensorType[] i)
    {
        RequireSameDType(Name, i[0], i[1]);
        return new TensorType(Conv.InferShape(i[0].Shape, i[1].Shape, Params), i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i, ComputeBackend backend) => backend.ConvForward(i[0], i[1], Params);
    internal override double Flops(TensorType[] i, TensorType o) => 2.0 * o.Shape.Elements * i[1].Shape.Take(i[1].Rank - 1).Aggregate(1.0, (a, d) => a * d);

    /// <summary>For the filter of an ordinary convolution with its O axis trimmed, ∂y'/∂w' are the im2col patches of
    /// the lhs: (N, S'…, 1, K…, I, 1).</summary>
    internal override Tracer? Jacobian(GraphBuilder b, int w, Tracer?[] inputs, TensorType[] types, StructureRule active)
    {
        if (w != 1 || Params.FeatureGroupCount != 1 || active.Trace.Length != 1 || active.Diagonal.Length > 0 || active.Broadcast.Length > 0) return null;
        var x = inputs[0]!;
        var k = types[1].Shape.Take(types[1].Rank - 2).ToArray();
        int cin = types[1].Shape[^2];
        var patches = b.Emit(new ConvPatchesPrimitive(Params, k), x);                       // (N, S'…, K…, I)
        int spatial = patches.Rank - 1 - k.Length - 1;
        return b.Reshape(patches, new Shape(patches.Shape.Take(1 + spatial).Append(1).Concat(k).Append(cin).Append(1)));
    }
    /// <summary>Filter only (NT raises for the lhs): output channel c depends on the filter's O slice c alone — with the
    /// same coefficients (the patches) for an ordinary convolution (traced), and with the patches of c's group for a
    /// grouped or depthwise one (block-diagonal).</summary>
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs)
    {
        if (w != 1) return StructureRule.None;
        var pair = new[] { (types[0].Rank - 1, types[1].Rank - 1) };
        return Params.FeatureGroupCount == 1 ? new StructureRule(pair) : new StructureRule(Array.Empty<(int, int)>()) { Diagonal = pair };
    }
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) => ConvBatching.Forward(b, Params, args, dims);
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

/// <summary>The two adjoints of the convolution: the forward parameters and the shape of the forward operand each
/// produces (its output), both part of its identity; the other operand's shape is checked against the forward
/// convolution.</summary>
internal abstract class ConvAdjointPrimitive : BilinearPrimitive
{
    /// <summary>Parameters of the forward convolution.</summary>
    public ConvParams Params { get; }
    /// <summary>Shape of the forward operand this adjoint produces (its output shape).</summary>
    private protected Shape Produced { get; }
    private protected ConvAdjointPrimitive(ConvParams p, Shape produced) { Params = p; Produced = produced; }
    private protected abstract string ProducedName { get; }
    /// <inheritdoc/>
    public override string ParamsText() => ConvPrimitive.ConvText(Params) + $" {ProducedName}=" + Produced;
    private protected override object? Parameters => (Params, Produced);
    /// <summary>The forward convolution's output shape for these operands, and the cotangent's shape.</summary>
    private protected abstract (Shape Forward, Shape Cotangent) Check(TensorType[] i);
    internal override TensorType InferType(TensorType[] i)
    {
        RequireSameDType(Name, i[0], i[1]);
        var (expect, ct) = Check(i);
        if (expect != ct) throw new ArgumentException($"{Name}: cotangent shape {ct} does not match the convolution output {expect}");
        return new TensorType(Produced, i[0].DType);
    }
    internal override bool HasBatchingRule => true;
}

/// <summary>Adjoint of the convolution in its lhs: <c>(ct, rhs) ↦ Aᵀct</c> with <c>A x = conv(x, rhs)</c>. Bilinear.</summary>
internal sealed class ConvLhsTransposePrimitive : ConvAdjointPrimitive
{
    /// <summary>Shape of the forward lhs (the output shape here).</summary>
    public Shape LhsShape => Produced;
    internal ConvLhsTransposePrimitive(ConvParams p, Shape lhsShape) : base(p, lhsShape) { }
    /// <inheritdoc/>
    public override string Name => "conv_lhs_transpose";
    private protected override string ProducedName => "lhs_shape";
    private protected override (Shape, Shape) Check(TensorType[] i) => (Conv.InferShape(LhsShape, i[1].Shape, Params), i[0].Shape);
    internal override Tensor Evaluate(Tensor[] i, ComputeBackend backend) => backend.ConvLhsTranspose(i[0], i[1], LhsShape, Params);
    internal override double Flops(TensorType[] i, TensorType o) => 2.0 * i[0].Shape.Elements * i[1].Shape.Take(i[1].Rank - 1).Aggregate(1.0, (a, d) => a * d);
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) => ConvBatching.LhsTranspose(b, Params, LhsShape, args, dims);
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) => new[]
    {
        inputs[0] is null ? b.Emit(new ConvPrimitive(Params), ct, inputs[1]!) : null,
        inputs[1] is null ? b.Emit(new ConvRhsTransposePrimitive(Params, types[1].Shape), ct, inputs[0]!) : null,
    };
}

/// <summary>Adjoint of the convolution in its rhs: <c>(lhs, ct) ↦ Bᵀct</c> with <c>B w = conv(lhs, w)</c>. Bilinear.</summary>
internal sealed class ConvRhsTransposePrimitive : ConvAdjointPrimitive
{
    /// <summary>Shape of the forward rhs (the output shape here).</summary>
    public Shape RhsShape => Produced;
    internal ConvRhsTransposePrimitive(ConvParams p, Shape rhsShape) : base(p, rhsShape) { }
    /// <inheritdoc/>
    public override string Name => "conv_rhs_transpose";
    private protected override string ProducedName => "rhs_shape";
    private protected override (Shape, Shape) Check(TensorType[] i) => (Conv.InferShape(i[0].Shape, RhsShape, Params), i[1].Shape);
    internal override Tensor Evaluate(Tensor[] i, ComputeBackend backend) => backend.ConvRhsTranspose(i[0], i[1], RhsShape, Params);
    internal override double Flops(TensorType[] i, TensorType o) => 2.0 * i[1].Shape.Elements * o.Shape.Take(o.Rank - 1).Aggregate(1.0, (a, d) => a * d);
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) => ConvBatching.RhsTranspose(b, Params, RhsShape, args, dims);
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) => new[]
    {
        inputs[0] is null ? b.Emit(new ConvLhsTransposePrimitive(Params, types[0].Shape), inputs[1]!, ct) : null,
        inputs[1] is null ? b.Emit(new ConvPrimitive(Params), inputs[0]!, ct) : null,
    };
}

/// <summary>
/// Batching rules of the three convolution primitives. A batch of lhs only folds into N; otherwise the batch is
/// folded into the channel axes and becomes extra feature groups (B·G groups), which is exact because groups are
/// independent blocks — so per-example weight gradients are one grouped convolution, not a loop.
/// </summary>
internal static class ConvBatching
{
    private static Tracer Front(GraphBuilder b, Tracer x, int? d, int n) => Transforms.BatchingUtil.ToFront(b, x, d, n);

    /// <summary>(B, N, S…, C) → (B·N, S…, C).</summary>
    public static Tracer MergeIntoN(GraphBuilder b, Tracer x) => b.Reshape(x, new Shape(new[] { x.Shape[0] * x.Shape[1] }.Concat(x.Shape.Skip(2))));

    /// <summary>(B·N, S…, C) → (B, N, S…, C).</summary>
    public static Tracer SplitN(GraphBuilder b, Tracer y, int n) => b.Reshape(y, new Shape(new[] { n, y.Shape[0] / n }.Concat(y.Shape.Skip(1))));

    /// <summary>(B, A…, C) → (A…, B·C): the batch becomes the major part of the last (channel) axis.</summary>
    public static Tracer MergeIntoChannels(GraphBuilder b, Tracer x)
    {
        var moved = Transforms.BatchingUtil.Move(b, x, 0, x.Rank - 2);
        return b.Reshape(moved, new Shape(moved.Shape.Take(moved.Rank - 2).Append(moved.Shape[^2] * moved.Shape[^1])));
    }

    /// <summary>(A…, B·C) → (A…, B, C); returns the batch axis (rank − 2 of the result).</summary>
    public static (Tracer, int?) SplitChannels(GraphBuilder b, Tracer y, int n) =>
        (b.Reshape(y, new Shape(y.Shape.Take(y.Rank - 1).Append(n).Append(y.Shape[^1] / n))), y.Rank - 1);

    public static ConvParams Grouped(ConvParams p, int n) => p with { FeatureGroupCount = p.FeatureGroupCount * n };

    public static (Tracer, int?) Forward(GraphBuilder b, ConvParams p, Tracer[] a, int?[] d)
    {
        if (d[1] is null) return (SplitN(b, b.Emit(new ConvPrimitive(p), MergeIntoN(b, Front(b, a[0], d[0], 0)), a[1]), a[0].Shape[d[0]!.Value]), 0);
        int n = a[1].Shape[d[1]!.Value];
        var x = MergeIntoChannels(b, Front(b, a[0], d[0], n));
        var w = MergeIntoChannels(b, Front(b, a[1], d[1], n));
        return SplitChannels(b, b.Emit(new ConvPrimitive(Grouped(p, n)), x, w), n);
    }

    public static (Tracer, int?) LhsTranspose(GraphBuilder b, ConvParams p, Shape lhsShape, Tracer[] a, int?[] d)
    {
        if (d[1] is null)
        {
            var ct = Front(b, a[0], d[0], 0);
            int n0 = ct.Shape[0];
            var big = new Shape(new[] { n0 * lhsShape[0] }.Concat(lhsShape.Skip(1)));
            return (SplitN(b, b.Emit(new ConvLhsTransposePrimitive(p, big), MergeIntoN(b, ct), a[1]), n0), 0);
        }
        int n = a[1].Shape[d[1]!.Value];
        var c = MergeIntoChannels(b, Front(b, a[0], d[0], n));
        var w = MergeIntoChannels(b, Front(b, a[1], d[1], n));
        var shape = new Shape(lhsShape.Take(lhsShape.Rank - 1).Append(n * lhsShape[^1]));
        return SplitChannels(b, b.Emit(new ConvLhsTransposePrimitive(Grouped(p, n), shape), c, w), n);
    }

    public static (Tracer, int?) RhsTranspose(GraphBuilder b, ConvParams p, Shape rhsShape, Tracer[] a, int?[] d)
    {
        int n = Transforms.BatchingUtil.Size(a, d);
        var outShape = new Shape(rhsShape.Take(rhsShape.Rank - 1).Append(n * rhsShape[^1]));
        if (d[0] is null && p.FeatureGroupCount == 1)
        {
            // Only the cotangent is batched: concatenate the batch along O (output channels are independent).
            var c1 = MergeIntoChannels(b, Front(b, a[1], d[1], n));
            return SplitChannels(b, b.Emit(new ConvRhsTransposePrimitive(p, outShape), a[0], c1), n);
        }
        var x = MergeIntoChannels(b, Front(b, a[0], d[0], n));
        var c = MergeIntoChannels(b, Front(b, a[1], d[1], n));
        return SplitChannels(b, b.Emit(new ConvRhsTransposePrimitive(Grouped(p, n), outShape), x, c), n);
    }
}

/// <summary>
/// im2col patches <c>(N, S…, C) ↦ (N, S'…, K…, C)</c> of a convolution's lhs (linear). Structured derivatives
/// use it as the compressed <c>∂y/∂W</c> of a convolution; it is never differentiated in reverse mode.
/// </summary>
internal sealed class ConvPatchesPrimitive : Primitive
{
    /// <summary>Parameters of the convolution.</summary>
    public ConvParams Params { get; }
    /// <summary>Spatial filter shape.</summary>
    public int[] Kernel { get; }
    internal ConvPatchesPrimitive(ConvParams p, int[] kernel) { Params = p; Kernel = kernel; }
    /// <inheritdoc/>
    public override string Name => "conv_patches";
    /// <inheritdoc/>
    public override string ParamsText() => ConvPrimitive.ConvText(Params) + " kernel=" + L(Kernel);
    private protected override object? Parameters => (Params, ValueArray.Of(Kernel));
    internal override TensorType InferType(TensorType[] i) => new(Patches.InferShape(i[0].Shape, Kernel, Params), i[0].DType);
    internal override Tensor Evaluate(Tensor[] i) => Patches.Compute(i[0], Kernel, Params);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.Emit(this, x) : null;
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims)
    {
        var x = Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0);
        return (ConvBatching.SplitN(b, b.Emit(this, ConvBatching.MergeIntoN(b, x)), x.Shape[0]), 0);
    }
    internal override double Flops(TensorType[] i, TensorType o) => o.Shape.Elements;
}
