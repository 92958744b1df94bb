using NeuralTangents.Tensors.Kernels;
using System.Runtime.CompilerServices;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace NeuralTangents.Tensors.Ops;

/// <summary>
/// Element-wise lax primitives. Operands must have equal shapes and dtypes (no implicit broadcasting: broadcast
/// explicitly with <see cref="Tensor.BroadcastInDim"/>). Inputs may be any strided view; outputs are fresh
/// contiguous tensors. Large inputs are processed in fixed chunks on the thread pool (see <see cref="Chunks"/>).
/// </summary>
internal static class Elementwise
{
    public static string Name(UnaryOp op) => op switch
    {
        UnaryOp.Neg => "neg", UnaryOp.Exp => "exp", UnaryOp.Log => "log", UnaryOp.Tanh => "tanh",
        UnaryOp.Erf => "erf", UnaryOp.Sin => "sin", UnaryOp.Cos => "cos", UnaryOp.Sqrt => "sqrt",
        UnaryOp.Rsqrt => "rsqrt", UnaryOp.Abs => "abs", UnaryOp.Sign => "sign", UnaryOp.Logistic => "logistic",
        _ => throw new ArgumentOutOfRangeException(nameof(op), $"unknown unary op {(int)op}"),
    };

    public static string Name(BinaryOp op) => op switch
    {
        BinaryOp.Add => "add", BinaryOp.Sub => "sub", BinaryOp.Mul => "mul", BinaryOp.Div => "div",
        BinaryOp.Max => "max", BinaryOp.Min => "min", BinaryOp.Pow => "pow",
        _ => throw new ArgumentOutOfRangeException(nameof(op), $"unknown binary op {(int)op}"),
    };

    public static string Name(CompareOp op) => op switch
    {
        CompareOp.Eq => "eq", CompareOp.Ne => "ne", CompareOp.Lt => "lt",
        CompareOp.Le => "le", CompareOp.Gt => "gt", CompareOp.Ge => "ge",
        _ => throw new ArgumentOutOfRangeException(nameof(op), $"unknown comparison {(int)op}"),
    };

    // ------------------------------------------------------------------------------------------------ unary

    public static Tensor Unary(UnaryOp op, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        _ = Name(op);
        var c = x.Contiguous();
        return c.DType == DType.Float32 ? Unary<float>(op, c) : Unary<double>(op, c);
    }

    private static Tensor Unary<T>(UnaryOp op, Tensor x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = (T[])x.Storage;
        int off = x.Offset;
        var dst = BufferPool.Rent<T>(x.Size);
        Chunks.Run(dst.Length, (s, n) => UnarySpan<T>(op, src.AsSpan(off + s, n), dst.AsSpan(s, n)));
        return Tensor.Wrap(dst, x.Shape);
    }

