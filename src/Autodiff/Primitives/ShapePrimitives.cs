using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary><c>broadcast_in_dim</c>: operand axis i becomes output axis <see cref="Dimensions"/>[i]. Linear.</summary>
internal sealed class BroadcastInDimPrimitive : Primitive
{
    /// <summary>Output shape.</summary>
    public Shape Shape { get; }
    /// <summary>Output position of each operand axis (strictly increasing).</summary>
    public int[] Dimensions { get; }
    internal BroadcastInDimPrimitive(Shape shape, int[] dims) { Shape = shape; Dimensions = dims; }
    /// <inheritdoc/>
    public override string Name => "broadcast_in_dim";
    /// <inheritdoc/>
    public override string ParamsText() => $"shape={Shape} dims={L(Dimensions)}";
    private protected override object? Parameters => (Shape, ValueArray.Of(Dimensions));
    internal override TensorType InferType(TensorType[] i)
    {
        var s = i[0].Shape;
        if (Dimensions.Length != s.Rank)
            throw new ArgumentException($"broadcast_in_dim: {Dimensions.Length} dimensions {L(Dimensions)} for operand of shape {s}");
        for (int k = 0; k < s.Rank; k++)
        {
            int d = Dimensions[k];
            if (d < 0 || d >= Shape.Rank || (k > 0 && d <= Dimensions[k - 1]))
                throw new ArgumentException($"broadcast_in_dim: dimensions {L(Dimensions)} must be strictly increasing and within the output rank {Shape.Rank}");
            if (s[k] != 1 && s[k] != Shape[d])
                throw new ArgumentException($"broadcast_in_dim: operand shape {s} is incompatible with output shape {Shape} at dimensions {L(Dimensions)}");
        }
        return new TensorType(Shape, i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i) => i[0].BroadcastInDim(Shape, Dimensions);
    /// <summary>Operand axis i is traced with output axis Dimensions[i]; every other output axis (new, or expanded from
    /// size 1) tiles w.</summary>
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs)
    {
        var s = types[0].Shape;
        var kept = Enumerable.Range(0, s.Rank).Where(k => s[k] == Shape[Dimensions[k]]).ToArray();
        return new StructureRule(kept.Select(k => (Dimensions[k], k)).ToArray())
        {
            Broadcast = Enumerable.Range(0, Shape.Rank).Where(a => !kept.Any(k => Dimensions[k] == a)).ToArray(),
        };
    }
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims)
    {
        var x = Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0);
        return (b.BroadcastInDim(x, new Shape(new[] { x.Shape[0] }.Concat(Shape)), Dimensions.Select(d => d + 1).Prepend(0).ToArray()), 0);
    }
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.Emit(this, x) : null;
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        var s = types[0].Shape;
        var summed = Enumerable.Range(0, Shape.Rank).Where(a => !Dimensions.Contains(a)).ToList();
        for (int k = 0; k < s.Rank; k++)
            if (s[k] == 1 && Shape[Dimensions[k]] != 1) summed.Add(Dimensions[k]);
        summed.Sort();
        var r = summed.Count > 0 ? b.ReduceSum(ct, summed.ToArray()) : ct;
        return new[] { r.Shape == s ? r : b.Reshape(r, s) };
    }
}

/// <summary><c>reshape</c> in C order. Linear.</summary>
internal sealed class ReshapePrimitive : Primitive
{
    /// <summary>New shape.</summary>
    public Shape Shape { get; }
    internal ReshapePrimitive(Shape shape) => Shape = shape;
    /// <inheritdoc/>
    public override string Name => "reshape";
    /// <inheritdoc/>
    public override string ParamsText() => "new_sizes=" + Shape;
    private protected override object? Parameters => Shape;
    internal override TensorType InferType(TensorType[] i)
    {
        if (i[0].Shape.Size != Shape.Size) throw new ArgumentException($"reshape: cannot reshape {i[0].Shape} ({i[0].Shape.Size} elements) into {Shape} ({Shape.Size} elements)");
        return new TensorType(Shape, i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i) => i[0].Reshape(Shape);
    /// <summary>y is read in w's shape (its cotangent reshaped back), so reshape is the identity on w.</summary>
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) => StructureRule.Identity(types[0].Rank) with { YInWShape = true };
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims)
    {
        var x = Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0);
        return (b.Reshape(x, new Shape(new[] { x.Shape[0] }.Concat(Shape))), 0);
    }
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.Emit(this, x) : null;
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) => new[] { b.Reshape(ct, types[0].Shape) };
}

