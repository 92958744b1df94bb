using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary><c>reduce_sum</c> over <see cref="Axes"/> (removed from the shape). Linear.</summary>
internal sealed class ReduceSumPrimitive : Primitive
{
    /// <summary>Reduced axes, sorted, non-negative.</summary>
    public int[] Axes { get; }
    internal ReduceSumPrimitive(int[] axes) => Axes = axes;
    /// <inheritdoc/>
    public override string Name => "reduce_sum";
    /// <inheritdoc/>
    public override string ParamsText() => "axes=" + L(Axes);
    private protected override object? Parameters => ValueArray.Of(Axes);
    internal override TensorType InferType(TensorType[] i) => new(ReduceShape(Name, i[0].Shape, Axes), i[0].DType);
    internal override Tensor Evaluate(Tensor[] i) => Reductions.Sum(i[0], Axes);
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) =>
        new(Enumerable.Range(0, types[0].Rank).Where(a => !Axes.Contains(a)).Select((a, i) => (i, a)).ToArray());
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) =>
        (b.ReduceSum(Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0), Axes.Select(a => a + 1).ToArray()), 0);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.ReduceSum(x, Axes) : null;
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        var kept = Enumerable.Range(0, types[0].Rank).Where(a => !Axes.Contains(a)).ToArray();
        return new[] { b.BroadcastInDim(ct, types[0].Shape, kept) };
    }

    internal static Shape ReduceShape(string name, Shape s, int[] axes)
    {
        foreach (var a in axes)
            if (a < 0 || a >= s.Rank) throw new ArgumentException($"{name}: axis {a} out of range for operand shape {s}");
        if (axes.Distinct().Count() != axes.Length) throw new ArgumentException($"{name}: repeated axes {L(axes)}");
        return new Shape(s.Where((_, k) => !axes.Contains(k)));
    }
}

/// <summary><c>reduce_max</c> over <see cref="Axes"/>; the JVP shares the tangent equally among tied maxima (JAX).</summary>
internal sealed class ReduceMaxPrimitive : Primitive
{
    /// <summary>Reduced axes, sorted, non-negative.</summary>
    public int[] Axes { get; }
    internal ReduceMaxPrimitive(int[] axes) => Axes = axes;
    /// <inheritdoc/>
    public override string Name => "reduce_max";
    /// <inheritdoc/>
    public override string ParamsText() => "axes=" + L(Axes);
    private protected override object? Parameters => ValueArray.Of(Axes);
    internal override TensorType InferType(TensorType[] i) => new(ReduceSumPrimitive.ReduceShape(Name, i[0].Shape, Axes), i[0].DType);
    internal override Tensor Evaluate(Tensor[] i) => Reductions.Max(i[0], Axes);
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) =>
        (b.ReduceMax(Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0), Axes.Select(a => a + 1).ToArray()), 0);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y)
    {
        if (t[0] is not { } tx) return null;
        var kept = Enumerable.Range(0, p[0].Rank).Where(a => !Axes.Contains(a)).ToArray();
        var mask = b.Compare(CompareOp.Eq, p[0], b.BroadcastInDim(y, p[0].Shape, kept));
        return b.Div(b.ReduceSum(b.Mul(tx, mask), Axes), b.ReduceSum(mask, Axes));
    }
}

/// <summary>
/// <c>reduce_window_sum</c> over every axis with zero padding (average pooling divides it afterwards). Linear;
/// its transpose is <see cref="ReduceWindowSumTransposePrimitive"/>.
/// </summary>
internal sealed class ReduceWindowSumPrimitive : Primitive
{
    /// <summary>Window size per axis.</summary>
    public int[] Window { get; }
    /// <summary>Stride per axis.</summary>
    public int[] Strides { get; }
    /// <summary>Zero padding (lo, hi) per axis.</summary>
    public (int Lo, int Hi)[] Padding { get; }
    internal ReduceWindowSumPrimitive(int[] window, int[] strides, (int, int)[] padding) { Window = window; Strides = strides; Padding = padding; }
    /// <inheritdoc/>
    public override string Name => "reduce_window_sum";
    /// <inheritdoc/>
    public override string ParamsText() => $"window={L(Window)} strides={L(Strides)} padding=({string.Join(",", Padding.Select(x => $"({x.Lo},{x.Hi})"))})";
    private protected override object? Parameters => (ValueArray.Of(Window), ValueArray.Of(Strides), ValueArray.Of(Padding));
    internal override TensorType InferType(TensorType[] i) => new(ReduceWindow.SumInferShape(i[0].Shape, Window, Strides, Padding), i[0].DType);
    internal override Tensor Evaluate(Tensor[] i) => ReduceWindow.Sum(i[0], Window, Strides, Padding);
    internal override double Flops(TensorType[] i, TensorType o) => o.Shape.Elements * Window.Aggregate(1.0, (a, d) => a * d);
    /// <summary>Axes with a trivial window (size 1, stride 1, no padding) are traced.</summary>
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) =>
        new(Enumerable.Range(0, Window.Length).Where(a => Window[a] == 1 && Strides[a] == 1 && Padding[a] == (0, 0)).Select(a => (a, a)).ToArray());
    internal ReduceWindowSumPrimitive Batched() => new(Window.Prepend(1).ToArray(), Strides.Prepend(1).ToArray(), Padding.Prepend((0, 0)).ToArray());
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) =>
        (b.Emit(Batched(), Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0)), 0);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.Emit(this, x) : null;
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) =>
        new[] { b.Emit(new ReduceWindowSumTransposePrimitive(this, types[0].Shape), ct) };
}

/// <summary>Adjoint of <see cref="ReduceWindowSumPrimitive"/>: scatters each window sum back over its window.</summary>
internal sealed class ReduceWindowSumTransposePrimitive : Primitive
{
    /// <summary>The forward reduction.</summary>
    public ReduceWindowSumPrimitive Forward { get; }
    /// <summary>Shape of the forward operand (the output here).</summary>
    public Shape InputShape { get; }
    internal ReduceWindowSumTransposePrimitive(ReduceWindowSumPrimitive forward, Shape inputShape) { Forward = forward; InputShape = inputShape; }
    /// <inheritdoc/>
    public override string Name => "reduce_window_sum_transpose";
    /// <inheritdoc/>
    public override string ParamsText() => Forward.ParamsText() + " shape=" + InputShape;
    private protected override object? Parameters => (Forward, InputShape);
    internal override TensorType InferType(TensorType[] i)
    {
        var expect = ReduceWindow.SumInferShape(InputShape, Forward.Window, Forward.Strides, Forward.Padding);
        if (expect != i[0].Shape) throw new ArgumentException($"{Name}: cotangent shape {i[0].Shape} does not match the window-sum output {expect}");
        return new TensorType(InputShape, i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i) => ReduceWindow.SumTranspose(i[0], InputShape, Forward.Window, Forward.Strides, Forward.Padding);
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims)
    {
        var x = Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0);
        return (b.Emit(new ReduceWindowSumTransposePrimitive(Forward.Batched(), new Shape(new[] { x.Shape[0] }.Concat(InputShape))), x), 0);
    }
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.Emit(this, x) : null;
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) => new[] { b.Emit(Forward, ct) };
}
