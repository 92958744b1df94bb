using NeuralTangents.Autodiff.Primitives;

namespace NeuralTangents.Autodiff.Tracing;

/// <summary>
/// The primitive operations on tracers, with <c>jax.lax</c> semantics: no implicit broadcasting, explicit
/// dimension numbers. Every method emits one primitive (or folds constants) and validates shapes immediately,
/// throwing <see cref="ArgumentException"/> with both shapes in the message.
/// </summary>
public static class Lax
{
    /// <summary>Element-wise <c>x + y</c> (equal shapes).</summary>
    public static Tracer Add(Tracer x, Tracer y) => x.Builder.Emit(new AddPrimitive(), x, y);
    /// <summary>Element-wise <c>x − y</c> (equal shapes).</summary>
    public static Tracer Sub(Tracer x, Tracer y) => x.Builder.Emit(new SubPrimitive(), x, y);
    /// <summary>Element-wise <c>x · y</c> (equal shapes).</summary>
    public static Tracer Mul(Tracer x, Tracer y) => x.Builder.Emit(new MulPrimitive(), x, y);
    /// <summary>Element-wise <c>x / y</c> (equal shapes).</summary>
    public static Tracer Div(Tracer x, Tracer y) => x.Builder.Emit(new DivPrimitive(), x, y);
    /// <summary>Element-wise maximum; derivative 0.5 to each side at ties.</summary>
    public static Tracer Max(Tracer x, Tracer y) => x.Builder.Emit(new MaxPrimitive(), x, y);
    /// <summary>Element-wise minimum; derivative 0.5 to each side at ties.</summary>
    public static Tracer Min(Tracer x, Tracer y) => x.Builder.Emit(new MinPrimitive(), x, y);
    /// <summary>Element-wise <c>x^y</c>.</summary>
    public static Tracer Pow(Tracer x, Tracer y) => x.Builder.Emit(new PowPrimitive(), x, y);
    /// <summary>Element-wise comparison as 1.0/0.0.</summary>
    public static Tracer Compare(CompareOp op, Tracer x, Tracer y) => x.Builder.Emit(new ComparePrimitive(op), x, y);
    /// <summary><c>pred ≠ 0 ? onTrue : onFalse</c> element-wise.</summary>
    public static Tracer Select(Tracer pred, Tracer onTrue, Tracer onFalse) => pred.Builder.Emit(new SelectPrimitive(), pred, onTrue, onFalse);
    /// <summary>Negation.</summary>
    public static Tracer Neg(Tracer x) => x.Builder.Emit(new NegPrimitive(), x);
    /// <summary>Exponential.</summary>
    public static Tracer Exp(Tracer x) => x.Builder.Emit(new ExpPrimitive(), x);
    /// <summary>Natural logarithm.</summary>
    public static Tracer Log(Tracer x) => x.Builder.Emit(new LogPrimitive(), x);
    /// <summary>Hyperbolic tangent.</summary>
    public static Tracer Tanh(Tracer x) => x.Builder.Emit(new TanhPrimitive(), x);
    /// <summary>Logistic sigmoid.</summary>
    public static Tracer Logistic(Tracer x) => x.Builder.Emit(new LogisticPrimitive(), x);
    /// <summary>Error function.</summary>
    public static Tracer Erf(Tracer x) => x.Builder.Emit(new ErfPrimitive(), x);
    /// <summary>Sine.</summary>
    public static Tracer Sin(Tracer x) => x.Builder.Emit(new SinPrimitive(), x);
    /// <summary>Cosine.</summary>
    public static Tracer Cos(Tracer x) => x.Builder.Emit(new CosPrimitive(), x);
    /// <summary>Square root.</summary>
    public static Tracer Sqrt(Tracer x) => x.Builder.Emit(new SqrtPrimitive(), x);
    /// <summary>Reciprocal square root.</summary>
    public static Tracer Rsqrt(Tracer x) => x.Builder.Emit(new RsqrtPrimitive(), x);
    /// <summary>Absolute value.</summary>
    public static Tracer Abs(Tracer x) => x.Builder.Emit(new AbsPrimitive(), x);
    /// <summary>Sign (−1, 0, 1).</summary>
    public static Tracer Sign(Tracer x) => x.Builder.Emit(new SignPrimitive(), x);
    /// <summary><c>lax.stop_gradient</c>: x, with a zero derivative.</summary>
    public static Tracer StopGradient(Tracer x) => x.Builder.Emit(new StopGradientPrimitive(), x);
    /// <summary><c>x^n</c> for integer n.</summary>
    public static Tracer IntegerPow(Tracer x, int n) => x.Builder.Emit(new IntegerPowPrimitive(n), x);

    /// <summary>A tensor of <paramref name="value"/> with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tracer FullLike(Tracer like, double value) =>
        BroadcastInDim(like.Const(value), like.Shape, Array.Empty<int>());

