using NeuralTangents.Autodiff.Primitives;

namespace NeuralTangents.Autodiff.Tracing;

/// <summary>
/// The <see cref="Lax"/> operations emitted into an explicit <see cref="GraphBuilder"/>. Primitive rules (JVP,
/// transpose, batching, Jacobian) emit through the builder they are given with these, so the builder a rule writes
/// into is never taken from an operand; <see cref="GraphBuilder.Emit"/> still refuses an operand of another trace.
/// <see cref="Lax"/> is the tracer-facing form of the same methods (it passes the operand's builder). Semantics,
/// shortcuts (an identity reshape/transpose/broadcast/convert emits nothing) and errors are <see cref="Lax"/>'s.
/// </summary>
internal static class Emitter
{
    public static Tracer Add(this GraphBuilder b, Tracer x, Tracer y) => b.Emit(new AddPrimitive(), x, y);
    public static Tracer Sub(this GraphBuilder b, Tracer x, Tracer y) => b.Emit(new SubPrimitive(), x, y);
    public static Tracer Mul(this GraphBuilder b, Tracer x, Tracer y) => b.Emit(new MulPrimitive(), x, y);
    public static Tracer Div(this GraphBuilder b, Tracer x, Tracer y) => b.Emit(new DivPrimitive(), x, y);
    public static Tracer Max(this GraphBuilder b, Tracer x, Tracer y) => b.Emit(new MaxPrimitive(), x, y);
    public static Tracer Min(this GraphBuilder b, Tracer x, Tracer y) => b.Emit(new MinPrimitive(), x, y);
    public static Tracer Pow(this GraphBuilder b, Tracer x, Tracer y) => b.Emit(new PowPrimitive(), x, y);
    public static Tracer Compare(this GraphBuilder b, CompareOp op, Tracer x, Tracer y) =>
        b.Emit(new ComparePrimitive(op), x, y);
    public static Tracer Select(this GraphBuilder b, Tracer pred, Tracer onTrue, Tracer onFalse) =>
        b.Emit(new SelectPrimitive(), pred, onTrue, onFalse);
    public static Tracer Neg(this GraphBuilder b, Tracer x) => b.Emit(new NegPrimitive(), x);
    public static Tracer Exp(this GraphBuilder b, Tracer x) => b.Emit(new ExpPrimitive(), x);
    public static Tracer Log(this GraphBuilder b, Tracer x) => b.Emit(new LogPrimitive(), x);
    public static Tracer Tanh(this GraphBuilder b, Tracer x) => b.Emit(new TanhPrimitive(), x);
    public static Tracer Logistic(this GraphBuilder b, Tracer x) => b.Emit(new LogisticPrimitive(), x);
    public static Tracer Erf(this GraphBuilder b, Tracer x) => b.Emit(new ErfPrimitive(), x);
    public static Tracer Sin(this GraphBuilder b, Tracer x) => b.Emit(new SinPrimitive(), x);
    public static Tracer Cos(this GraphBuilder b, Tracer x) => b.Emit(new CosPrimitive(), x);
    public static Tracer Sqrt(this GraphBuilder b, Tracer x) => b.Emit(new SqrtPrimitive(), x);
    public static Tracer Rsqrt(this GraphBuilder b, Tracer x) => b.Emit(new RsqrtPrimitive(), x);
    public static Tracer Abs(this GraphBuilder b, Tracer x) => b.Emit(new AbsPrimitive(), x);
    public static Tracer Sign(this GraphBuilder b, Tracer x) => b.Emit(new SignPrimitive(), x);
    public static Tracer StopGradient(this GraphBuilder b, Tracer x) => b.Emit(new StopGradientPrimitive(), x);
    public static Tracer IntegerPow(this GraphBuilder b, Tracer x, int n) => b.Emit(new IntegerPowPrimitive(n), x);

    /// <summary>A tensor of <paramref name="value"/> with the shape and dtype of <paramref name="like"/>.</summary>
    public static Tracer FullLike(this GraphBuilder b, Tracer like, double value) =>
        b.BroadcastInDim(b.Scalar(value, like.DType), like.Shape, Array.Empty<int>());

