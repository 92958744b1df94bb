using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>Base of element-wise binary primitives: operands of equal shape and dtype (lax semantics).</summary>
internal abstract class BinaryPrimitive : Primitive
{
    internal override TensorType InferType(TensorType[] inputs)
    {
        if (inputs.Length != 2) throw new ArgumentException($"{Name}: expected 2 operands, got {inputs.Length}");
        if (inputs[0].Shape != inputs[1].Shape)
            throw new ArgumentException($"{Name}: operands must have equal shapes, got {inputs[0].Shape} and {inputs[1].Shape}");
        RequireSameDType(Name, inputs[0], inputs[1]);
        return inputs[0];
    }

    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) => ElementwiseBatch(b, this, args, dims);

    /// <summary>Element-wise n-ary rule: equal batch axes pass through; otherwise all operands go to axis 0.</summary>
    internal static (Tracer, int?) ElementwiseBatch(GraphBuilder b, Primitive p, Tracer[] args, int?[] dims)
    {
        if (dims.All(d => d is not null && d == dims[0])) return (b.Emit(p, args), dims[0]);
        int n = Transforms.BatchingUtil.Size(args, dims);
        return (b.Emit(p, args.Select((a, i) => Transforms.BatchingUtil.ToFront(b, a, dims[i], n)).ToArray()), 0);
    }

    /// <summary>The Jacobian of <c>w ↦ w ⊙ c</c> when every axis is diagonal: c with size-1 w axes appended.</summary>
    private protected static Tracer? DiagonalJacobian(GraphBuilder b, Tracer c, TensorType w, StructureRule active) =>
        IsAllDiagonal(w, active) ? b.Reshape(c, new Shape(c.Shape.Concat(Enumerable.Repeat(1, w.Rank)))) : null;

    /// <summary>Every axis of w diagonal with itself and nothing else compressed (the structure the rule serves).</summary>
    private protected static bool IsAllDiagonal(TensorType w, StructureRule active) =>
        active.Trace.Length == 0 && active.Broadcast.Length == 0 && active.Diagonal.Length == w.Rank && active.Diagonal.All(p => p.Y == p.W);

    private protected static Tracer? AddT(GraphBuilder b, Tracer? x, Tracer? y) => x is null ? y : y is null ? x : b.Add(x, y);
}

/// <summary><c>x + y</c> (linear in both).</summary>
internal sealed class AddPrimitive : BinaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "add";
    internal override Tensor Evaluate(Tensor[] i) => Elementwise.Binary(BinaryOp.Add, i[0], i[1]);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => AddT(b, t[0], t[1]);
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) => StructureRule.Identity(types[w].Rank);
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) =>
        new[] { inputs[0] is null ? ct : null, inputs[1] is null ? ct : null };
}

/// <summary><c>x − y</c> (linear in both).</summary>
internal sealed class SubPrimitive : BinaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "sub";
    internal override Tensor Evaluate(Tensor[] i) => Elementwise.Binary(BinaryOp.Sub, i[0], i[1]);
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) => StructureRule.Identity(types[w].Rank);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) =>
        t[1] is null ? t[0] : t[0] is null ? b.Neg(t[1]!) : b.Sub(t[0]!, t[1]!);
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types) =>
        new[] { inputs[0] is null ? ct : null, inputs[1] is null ? b.Neg(ct) : null };
}

/// <summary><c>x · y</c> (bilinear: linear in either operand when the other is constant).</summary>
internal sealed class MulPrimitive : BinaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "mul";
    internal override Tensor Evaluate(Tensor[] i) => Elementwise.Binary(BinaryOp.Mul, i[0], i[1]);
    /// <summary>By a broadcast scalar: constant (every axis traced); by a tensor: block-diagonal on every axis.</summary>
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) =>
        StructureRule.IsScalarLiteral(inputs[1 - w]) ? StructureRule.Identity(types[w].Rank) : StructureRule.ElementwiseDiagonal(types[w].Rank);
    /// <summary>Diagonal on every axis: ∂y'/∂w' is the other operand itself, (y…, 1…).</summary>
    internal override Tracer? Jacobian(GraphBuilder b, int w, Tracer?[] inputs, TensorType[] types, StructureRule active) =>
        DiagonalJacobian(b, inputs[1 - w]!, types[w], active);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) =>
        AddT(b, t[0] is null ? null : b.Mul(t[0]!, p[1]), t[1] is null ? null : b.Mul(p[0], t[1]!));
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        if (inputs[0] is null && inputs[1] is null) throw new InvalidOperationException("mul: cannot transpose a product of two linear operands");
        return new[] { inputs[0] is null ? b.Mul(ct, inputs[1]!) : null, inputs[1] is null ? b.Mul(inputs[0]!, ct) : null };
    }
}