/// <summary><c>transpose</c>: output axis i is operand axis <see cref="Permutation"/>[i]. Linear.</summary>
internal sealed class TransposePrimitive : Primitive
{
    /// <summary>The permutation.</summary>
    public int[] Permutation { get; }
    internal TransposePrimitive(int[] perm) => Permutation = perm;
    /// <inheritdoc/>
    public override string Name => "transpose";
    /// <inheritdoc/>
    public override string ParamsText() => "permutation=" + L(Permutation);
    private protected override object? Parameters => ValueArray.Of(Permutation);
    internal override TensorType InferType(TensorType[] i)
    {
        var s = i[0].Shape;
        if (Permutation.Length != s.Rank || Permutation.OrderBy(x => x).Where((x, k) => x != k).Any())
            throw new ArgumentException($"transpose: permutation {L(Permutation)} is not a permutation of the axes of {s}");
        return new TensorType(new Shape(Permutation.Select(a => s[a])), i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i) => i[0].Transpose(Permutation);
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) =>
        new(Enumerable.Range(0, Permutation.Length).Select(a => (Array.IndexOf(Permutation, a), a)).ToArray());
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) =>
        (b.Transpose(Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0), Permutation.Select(p => p + 1).Prepend(0).ToArray()), 0);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.Emit(this, x) : null;
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        var inv = new int[Permutation.Length];
        for (int k = 0; k < inv.Length; k++) inv[Permutation[k]] = k;
        return new[] { b.Transpose(ct, inv) };
    }
}

/// <summary><c>pad</c> with a constant value (lo, hi may be negative; interior ≥ 0). Linear in the operand when the value is 0.</summary>
internal sealed class PadPrimitive : Primitive
{
    /// <summary>Padding value.</summary>
    public double Value { get; }
    /// <summary>(lo, hi, interior) per axis.</summary>
    public (int Lo, int Hi, int Interior)[] Config { get; }
    internal PadPrimitive(double value, (int, int, int)[] config) { Value = value; Config = config; }
    /// <inheritdoc/>
    public override string Name => "pad";
    /// <inheritdoc/>
    public override string ParamsText() => $"value={Value} config=({string.Join(",", Config.Select(c => $"({c.Lo},{c.Hi},{c.Interior})"))})";
    private protected override object? Parameters => (BitConverter.DoubleToInt64Bits(Value), ValueArray.Of(Config));
    internal override TensorType InferType(TensorType[] i) => new(Structural.PadShape(i[0].Shape, Config), i[0].DType);
    internal override Tensor Evaluate(Tensor[] i) => Structural.Pad(i[0], Value, Config);
    /// <summary>Unpadded axes are traced.</summary>
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) =>
        w != 0 ? StructureRule.None : new(Enumerable.Range(0, Config.Length).Where(a => Config[a] == (0, 0, 0)).Select(a => (a, a)).ToArray());
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) =>
        (b.Pad(Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0), Value, Config.Prepend((0, 0, 0)).ToArray()), 0);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.Pad(x, 0, Config) : null;
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        if (Value != 0) throw new InvalidOperationException("pad: only zero padding is linear");
        // Undo lo/hi by negative padding, then drop the interior elements with a strided slice (JAX's rule).
        var unpadded = b.Pad(ct, 0, Config.Select(c => (-c.Lo, -c.Hi, 0)).ToArray());
        var s = unpadded.Shape;
        var r = b.Slice(unpadded, new int[s.Rank], s.ToArray(), Config.Select(c => c.Interior + 1).ToArray());
        return new[] { r };
    }
}

/// <summary><c>slice</c> with start, limit and strides. Linear.</summary>
internal sealed class SlicePrimitive : Primitive
{
    /// <summary>Start index per axis.</summary>
    public int[] Start { get; }
    /// <summary>Exclusive limit per axis.</summary>
    public int[] Limit { get; }
    /// <summary>Stride per axis.</summary>
    public int[] Strides { get; }
    internal SlicePrimitive(int[] start, int[] limit, int[] strides) { Start = start; Limit = limit; Strides = strides; }
    /// <inheritdoc/>
    public override string Name => "slice";
    /// <inheritdoc/>
    public override string ParamsText() => $"start={L(Start)} limit={L(Limit)} strides={L(Strides)}";
    private protected override object? Parameters => (ValueArray.Of(Start), ValueArray.Of(Limit), ValueArray.Of(Strides));
    internal override TensorType InferType(TensorType[] i)
    {
        var s = i[0].Shape;
        if (Start.Length != s.Rank || Limit.Length != s.Rank || Strides.Length != s.Rank)
            throw new ArgumentException($"slice: start/limit/strides need {s.Rank} entries for operand shape {s}");
        var dims = new int[s.Rank];
        for (int k = 0; k < s.Rank; k++)
        {
            if (Start[k] < 0 || Limit[k] > s[k] || Start[k] > Limit[k] || Strides[k] < 1)
                throw new ArgumentException($"slice: invalid start {Start[k]}, limit {Limit[k]}, stride {Strides[k]} on axis {k} of operand shape {s}");
            dims[k] = (Limit[k] - Start[k] + Strides[k] - 1) / Strides[k];
        }
        return new TensorType(new Shape(dims), i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i) => i[0].Slice(Start, Limit, Strides);
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims)
    {
        var x = Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0);
        return (b.Slice(x, Start.Prepend(0).ToArray(), Limit.Prepend(x.Shape[0]).ToArray(), Strides.Prepend(1).ToArray()), 0);
    }
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.Emit(this, x) : null;
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        var s = types[0].Shape;
        if (ct.Shape.Size == 0) return new[] { b.Zeros(types[0]) };
        var cfg = new (int, int, int)[s.Rank];
        for (int k = 0; k < s.Rank; k++)
        {
            int realLimit = Start[k] + (ct.Shape[k] - 1) * Strides[k] + 1;
            cfg[k] = (Start[k], s[k] - realLimit, Strides[k] - 1);
        }
        return new[] { b.Pad(ct, 0, cfg) };
    }
}

