using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>
/// Base of element-wise unary primitives that are linear in their operand (JAX's <c>deflinear</c>): the JVP is the
/// primitive applied to the tangent, <c>∂y/∂x</c> is the identity structure, and only the transpose rule is left to
/// the subclass. Keeps linear primitives out of <see cref="UnaryPrimitive"/>, whose derivative-based rules they do
/// not use.
/// </summary>
internal abstract class LinearUnaryPrimitive : Primitive
{
    internal override TensorType InferType(TensorType[] inputs) => inputs[0];

    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) => (b.Emit(this, args[0]), dims[0]);

    internal override Tracer? Jvp(GraphBuilder b, Tracer[] primals, Tracer?[] tangents, Tracer output) =>
        tangents[0] is { } t ? b.Emit(this, t) : null;

    /// <summary>The adjoint applied to the cotangent (every linear unary primitive must say it).</summary>
    internal abstract override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] inputTypes);

    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) => StructureRule.Identity(types[0].Rank);
}