    private const int WidenBlock = 512;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 (see Blas.Tile)
    internal static void UnarySpan<T>(UnaryOp op, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && IsTranscendental(op))
        {
            // TensorPrimitives' float32 kernels are off by several ulps (exp(0) = 1 + 2^-23, tanh near 0 has
            // absolute error ~6e-8); widening to double and rounding once gives (nearly always) correctly rounded results.
            var xf = MemoryMarshal.Cast<T, float>(x);
            var yf = MemoryMarshal.Cast<T, float>(y);
            Span<double> buf = stackalloc double[WidenBlock];
            for (int i = 0; i < xf.Length; i += WidenBlock)
            {
                int n = Math.Min(WidenBlock, xf.Length - i);
                var b = buf[..n];
                SimdSpan.Widen(xf.Slice(i, n), b);
                UnarySpan<double>(op, b, b);
                SimdSpan.Narrow(b, yf.Slice(i, n));
            }
            return;
        }
        switch (op)
        {
            case UnaryOp.Neg: SimdSpan.Negate(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Sin: TensorPrimitives.Sin(x, y); break;
            case UnaryOp.Cos: TensorPrimitives.Cos(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Rsqrt: TensorPrimitives.ReciprocalSqrt(x, y); break;
            case UnaryOp.Abs: SimdSpan.Abs(x, y); break;
            case UnaryOp.Logistic: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Tanh:
                // TensorPrimitives.Tanh loses relative accuracy near 0 (tanh(1e-10) off by 8e-8, tanh(1e-300) = -0).
                VectorMath.Tanh(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(y));
                break;
            case UnaryOp.Erf:
                VectorMath.Erf(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(y));
                break;
            case UnaryOp.Sign:
                // T.Sign throws on NaN; lax keeps NaN and signed zeros.
                for (int i = 0; i < x.Length; i++)
                {
                    T v = x[i];
                    y[i] = v > T.Zero ? T.One : v < T.Zero ? T.NegativeOne : v;
                }
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), $"unknown unary op {(int)op}");
        }
    }

    private static bool IsTranscendental(UnaryOp op) =>
        op is UnaryOp.Exp or UnaryOp.Log or UnaryOp.Tanh or UnaryOp.Erf or UnaryOp.Sin or UnaryOp.Cos or UnaryOp.Logistic;

    // ------------------------------------------------------------------------------------------------ binary

    public static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        OpChecks.SameShapeAndDType(Name(op), a, b);
        return a.DType == DType.Float32 ? Binary<float>(op, a, b) : Binary<double>(op, a, b);
    }

    private static Tensor Binary<T>(BinaryOp op, Tensor a, Tensor b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dst = BufferPool.Rent<T>(a.Size);   // every branch writes every element
        // Broadcast scalars (e.g. relu's 0, a learning-rate) use the span-scalar kernels without materialising.
        if (OpChecks.IsBroadcastScalar(b) && !OpChecks.IsBroadcastScalar(a))
        {
            var ac = a.Contiguous();
            var src = (T[])ac.Storage;
            int off = ac.Offset;
            T s = ((T[])b.Storage)[b.Offset];
            Chunks.Run(dst.Length, (i, n) => BinarySpanScalar(op, src.AsSpan(off + i, n), s, dst.AsSpan(i, n)));
        }
        else if (OpChecks.IsBroadcastScalar(a) && !OpChecks.IsBroadcastScalar(b))
        {
            var bc = b.Contiguous();
            var src = (T[])bc.Storage;
            int off = bc.Offset;
            T s = ((T[])a.Storage)[a.Offset];
            Chunks.Run(dst.Length, (i, n) => BinaryScalarSpan(op, s, src.AsSpan(off + i, n), dst.AsSpan(i, n)));
        }
        // A broadcast against a contiguous operand first; when neither is contiguous (structured derivatives' ∂f/∂y
        // pass: a per-example mask broadcast over the basis times a cotangent shared by the examples), both are read
        // run by run: BinaryBroadcast would first copy the other broadcast operand to full size (a strided copy of
        // 5 M elements on the seed CNN).
        else if (a.IsContiguous && OpChecks.BroadcastLayout(b) is { } lb)
            BinaryBroadcast(op, a, b, lb, broadcastIsA: false, dst);
        else if (b.IsContiguous && OpChecks.BroadcastLayout(a) is { } la)
            BinaryBroadcast(op, b, a, la, broadcastIsA: true, dst);
        else if (!(a.IsContiguous && b.IsContiguous) && OpChecks.Runs(a, b) is { } runs)
            BinaryRuns(op, a, b, runs, dst);
        else if (OpChecks.BroadcastLayout(b) is { } lb2)
            BinaryBroadcast(op, a, b, lb2, broadcastIsA: false, dst);
        else if (OpChecks.BroadcastLayout(a) is { } la2)
            BinaryBroadcast(op, b, a, la2, broadcastIsA: true, dst);
        else
        {
            var ac = a.Contiguous();
            var bc = b.Contiguous();
            T[] sa = (T[])ac.Storage, sb = (T[])bc.Storage;
            int oa = ac.Offset, ob = bc.Offset;
            Chunks.Run(dst.Length, (i, n) => BinarySpan(op, sa.AsSpan(oa + i, n), sb.AsSpan(ob + i, n), dst.AsSpan(i, n)));
        }
        return Tensor.Wrap(dst, a.Shape);
    }

    /// <summary>
    /// <paramref name="full"/> op <paramref name="broadcast"/> (or the reverse when <paramref name="broadcastIsA"/>)
    /// where the broadcast operand is a repeated block (a bias over a batch) or one value per row (a per-example
    /// scale): read in place, row by row, instead of materialising a full-size copy of it — that copy was most of the
    /// memory a structured-derivatives kernel held beyond its estimate (115 MB per operand at 5,620 examples).
    /// </summary>
    private static void BinaryBroadcast<T>(BinaryOp op, Tensor full, Tensor broadcast, OpChecks.Broadcast layout, bool broadcastIsA, T[] dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var fc = full.Contiguous();
        T[] sf = (T[])fc.Storage, sb = (T[])broadcast.Storage;
        int of = fc.Offset, ob = broadcast.Offset, inner = layout.Inner;
        bool perRow = layout.PerRow;
        Chunks.Run(dst.Length, (i, n) =>
        {
            int end = i + n;
            while (i < end)
            {
                int r = i / inner, c = i - r * inner, len = Math.Min(inner - c, end - i);
                var f = sf.AsSpan(of + i, len);
                var y = dst.AsSpan(i, len);
                if (perRow)
                {
                    T v = sb[ob + r];
                    if (broadcastIsA) BinaryScalarSpan(op, v, f, y); else BinarySpanScalar(op, f, v, y);
                }
                else
                {
                    var blk = sb.AsSpan(ob + c, len);
                    if (broadcastIsA) BinarySpan(op, blk, f, y); else BinarySpan(op, f, blk, y);
                }
                i += len;
            }
        });
    }

    /// <summary>
    /// a op b over long runs read in place: both operands are contiguous (or one value) along the trailing axes of
    /// <paramref name="runs"/>, strided (a broadcast included) along the leading ones — e.g. a ∂f/∂y pass multiplying
    /// (E, basis, …) cotangents by a per-example mask broadcast over the basis, where materialising the mask copied
    /// the full-size tensor on every call. Same element-wise results as the materialised path.
    /// </summary>
    private static void BinaryRuns<T>(BinaryOp op, Tensor a, Tensor b, OpChecks.RunLayout runs, T[] dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] sa = (T[])a.Storage, sb = (T[])b.Storage;
        int len = runs.Length;
        Chunks.Run(dst.Length, (i, n) =>
        {
            int end = i + n;
            while (i < end)
            {
                int r = i / len, c = i - r * len, cnt = Math.Min(len - c, end - i);
                var y = dst.AsSpan(i, cnt);
                int oa = a.Offset + runs.OffsetA(r), ob = b.Offset + runs.OffsetB(r);
                if (runs.ScalarA && runs.ScalarB) { BinarySpanScalar(op, sa.AsSpan(oa, 1), sb[ob], y[..1]); y.Fill(y[0]); }
                else if (runs.ScalarA) BinaryScalarSpan(op, sa[oa], sb.AsSpan(ob + c, cnt), y);
                else if (runs.ScalarB) BinarySpanScalar(op, sa.AsSpan(oa + c, cnt), sb[ob], y);
                else BinarySpan(op, sa.AsSpan(oa + c, cnt), sb.AsSpan(ob + c, cnt), y);
                i += cnt;
            }
        });
    }

    internal static void BinarySpan<T>(BinaryOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: SimdSpan.Add(a, b, y); break;
            case BinaryOp.Sub: SimdSpan.Subtract(a, b, y); break;
            case BinaryOp.Mul: SimdSpan.Multiply(a, b, y); break;
            case BinaryOp.Div: SimdSpan.Divide(a, b, y); break;
            case BinaryOp.Max: SimdSpan.Max(a, b, y); break;
            case BinaryOp.Min: SimdSpan.Min(a, b, y); break;
            case BinaryOp.Pow: TensorPrimitives.Pow(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), $"unknown binary op {(int)op}");
        }
    }

    internal static void BinarySpanScalar<T>(BinaryOp op, ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: SimdSpan.Add(a, b, y); break;
            case BinaryOp.Sub: SimdSpan.Subtract(a, b, y); break;
            case BinaryOp.Mul: SimdSpan.Multiply(a, b, y); break;
            case BinaryOp.Div: SimdSpan.Divide(a, b, y); break;
            case BinaryOp.Max: SimdSpan.Max(a, b, y); break;
            case BinaryOp.Min: SimdSpan.Min(a, b, y); break;
            case BinaryOp.Pow: TensorPrimitives.Pow(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), $"unknown binary op {(int)op}");
        }
    }

    internal static void BinaryScalarSpan<T>(BinaryOp op, T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: SimdSpan.Add(b, a, y); break;
            case BinaryOp.Sub: SimdSpan.Subtract(a, b, y); break;
            case BinaryOp.Mul: SimdSpan.Multiply(b, a, y); break;
            case BinaryOp.Div: SimdSpan.Divide(a, b, y); break;
            case BinaryOp.Max: SimdSpan.Max(b, a, y); break;
            case BinaryOp.Min: SimdSpan.Min(b, a, y); break;
            case BinaryOp.Pow: TensorPrimitives.Pow(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), $"unknown binary op {(int)op}");
        }
    }

    // ------------------------------------------------------------------------------------------------ integer_pow

    /// <summary>
    /// xⁿ by binary exponentiation in lax.integer_pow's multiplication order; negative n gives 1/x^|n|, n = 0 gives 1
    /// everywhere (NaN included).
    /// </summary>
    public static Tensor IntegerPow(Tensor x, int exponent)
    {
        ArgumentNullException.ThrowIfNull(x);
        var c = x.Contiguous();
        return c.DType == DType.Float32 ? IntegerPow<float>(c, exponent) : IntegerPow<double>(c, exponent);
    }

    private static Tensor IntegerPow<T>(Tensor x, int exponent) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dst = BufferPool.Rent<T>(x.Size);   // filled with 1, or the first factor copied in before any multiply
        if (exponent == 0)
        {
            Array.Fill(dst, T.One);
            return Tensor.Wrap(dst, x.Shape);
        }
        var src = (T[])x.Storage;
        int off = x.Offset;
        long m = Math.Abs((long)exponent);
        Chunks.Run(dst.Length, (s, n) =>
        {
            ReadOnlySpan<T> xs = src.AsSpan(off + s, n);
            Span<T> acc = dst.AsSpan(s, n);
            T[]? tmp = null;
            bool started = false;
            long e = m;
            while (e > 0)
            {
                if ((e & 1) != 0)
                {
                    if (!started) { xs.CopyTo(acc); started = true; }
                    else SimdSpan.Multiply<T>(acc, xs, acc);
                }
                e >>= 1;
                if (e > 0)
                {
                    if (tmp == null) { tmp = new T[n]; SimdSpan.Multiply(xs, xs, tmp); }
                    else SimdSpan.Multiply<T>(tmp, tmp, tmp);
                    xs = tmp;
                }
            }
            if (exponent < 0) SimdSpan.Divide<T>(T.One, acc, acc);
        });
        return Tensor.Wrap(dst, x.Shape);
    }

    // ------------------------------------------------------------------------------------------------ compare / select

    /// <summary>1 where <c>a op b</c> holds, else 0, in a's dtype.</summary>
    public static Tensor Compare(CompareOp op, Tensor a, Tensor b)
    {
        OpChecks.SameShapeAndDType(Name(op), a, b);
        return a.DType == DType.Float32 ? Compare<float>(op, a, b) : Compare<double>(op, a, b);
    }

    private static Tensor Compare<T>(CompareOp op, Tensor a, Tensor b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dst = BufferPool.Rent<T>(a.Size);
        // A broadcast scalar (relu's 0) is compared in place: materialising it cost as much as the comparison.
        if (OpChecks.IsBroadcastScalar(b) && !OpChecks.IsBroadcastScalar(a))
            SimdSpan.Compare(op, OpChecks.Elements<T>(a), ((T[])b.Storage)[b.Offset], dst.AsSpan(0, a.Size));
        else if (OpChecks.IsBroadcastScalar(a) && !OpChecks.IsBroadcastScalar(b))
            SimdSpan.Compare(op, ((T[])a.Storage)[a.Offset], OpChecks.Elements<T>(b), dst.AsSpan(0, a.Size));
        else
            SimdSpan.Compare(op, OpChecks.Elements<T>(a), OpChecks.Elements<T>(b), dst.AsSpan(0, a.Size));
        return Tensor.Wrap(dst, a.Shape);
    }

    /// <summary>
    /// <c>pred != 0 ? onTrue : onFalse</c> element-wise (NaN counts as true). <paramref name="pred"/> may have any
    /// dtype; its shape must equal the branches' shape or be a scalar <c>()</c>.
    /// </summary>
    public static Tensor Select(Tensor pred, Tensor onTrue, Tensor onFalse)
    {
        ArgumentNullException.ThrowIfNull(pred);
        OpChecks.SameShapeAndDType("select", onTrue, onFalse, nameof(onTrue), nameof(onFalse));
        if (pred.Rank == 0) return Copy(pred.ToScalar() != 0.0 ? onTrue : onFalse);
        if (pred.Shape != onTrue.Shape)
            throw new ArgumentException($"select: predicate must have the operands' shape {onTrue.Shape} or be a scalar, got {pred.Shape}", nameof(pred));
        return (pred.DType, onTrue.DType) switch
        {
            (DType.Float32, DType.Float32) => Select<float, float>(pred, onTrue, onFalse),
            (DType.Float32, _) => Select<float, double>(pred, onTrue, onFalse),
            (DType.Float64, DType.Float32) => Select<double, float>(pred, onTrue, onFalse),
            _ => Select<double, double>(pred, onTrue, onFalse),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 (see Blas.Tile)
    private static Tensor Select<TP, T>(Tensor pred, Tensor onTrue, Tensor onFalse)
        where TP : unmanaged, IFloatingPointIeee754<TP> where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = OpChecks.Elements<TP>(pred);
        var t = OpChecks.Elements<T>(onTrue);
        var f = OpChecks.Elements<T>(onFalse);
        var dst = BufferPool.Rent<T>(t.Length);
        for (int i = 0; i < dst.Length; i++) dst[i] = p[i] != TP.Zero ? t[i] : f[i];
        return Tensor.Wrap(dst, onTrue.Shape);
    }

    // ------------------------------------------------------------------------------------------------ scaling

    /// <summary>x · s, with s rounded to x's dtype first.</summary>
    public static Tensor Scale(Tensor x, double s)
    {
        ArgumentNullException.ThrowIfNull(x);
        var c = x.Contiguous();
        return c.DType == DType.Float32 ? Scale<float>(c, (float)s) : Scale<double>(c, s);
    }

    /// <summary>x ·= s in place (s rounded to x's dtype first; each element as <see cref="Scale(Tensor, double)"/> computes it).
    /// For a caller's own freshly computed result: a scaled copy of a kernel-sized tensor doubles its footprint.</summary>
    /// <exception cref="ArgumentException">x is not contiguous.</exception>
    internal static void ScaleInPlace(Tensor x, double s)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!x.IsContiguous) throw new ArgumentException($"ScaleInPlace needs a contiguous tensor, got strides [{string.Join(", ", x.Strides)}]", nameof(x));
        if (x.DType == DType.Float32) ScaleInPlace<float>(x, (float)s);
        else ScaleInPlace<double>(x, s);
    }

    private static void ScaleInPlace<T>(Tensor x, T s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = (T[])x.Storage;
        int off = x.Offset;
        Chunks.Run(x.Size, (i, n) => SimdSpan.Multiply(data.AsSpan(off + i, n), s, data.AsSpan(off + i, n)));
    }

    private static Tensor Scale<T>(Tensor x, T s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var src = (T[])x.Storage;
        int off = x.Offset;
        var dst = BufferPool.Rent<T>(x.Size);
        Chunks.Run(dst.Length, (i, n) => SimdSpan.Multiply(src.AsSpan(off + i, n), s, dst.AsSpan(i, n)));
        return Tensor.Wrap(dst, x.Shape);
    }

    /// <summary>a + s·b (product rounded, then sum: no fused multiply-add, so results do not depend on the CPU).</summary>
    public static Tensor AddScaled(Tensor a, Tensor b, double s)
    {
        OpChecks.SameShapeAndDType("add_scaled", a, b);
        return a.DType == DType.Float32 ? AddScaled<float>(a, b, (float)s) : AddScaled<double>(a, b, s);
    }

    private static Tensor AddScaled<T>(Tensor a, Tensor b, T s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ac = a.Contiguous();
        var bc = b.Contiguous();
        T[] sa = (T[])ac.Storage, sb = (T[])bc.Storage;
        int oa = ac.Offset, ob = bc.Offset;
        var dst = BufferPool.Rent<T>(a.Size);
        Chunks.Run(dst.Length, (i, n) =>
        {
            var y = dst.AsSpan(i, n);
            SimdSpan.Multiply(sb.AsSpan(ob + i, n), s, y);
            SimdSpan.Add<T>(sa.AsSpan(oa + i, n), y, y);
        });
        return Tensor.Wrap(dst, a.Shape);
    }

    /// <summary>A fresh contiguous copy.</summary>
    internal static Tensor Copy(Tensor x)
    {
        var c = x.Contiguous();
        if (!ReferenceEquals(c, x) || c.Size == 0) return c;
        return c.DType == DType.Float32 ? CopyOf<float>(c) : CopyOf<double>(c);
    }

    private static Tensor CopyOf<T>(Tensor c)
    {
        var dst = BufferPool.Rent<T>(c.Size);
        c.Span<T>().CopyTo(dst);
        return Tensor.Wrap(dst, c.Shape);
    }
}