/// <summary><c>concatenate</c> along <see cref="Axis"/>. Linear.</summary>
internal sealed class ConcatenatePrimitive : Primitive
{
    /// <summary>The axis.</summary>
    public int Axis { get; }
    internal ConcatenatePrimitive(int axis) => Axis = axis;
    /// <inheritdoc/>
    public override string Name => "concatenate";
    /// <inheritdoc/>
    public override string ParamsText() => "dimension=" + Axis;
    private protected override object? Parameters => Axis;
    internal override TensorType InferType(TensorType[] i)
    {
        for (int k = 1; k < i.Length; k++) RequireSameDType(Name, i[0], i[k]);
        return new TensorType(Structural.ConcatenateShape(i.Select(t => t.Shape).ToArray(), Axis), i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i) => Structural.Concatenate(i, Axis);
    /// <summary>Every axis but the concatenated one is traced, on all operands alike.</summary>
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) =>
        new(Enumerable.Range(0, types[w].Rank).Where(a => a != Axis).Select(a => (a, a)).ToArray(), SliceOthers: true);
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims)
    {
        int n = Transforms.BatchingUtil.Size(args, dims);
        return (b.Emit(new ConcatenatePrimitive(Axis + 1), args.Select((a, k) => Transforms.BatchingUtil.ToFront(b, a, dims[k], n)).ToArray()), 0);
    }
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y)
    {
        if (t.All(x => x is null)) return null;
        return b.Emit(this, t.Select((x, k) => x ?? b.Zeros(p[k].Type)).ToArray());
    }
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        var r = new Tracer?[inputs.Length];
        int off = 0;
        for (int k = 0; k < inputs.Length; k++)
        {
            var s = types[k].Shape;
            if (inputs[k] is null)
            {
                var start = new int[s.Rank]; var limit = ct.Shape.ToArray();
                start[Axis] = off; limit[Axis] = off + s[Axis];
                r[k] = b.Slice(ct, start, limit);
            }
            off += s[Axis];
        }
        return r;
    }
}

/// <summary><c>rev</c>: reverses the given axes. Linear.</summary>
internal sealed class RevPrimitive : Primitive
{
    /// <summary>Reversed axes.</summary>
    public int[] Axes { get; }
    internal RevPrimitive(int[] axes) => Axes = axes;
    /// <inheritdoc/>
    public override string Name => "rev";
    /// <inheritdoc/>
    public override string ParamsText() => "dimensions=" + L(Axes);
    private protected override object? Parameters => ValueArray.Of(Axes);
    internal override TensorType InferType(TensorType[] i)
    {
        foreach (var a in Axes) if (a < 0 || a >= i[0].Rank) throw new ArgumentException($"rev: axis {a} out of range for operand shape {i[0].Shape}");
        return i[0];
    }
    internal override Tensor Evaluate(Tensor[] i) => i[0].Rev(Axes);
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) =>
        new(Enumerable.Range(0, types[0].Rank).Where(a => !Axes.Contains(a)).Select(a => (a, a)).ToArray());
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) =>
        (b.Emit(new RevPrimitive(Axes.Select(a => a + 1).ToArray()), Transforms.BatchingUtil.Move(b, args[0], dims[0]!.Value, 0)), 0);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.Emit(this, x) : null;
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) => new[] { b.Emit(this, ct) };
}

/// <summary><c>convert_element_type</c> between float32 and float64. Linear.</summary>
internal sealed class ConvertElementTypePrimitive : Primitive
{
    /// <summary>Target dtype.</summary>
    public DType NewDType { get; }
    internal ConvertElementTypePrimitive(DType d) => NewDType = d;
    /// <inheritdoc/>
    public override string Name => "convert_element_type";
    /// <inheritdoc/>
    public override string ParamsText() => "new_dtype=" + NewDType.Name();
    private protected override object? Parameters => NewDType;
    internal override TensorType InferType(TensorType[] i) => new(i[0].Shape, NewDType);
    internal override Tensor Evaluate(Tensor[] i) => i[0].AsType(NewDType);
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) => StructureRule.Identity(types[0].Rank);
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) => (b.Emit(this, args[0]), dims[0]);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => t[0] is { } x ? b.Emit(this, x) : null;
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) => new[] { b.Convert(ct, types[0].DType) };
}
