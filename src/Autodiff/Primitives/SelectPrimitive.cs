using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary><c>where(pred ≠ 0, onTrue, onFalse)</c>; linear in the two branches, the predicate is constant.</summary>
internal sealed class SelectPrimitive : Primitive
{
    /// <inheritdoc/>
    public override string Name => "select";
    internal override TensorType InferType(TensorType[] i)
    {
        if (i.Length != 3) throw new ArgumentException($"select: expected 3 operands, got {i.Length}");
        if (i[0].Shape != i[1].Shape || i[1].Shape != i[2].Shape)
            throw new ArgumentException($"select: predicate and branches must have equal shapes, got {i[0].Shape}, {i[1].Shape} and {i[2].Shape}");
        RequireSameDType(Name, i[1], i[2]);
        return i[1];
    }
    internal override Tensor Evaluate(Tensor[] i) => Elementwise.Select(i[0], i[1], i[2]);
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) => BinaryPrimitive.ElementwiseBatch(b, this, args, dims);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y)
    {
        if (t[1] is null && t[2] is null) return null;
        return b.Select(p[0], t[1] ?? b.Zeros(p[1].Type), t[2] ?? b.Zeros(p[2].Type));
    }
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        var pred = inputs[0] ?? throw new InvalidOperationException("select: the predicate must be constant to transpose");
        var z = b.Zeros(ct.Type);
        return new[] { null, inputs[1] is null ? b.Select(pred, ct, z) : null, inputs[2] is null ? b.Select(pred, z, ct) : null };
    }
}
