namespace NeuralTangents.Autodiff.Tracing;

/// <summary>
/// The primitive operations on tracers, with <c>jax.lax</c> semantics: no implicit broadcasting, explicit
/// dimension numbers. Every method emits one primitive (or folds constants) and validates shapes immediately,
/// throwing <see cref="ArgumentException"/> with both shapes in the message.
/// </summary>
public static class Lax
{
    /// <summary>Element-wise <c>x + y</c> (equal shapes).</summary>
    public static Tracer Add(Tracer x, Tracer y) => x.Builder.Add(x, y);
    /// <summary>Element-wise <c>x − y</c> (equal shapes).</summary>
    public static Tracer Sub(Tracer x, Tracer y) => x.Builder.Sub(x, y);
    /// <summary>Element-wise <c>x · y</c> (equal shapes).</summary>
    public static Tracer Mul(Tracer x, Tracer y) => x.Builder.Mul(x, y);
    /// <summary>Element-wise <c>x / y</c> (equal shapes).</summary>
    public static Tracer Div(Tracer x, Tracer y) => x.Builder.Div(x, y);
    /// <summary>Element-wise maximum; derivative 0.5 to each side at ties.</summary>
    public static Tracer Max(Tracer x, Tracer y) => x.Builder.Max(x, y);
    /// <summary>Element-wise minimum; derivative 0.5 to each side at ties.</summary>
    public static Tracer Min(Tracer x, Tracer y) => x.Builder.Min(x, y);
    /// <summary>Element-wise <c>x^y</c>.</summary>
    public static Tracer Pow(Tracer x, Tracer y) => x.Builder.Pow(x, y);
    /// <summary>Element-wise comparison as 1.0/0.0.</summary>
    public static Tracer Compare(CompareOp op, Tracer x, Tracer y) => x.Builder.Compare(op, x, y);
    /// <summary><c>pred ≠ 0 ? onTrue : onFalse</c> element-wise.</summary>
    public static Tracer Select(Tracer pred, Tracer onTrue, Tracer onFalse) =>
        pred.Builder.Select(pred, onTrue, onFalse);
    /// <summary>Negation.</summary>
    public static Tracer Neg(Tracer x) => x.Builder.Neg(x);
    /// <summary>Exponential.</summary>
    public static Tracer Exp(Tracer x) => x.Builder.Exp(x);
    /// <summary>Natural logarithm.</summary>
    public static Tracer Log(Tracer x) => x.Builder.Log(x);
    /// <summary>Hyperbolic tangent.</summary>
    public static Tracer Tanh(Tracer x) => x.Builder.Tanh(x);
    /// <summary>Logistic sigmoid.</summary>
    public static Tracer Logistic(Tracer x) => x.Builder.Logistic(x);
    /// <summary>Error function.</summary>
    public static Tracer Erf(Tracer x) => x.Builder.Erf(x);
    /// <summary>Sine.</summary>
    public static Tracer Sin(Tracer x) => x.Builder.Sin(x);
    /// <summary>Cosine.</summary>
    public static Tracer Cos(Tracer x) => x.Builder.Cos(x);
    /// <summary>Square root.</summary>
    public static Tracer Sqrt(Tracer x) => x.Builder.Sqrt(x);
    /// <summary>Reciprocal square root.</summary>
    public static Tracer Rsqrt(Tracer x) => x.Builder.Rsqrt(x);
    /// <summary>Absolute value.</summary>
    public static Tracer Abs(Tracer x) => x.Builder.Abs(x);
    /// <summary>Sign (−1, 0, 1).</summary>
    public static Tracer Sign(Tracer x) => x.Builder.Sign(x);
    /// <summary><c>lax.stop_gradient</c>: x, with a zero derivative.</summary>
    public static Tracer StopGradient(Tracer x) => x.Builder.StopGradient(x);
    /// <summary><c>x^n</c> for integer n.</summary>
    public static Tracer IntegerPow(Tracer x, int n) => x.Builder.IntegerPow(x, n);

