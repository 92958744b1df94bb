using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>Base of element-wise unary primitives: the JVP is <c>t · f'(x)</c>.</summary>
internal abstract class UnaryPrimitive : Primitive
{
    internal abstract UnaryOp Op { get; }
    internal override TensorType InferType(TensorType[] inputs) => inputs[0];
    internal override Tensor Evaluate(Tensor[] inputs) => Elementwise.Unary(Op, inputs[0]);

    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) => (b.Emit(this, args[0]), dims[0]);

    /// <summary>f'(x), given x and y = f(x), emitted into <paramref name="b"/>; null when f' is identically zero.</summary>
    internal abstract Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y);

    internal override Tracer? Jvp(GraphBuilder b, Tracer[] primals, Tracer?[] tangents, Tracer output)
    {
        if (tangents[0] is not { } t) return null;
        var d = Derivative(b, primals[0], output);
        return d is null ? null : b.Mul(t, d);
    }
}

/// <summary><c>exp(x)</c>.</summary>
internal sealed class ExpPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "exp";
    internal override UnaryOp Op => UnaryOp.Exp;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) => y;
}

/// <summary><c>log(x)</c>.</summary>
internal sealed class LogPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "log";
    internal override UnaryOp Op => UnaryOp.Log;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) => b.Div(b.FullLike(x, 1), x);
}

/// <summary><c>tanh(x)</c>.</summary>
internal sealed class TanhPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "tanh";
    internal override UnaryOp Op => UnaryOp.Tanh;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) => b.Sub(b.FullLike(y, 1), b.Mul(y, y));
}

/// <summary><c>logistic(x) = 1 / (1 + exp(-x))</c>.</summary>
internal sealed class LogisticPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "logistic";
    internal override UnaryOp Op => UnaryOp.Logistic;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) => b.Mul(y, b.Sub(b.FullLike(y, 1), y));
}

/// <summary><c>erf(x)</c>; derivative <c>2/√π · exp(−x²)</c>.</summary>
internal sealed class ErfPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "erf";
    internal override UnaryOp Op => UnaryOp.Erf;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) =>
        b.Mul(b.FullLike(x, 2 / Math.Sqrt(Math.PI)), b.Exp(b.Neg(b.Mul(x, x))));
}

/// <summary><c>sin(x)</c>.</summary>
internal sealed class SinPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "sin";
    internal override UnaryOp Op => UnaryOp.Sin;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) => b.Cos(x);
}

/// <summary><c>cos(x)</c>.</summary>
internal sealed class CosPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "cos";
    internal override UnaryOp Op => UnaryOp.Cos;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) => b.Neg(b.Sin(x));
}

/// <summary><c>sqrt(x)</c>.</summary>
internal sealed class SqrtPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "sqrt";
    internal override UnaryOp Op => UnaryOp.Sqrt;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) => b.Div(b.FullLike(y, 0.5), y);
}

/// <summary><c>1/sqrt(x)</c>.</summary>
internal sealed class RsqrtPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "rsqrt";
    internal override UnaryOp Op => UnaryOp.Rsqrt;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) => b.Mul(b.FullLike(y, -0.5), b.Div(y, x));
}

/// <summary><c>|x|</c>; derivative <c>sign(x)</c> (0 at 0, as JAX).</summary>
internal sealed class AbsPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "abs";
    internal override UnaryOp Op => UnaryOp.Abs;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) => b.Sign(x);
}

/// <summary><c>sign(x)</c>; piecewise constant, zero derivative.</summary>
internal sealed class SignPrimitive : UnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "sign";
    internal override UnaryOp Op => UnaryOp.Sign;
    internal override Tracer? Derivative(GraphBuilder b, Tracer x, Tracer y) => null;
}

/// <summary><c>−x</c> (linear, its own transpose).</summary>
internal sealed class NegPrimitive : LinearUnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "neg";
    internal override Tensor Evaluate(Tensor[] inputs) => Elementwise.Unary(UnaryOp.Neg, inputs[0]);
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] inputTypes) => new[] { b.Neg(ct) };
}

/// <summary><c>x^n</c> for an integer n (JAX's <c>integer_pow</c>).</summary>
internal sealed class IntegerPowPrimitive : Primitive
{
    /// <summary>The exponent.</summary>
    public int Exponent { get; }
    internal IntegerPowPrimitive(int exponent) => Exponent = exponent;
    /// <inheritdoc/>
    public override string Name => "integer_pow";
    /// <inheritdoc/>
    public override string ParamsText() => "y=" + Exponent;
    private protected override object? Parameters => Exponent;
    internal override TensorType InferType(TensorType[] inputs) => inputs[0];
    internal override Tensor Evaluate(Tensor[] inputs) => Elementwise.IntegerPow(inputs[0], Exponent);
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) => (b.Emit(this, args[0]), dims[0]);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] primals, Tracer?[] tangents, Tracer output)
    {
        if (tangents[0] is not { } t || Exponent == 0) return null;
        var d = Exponent == 1 ? b.FullLike(primals[0], 1) : b.Mul(b.FullLike(primals[0], Exponent), b.IntegerPow(primals[0], Exponent - 1));
        return b.Mul(t, d);
    }
}

/// <summary>Identity (<c>copy</c>): marks a parameter that is itself an output, so structured derivatives see a consumer.</summary>
internal sealed class CopyPrimitive : LinearUnaryPrimitive
{
    /// <inheritdoc/>
    public override string Name => "copy";
    internal override Tensor Evaluate(Tensor[] inputs) => inputs[0];
    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] inputTypes) => new[] { ct };
    internal override bool FoldConstants => false;
}

/// <summary><c>stop_gradient</c>: the identity with a zero derivative (e.g. the max subtracted inside a softmax).</summary>
internal sealed class StopGradientPrimitive : Primitive
{
    /// <inheritdoc/>
    public override string Name => "stop_gradient";
    internal override TensorType InferType(TensorType[] inputs) => inputs[0];
    internal override Tensor Evaluate(Tensor[] inputs) => inputs[0];
    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims) => (b.Emit(this, args[0]), dims[0]);
    internal override Tracer? Jvp(GraphBuilder b, Tracer[] primals, Tracer?[] tangents, Tracer output) => null;
}