    public static Tracer DotGeneral(this GraphBuilder b, Tracer lhs, Tracer rhs, DotDimensionNumbers dims) =>
        b.Emit(new DotGeneralPrimitive(dims), lhs, rhs);

    public static Tracer Conv(this GraphBuilder b, Tracer lhs, Tracer rhs, ConvParams p) =>
        b.Emit(new ConvPrimitive(p), lhs, rhs);

    public static Tracer ReduceSum(this GraphBuilder b, Tracer x, params int[] axes) =>
        b.Emit(new ReduceSumPrimitive(Lax.Norm(x, axes)), x);

    public static Tracer ReduceMax(this GraphBuilder b, Tracer x, params int[] axes) =>
        b.Emit(new ReduceMaxPrimitive(Lax.Norm(x, axes)), x);

    public static Tracer ReduceWindowSum(this GraphBuilder b, Tracer x, int[] window, int[] strides,
        (int Lo, int Hi)[] padding) =>
        b.Emit(new ReduceWindowSumPrimitive(window, strides, padding), x);

    public static Tracer BroadcastInDim(this GraphBuilder b, Tracer x, Shape shape, int[] dims) =>
        x.Shape == shape && dims.Length == shape.Rank ? x : b.Emit(new BroadcastInDimPrimitive(shape, dims), x);

    public static Tracer Reshape(this GraphBuilder b, Tracer x, Shape shape) =>
        x.Shape == shape ? x : b.Emit(new ReshapePrimitive(shape), x);

    public static Tracer Transpose(this GraphBuilder b, Tracer x, params int[] perm) =>
        perm.Length == x.Rank && perm.Select((p, i) => p == i).All(t => t)
            ? x : b.Emit(new TransposePrimitive(perm), x);

    /// <exception cref="ArgumentException">An axis is not of size 1.</exception>
    public static Tracer Squeeze(this GraphBuilder b, Tracer x, params int[] axes)
    {
        var ax = Lax.Norm(x, axes);
        foreach (var a in ax)
            if (x.Shape[a] != 1)
                throw new ArgumentException($"squeeze: axis {a} of shape {x.Shape} has size {x.Shape[a]}, not 1",
                    nameof(axes));
        return b.Reshape(x, new Shape(x.Shape.Where((_, k) => !ax.Contains(k))));
    }

    public static Tracer ExpandDims(this GraphBuilder b, Tracer x, int axis)
    {
        if (axis < 0) axis += x.Rank + 1;
        var dims = x.Shape.ToList(); dims.Insert(axis, 1);
        return b.Reshape(x, new Shape(dims));
    }

    public static Tracer Pad(this GraphBuilder b, Tracer x, double value, (int Lo, int Hi, int Interior)[] config) =>
        b.Emit(new PadPrimitive(value, config), x);

    public static Tracer Slice(this GraphBuilder b, Tracer x, int[] start, int[] limit, int[]? strides = null) =>
        b.Emit(new SlicePrimitive(start, limit, strides ?? Enumerable.Repeat(1, x.Rank).ToArray()), x);

    /// <exception cref="ArgumentException">No operands.</exception>
    public static Tracer Concatenate(this GraphBuilder b, IReadOnlyList<Tracer> xs, int axis)
    {
        if (xs.Count == 0) throw new ArgumentException("concatenate: needs at least one operand", nameof(xs));
        return b.Emit(new ConcatenatePrimitive(xs[0].Shape.NormalizeAxis(axis, nameof(axis))), xs.ToArray());
    }

    public static Tracer Rev(this GraphBuilder b, Tracer x, params int[] axes) =>
        b.Emit(new RevPrimitive(Lax.Norm(x, axes)), x);

    public static Tracer Convert(this GraphBuilder b, Tracer x, DType dtype) =>
        x.DType == dtype ? x : b.Emit(new ConvertElementTypePrimitive(dtype), x);
}