    /// <summary>A tensor of <paramref name="value"/> with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tracer FullLike(Tracer like, double value) => like.Builder.FullLike(like, value);

    /// <summary><c>lax.dot_general</c>: output axes are batch, lhs free, rhs free.</summary>
    public static Tracer DotGeneral(Tracer lhs, Tracer rhs, DotDimensionNumbers dims) =>
        lhs.Builder.DotGeneral(lhs, rhs, dims);

    /// <summary>
    /// Convolution in the canonical layout: lhs <c>(N, S1..Sd, C)</c>, rhs <c>(K1..Kd, C/groups, O)</c>,
    /// output <c>(N, S1'..Sd', O)</c> — NHWC/HWIO for 2-D. Mirrors <c>lax.conv_general_dilated</c>.
    /// </summary>
    public static Tracer Conv(Tracer lhs, Tracer rhs, ConvParams p) => lhs.Builder.Conv(lhs, rhs, p);

    /// <summary>Sum over <paramref name="axes"/> (negative allowed; removed from the shape).</summary>
    public static Tracer ReduceSum(Tracer x, params int[] axes) => x.Builder.ReduceSum(x, axes);

    /// <summary>Maximum over <paramref name="axes"/>.</summary>
    public static Tracer ReduceMax(Tracer x, params int[] axes) => x.Builder.ReduceMax(x, axes);

    /// <summary>Window sums over every axis (window, strides, zero padding per axis).</summary>
    public static Tracer ReduceWindowSum(Tracer x, int[] window, int[] strides, (int Lo, int Hi)[] padding) =>
        x.Builder.ReduceWindowSum(x, window, strides, padding);

    /// <summary><c>lax.broadcast_in_dim</c>.</summary>
    public static Tracer BroadcastInDim(Tracer x, Shape shape, int[] dims) => x.Builder.BroadcastInDim(x, shape, dims);

    /// <summary>Reshape in C order.</summary>
    public static Tracer Reshape(Tracer x, Shape shape) => x.Builder.Reshape(x, shape);

    /// <summary>Axis permutation: output axis i is input axis <paramref name="perm"/>[i].</summary>
    public static Tracer Transpose(Tracer x, params int[] perm) => x.Builder.Transpose(x, perm);

    /// <summary>Removes size-1 axes.</summary>
    /// <exception cref="ArgumentException">An axis is not of size 1.</exception>
    public static Tracer Squeeze(Tracer x, params int[] axes) => x.Builder.Squeeze(x, axes);

    /// <summary>Inserts a size-1 axis at <paramref name="axis"/>.</summary>
    public static Tracer ExpandDims(Tracer x, int axis) => x.Builder.ExpandDims(x, axis);

    /// <summary><c>lax.pad</c> with a constant value; (lo, hi, interior) per axis.</summary>
    public static Tracer Pad(Tracer x, double value, (int Lo, int Hi, int Interior)[] config) =>
        x.Builder.Pad(x, value, config);

    /// <summary><c>lax.slice</c>.</summary>
    public static Tracer Slice(Tracer x, int[] start, int[] limit, int[]? strides = null) =>
        x.Builder.Slice(x, start, limit, strides);

    /// <summary>Concatenation along <paramref name="axis"/>.</summary>
    public static Tracer Concatenate(IReadOnlyList<Tracer> xs, int axis)
    {
        if (xs.Count == 0) throw new ArgumentException("concatenate: needs at least one operand", nameof(xs));
        return xs[0].Builder.Concatenate(xs, axis);
    }

    /// <summary>Reverses the given axes.</summary>
    public static Tracer Rev(Tracer x, params int[] axes) => x.Builder.Rev(x, axes);

    /// <summary>Converts between float32 and float64.</summary>
    public static Tracer Convert(Tracer x, DType dtype) => x.Builder.Convert(x, dtype);

    internal static int[] Norm(Tracer x, int[] axes) =>
        axes.Select(a => x.Shape.NormalizeAxis(a, nameof(axes))).OrderBy(a => a).ToArray();
}