/// <summary><c>x / y</c> (linear in the numerator).</summary>
internal sealed class DivPrimitive : BinaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "div";
    internal override Tensor Evaluate(Tensor[] i) => Elementwise.Binary(BinaryOp.Div, i[0], i[1]);
    /// <summary>As <c>mul</c> for the numerator (the only operand a tangent program can be linear in).</summary>
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs) =>
        w != 0 ? StructureRule.None
        : StructureRule.IsScalarLiteral(inputs[1]) ? StructureRule.Identity(types[0].Rank) : StructureRule.ElementwiseDiagonal(types[0].Rank);
    /// <summary>Diagonal on every axis: ∂y'/∂w' = 1 / denominator, (y…, 1…).</summary>
    internal override Tracer? Jacobian(GraphBuilder b, int w, Tracer?[] inputs, TensorType[] types, StructureRule active) =>
        w == 0 && IsAllDiagonal(types[0], active) ? DiagonalJacobian(b, b.Div(b.FullLike(inputs[1]!, 1), inputs[1]!), types[0], active) : null;
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) =>
        AddT(b, t[0] is null ? null : b.Div(t[0]!, p[1]),
             t[1] is null ? null : b.Neg(b.Mul(t[1]!, b.Div(y, p[1]))));
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        if (inputs[1] is null) throw new InvalidOperationException("div: the denominator must be constant to transpose");
        return new[] { b.Div(ct, inputs[1]!), null };
    }
}

/// <summary>
/// <c>max(x, y)</c>. At ties the derivative is split equally (0.5 each), as in JAX, so <c>d/dx max(x, 0)</c>
/// at exactly 0 is 0.5 and kernels match Neural Tangents' convention bit for bit.
/// </summary>
internal sealed class MaxPrimitive : BinaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "max";
    internal override Tensor Evaluate(Tensor[] i) => Elementwise.Binary(BinaryOp.Max, i[0], i[1]);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => TieJvp(b, p, t, CompareOp.Gt);

    internal static Tracer? TieJvp(GraphBuilder b, Tracer[] p, Tracer?[] t, CompareOp wins)
    {
        // Weight of x: 1 where x wins, 0.5 at ties, 0 where y wins; y gets the complement.
        var wx = b.Add(b.Compare(wins, p[0], p[1]), b.Mul(b.FullLike(p[0], 0.5), b.Compare(CompareOp.Eq, p[0], p[1])));
        Tracer? tx = t[0] is null ? null : b.Mul(t[0]!, wx);
        Tracer? ty = t[1] is null ? null : b.Mul(t[1]!, b.Sub(b.FullLike(wx, 1), wx));
        return AddT(b, tx, ty);
    }
}

/// <summary><c>min(x, y)</c>; ties split equally as for <see cref="MaxPrimitive"/>.</summary>
internal sealed class MinPrimitive : BinaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "min";
    internal override Tensor Evaluate(Tensor[] i) => Elementwise.Binary(BinaryOp.Min, i[0], i[1]);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => MaxPrimitive.TieJvp(b, p, t, CompareOp.Lt);
}

/// <summary><c>x^y</c> element-wise.</summary>
internal sealed class PowPrimitive : BinaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "pow";
    internal override Tensor Evaluate(Tensor[] i) => Elementwise.Binary(BinaryOp.Pow, i[0], i[1]);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) =>
        AddT(b, t[0] is null ? null : b.Mul(t[0]!, b.Mul(p[1], b.Pow(p[0], b.Sub(p[1], b.FullLike(p[1], 1))))),
             t[1] is null ? null : b.Mul(t[1]!, b.Mul(b.Log(p[0]), y)));
}

/// <summary>Comparison producing 1.0 / 0.0 in the operands' dtype (we have no bool dtype); zero derivative.</summary>
internal sealed class ComparePrimitive : BinaryPrimitive
{
    /// <summary>The comparison.</summary>
    public CompareOp Op { get; }
    internal ComparePrimitive(CompareOp op) => Op = op;
    /// <inheritdoc/>
    public override string Name => Op.ToString().ToLowerInvariant();
    private protected override object? Parameters => Op;
    internal override Tensor Evaluate(Tensor[] i) => Elementwise.Compare(Op, i[0], i[1]);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y) => null;
}
