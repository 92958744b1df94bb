using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>
/// A primitive operation with its static parameters. Each subclass holds every rule of one primitive in one file:
/// type inference (the only place that validates shapes), evaluation, the JVP rule and, for linear primitives,
/// the transpose rule. Reverse mode is linearize-then-transpose, so there are no VJP rules.
/// </summary>
public abstract class Primitive : IEquatable<Primitive>
{
    /// <summary>The name used in printed graphs (XLA/lax spelling, e.g. <c>dot_general</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Static parameters as text, for printing.</summary>
    public virtual string ParamsText() => "";

    /// <summary>
    /// The static parameters as one value-equal object (a tuple of enums, ints, <see cref="Shape"/>s, value-equal
    /// records and <see cref="ValueArray{T}"/>s; doubles as their bit patterns); null for a primitive without
    /// parameters. Every parameter that changes a result must be in it: it is the primitive's identity together with
    /// its CLR type (<see cref="Equals(Primitive?)"/>), which common-subexpression elimination relies on.
    /// </summary>
    private protected virtual object? Parameters => null;

    /// <summary>Same primitive: the same CLR type and equal <see cref="Parameters"/> (JAX: the same primitive and params).</summary>
    /// <param name="other">The primitive to compare with.</param>
    public bool Equals(Primitive? other) =>
        other is not null && (ReferenceEquals(this, other) || other.GetType() == GetType() && Equals(Parameters, other.Parameters));

    /// <inheritdoc/>
    public sealed override bool Equals(object? obj) => obj is Primitive p && Equals(p);

    /// <inheritdoc/>
    public sealed override int GetHashCode() => HashCode.Combine(GetType(), Parameters);

    /// <summary>Output type for the given operand types; throws <see cref="ArgumentException"/> on invalid operands.</summary>
    internal abstract TensorType InferType(TensorType[] inputs);

    /// <summary>Computes the result on concrete tensors.</summary>
    internal abstract Tensor Evaluate(Tensor[] inputs);

    /// <summary>Computes the result with the compute backend the interpreter passes (only the hot kernels,
    /// <see cref="BilinearPrimitive"/>s, use it).</summary>
    internal virtual Tensor Evaluate(Tensor[] inputs, ComputeBackend backend) => Evaluate(inputs);

    /// <summary>
    /// Emits the output tangent given primals, tangents (null = symbolic zero) and the already-emitted primal
    /// output; returns null for a zero tangent.
    /// </summary>
    internal abstract Tracer? Jvp(GraphBuilder b, Tracer[] primals, Tracer?[] tangents, Tracer output);

    /// <summary>
    /// Transpose rule of a primitive linear in the operands whose entry in <paramref name="inputs"/> is null
    /// (the others are known constants). Returns one cotangent per operand (null for constants or zero).
    /// </summary>
    internal virtual Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] inputTypes) =>
        throw new NotSupportedException($"{Name} is not linear in its operands and cannot be transposed");

    /// <summary>
    /// Batching (vmap) rule: <paramref name="dims"/>[i] is the batch axis of operand i (null = unbatched, at least
    /// one is batched); returns the result and its batch axis. The default is the generic per-example loop
    /// (<see cref="Transforms.BatchingUtil.LoopFallback"/>); every primitive Stax uses overrides it.
    /// </summary>
    internal virtual (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) =>
        Transforms.BatchingUtil.LoopFallback(b, this, args, dims);

    /// <summary>
    /// Whether this primitive has its own batching rule (false = the generic loop fallback). Every override of
    /// <see cref="Batch"/> also overrides this (a declared fact instead of reflection, so the library stays trimmable
    /// and Native-AOT clean; <c>VmapTests</c> checks the two agree).
    /// </summary>
    internal virtual bool HasBatchingRule => false;

    /// <summary>
    /// Structure of <c>∂y/∂w</c> for operand <paramref name="w"/> of this (linear) primitive, for structured
    /// derivatives; <see cref="StructureRule.None"/> (the default) means no compression.
    /// </summary>
    internal virtual StructureRule Structure(int w, TensorType[] types, Atom[] inputs) => StructureRule.None;

    /// <summary>
    /// Jacobian rule (Neural Tangents' J rules): emits the compressed <c>∂y'/∂w'</c> of shape <c>(y'…, w'…)</c>
    /// (<see cref="StructureRule.TrimY"/>, <see cref="StructureRule.TrimW"/>) directly from the constant operands
    /// (<paramref name="inputs"/>, null at <paramref name="w"/>) for the <paramref name="active"/> structure; null when
    /// there is no rule for it (a generic Jacobian over the compressed basis of w is used).
    /// </summary>
    internal virtual Tracer? Jacobian(GraphBuilder b, int w, Tracer?[] inputs, TensorType[] types, StructureRule active) => null;

    /// <summary>Estimated floating-point operations of one application (the AUTO cost model); default: one per output element.</summary>
    internal virtual double Flops(TensorType[] inputs, TensorType output) => output.Shape.Elements;

    /// <summary>Whether all-literal applications are folded at trace time.</summary>
    internal virtual bool FoldConstants => true;

    /// <summary>Name and parameters.</summary>
    public override string ToString() { var p = ParamsText(); return p.Length == 0 ? Name : $"{Name}[{p}]"; }

    /// <summary>Formats an int list as <c>(1, 2)</c>.</summary>
    private protected static string L(IEnumerable<int> xs) => "(" + string.Join(",", xs) + ")";

    private protected static void RequireSameDType(string name, TensorType a, TensorType b)
    {
        if (a.DType != b.DType)
            throw new ArgumentException($"{name}: operands must have equal dtypes, got {a.DType.Name()} and {b.DType.Name()}");
    }
}