    /// <summary><c>lax.dot_general</c>: output axes are batch, lhs free, rhs free.</summary>
    public static Tracer DotGeneral(Tracer lhs, Tracer rhs, DotDimensionNumbers dims) =>
        lhs.Builder.Emit(new DotGeneralPrimitive(dims), lhs, rhs);

    /// <summary>
    /// Convolution in the canonical layout: lhs <c>(N, S1..Sd, C)</c>, rhs <c>(K1..Kd, C/groups, O)</c>,
    /// output <c>(N, S1'..Sd', O)</c> — NHWC/HWIO for 2-D. Mirrors <c>lax.conv_general_dilated</c>.
    /// </summary>
    public static Tracer Conv(Tracer lhs, Tracer rhs, ConvParams p) => lhs.Builder.Emit(new ConvPrimitive(p), lhs, rhs);

    /// <summary>Sum over <paramref name="axes"/> (negative allowed; removed from the shape).</summary>
    public static Tracer ReduceSum(Tracer x, params int[] axes) =>
        x.Builder.Emit(new ReduceSumPrimitive(Norm(x, axes)), x);

    /// <summary>Maximum over <paramref name="axes"/>.</summary>
    public static Tracer ReduceMax(Tracer x, params int[] axes) => x.Builder.Emit(new ReduceMaxPrimitive(Norm(x, axes)), x);

    /// <summary>Window sums over every axis (window, strides, zero padding per axis).</summary>
    public static Tracer ReduceWindowSum(Tracer x, int[] window, int[] strides, (int Lo, int Hi)[] padding) =>
        x.Builder.Emit(new ReduceWindowSumPrimitive(window, strides, padding), x);

    /// <summary><c>lax.broadcast_in_dim</c>.</summary>
    public static Tracer BroadcastInDim(Tracer x, Shape shape, int[] dims) =>
        x.Shape == shape && dims.Length == shape.Rank ? x : x.Builder.Emit(new BroadcastInDimPrimitive(shape, dims), x);

    /// <summary>Reshape in C order.</summary>
    public static Tracer Reshape(Tracer x, Shape shape) => x.Shape == shape ? x : x.Builder.Emit(new ReshapePrimitive(shape), x);

    /// <summary>Axis permutation: output axis i is input axis <paramref name="perm"/>[i].</summary>
    public static Tracer Transpose(Tracer x, params int[] perm) =>
        perm.Select((p, i) => p == i).All(b => b) && perm.Length == x.Rank ? x : x.Builder.Emit(new TransposePrimitive(perm), x);

    /// <summary>Removes size-1 axes.</summary>
    /// <exception cref="ArgumentException">An axis is not of size 1.</exception>
    public static Tracer Squeeze(Tracer x, params int[] axes)
    {
        var ax = Norm(x, axes);
        foreach (var a in ax)
            if (x.Shape[a] != 1) throw new ArgumentException($"squeeze: axis {a} of shape {x.Shape} has size {x.Shape[a]}, not 1", nameof(axes));
        return Reshape(x, new Shape(x.Shape.Where((_, k) => !ax.Contains(k))));
    }

    /// <summary>Inserts a size-1 axis at <paramref name="axis"/>.</summary>
    public static Tracer ExpandDims(Tracer x, int axis)
    {
        if (axis < 0) axis += x.Rank + 1;
        var dims = x.Shape.ToList(); dims.Insert(axis, 1);
        return Reshape(x, new Shape(dims));
    }

    /// <summary><c>lax.pad</c> with a constant value; (lo, hi, interior) per axis.</summary>
    public static Tracer Pad(Tracer x, double value, (int Lo, int Hi, int Interior)[] config) =>
        x.Builder.Emit(new PadPrimitive(value, config), x);

    /// <summary><c>lax.slice</c>.</summary>
    public static Tracer Slice(Tracer x, int[] start, int[] limit, int[]? strides = null) =>
        x.Builder.Emit(new SlicePrimitive(start, limit, strides ?? Enumerable.Repeat(1, x.Rank).ToArray()), x);

    /// <summary>Concatenation along <paramref name="axis"/>.</summary>
    public static Tracer Concatenate(IReadOnlyList<Tracer> xs, int axis)
    {
        if (xs.Count == 0) throw new ArgumentException("concatenate: needs at least one operand", nameof(xs));
        return xs[0].Builder.Emit(new ConcatenatePrimitive(xs[0].Shape.NormalizeAxis(axis, nameof(axis))), xs.ToArray());
    }

    /// <summary>Reverses the given axes.</summary>
    public static Tracer Rev(Tracer x, params int[] axes) => x.Builder.Emit(new RevPrimitive(Norm(x, axes)), x);

    /// <summary>Converts between float32 and float64.</summary>
    public static Tracer Convert(Tracer x, DType dtype) => x.DType == dtype ? x : x.Builder.Emit(new ConvertElementTypePrimitive(dtype), x);

    internal static int[] Norm(Tracer x, int[] axes) =>
        axes.Select(a => x.Shape.NormalizeAxis(a, nameof(axes))).OrderBy(a => a).ToArray();
}
