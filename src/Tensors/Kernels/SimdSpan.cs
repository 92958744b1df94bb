using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NeuralTangents.Tensors.Kernels;

/// <summary>
/// Exact element-wise span kernels (add, subtract, multiply, divide, max, min, negate, abs, comparisons, multiply-then-add, float ↔
/// double conversion): every element is one correctly rounded IEEE operation, so results equal TensorPrimitives' bit for
/// bit (<c>SimdSpanTests</c>). Why not TensorPrimitives itself: its generic instantiations are JIT-compiled at tier 0
/// first (its package carries no precompiled code for them) and run ~10× slower (measured 1.1 ms vs 0.1 ms for a
/// 512 K-element fused pass) until the tiered JIT promotes them, which needs ~30 calls and then 100 ms without new
/// tier-0 methods — rarely seen during a kernel function's first calls, so early calls and short processes paid it.
/// These loops carry <see cref="MethodImplOptions.AggressiveOptimization"/>: fully optimised from the first call.
/// <para>The output may be one of the inputs (exactly the same span); other overlaps are not allowed.</para>
/// </summary>
internal static class SimdSpan
{
    public static void Add<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Binary<T, AddOp<T>>(a, b, y);
    public static void Add<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => BinaryScalar<T, AddOp<T>>(a, b, y);
    public static void Subtract<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Binary<T, SubOp<T>>(a, b, y);
    public static void Subtract<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => BinaryScalar<T, SubOp<T>>(a, b, y);
    public static void Subtract<T>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => ScalarBinary<T, SubOp<T>>(a, b, y);
    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Binary<T, MulOp<T>>(a, b, y);
    public static void Multiply<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => BinaryScalar<T, MulOp<T>>(a, b, y);
    public static void Divide<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Binary<T, DivOp<T>>(a, b, y);
    public static void Divide<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => BinaryScalar<T, DivOp<T>>(a, b, y);
    public static void Divide<T>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => ScalarBinary<T, DivOp<T>>(a, b, y);
    /// <summary>IEEE 754-2019 maximum (NaN if either is NaN; +0 above −0), as <see cref="Math.Max(double, double)"/>.</summary>
    public static void Max<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Binary<T, MaxOp<T>>(a, b, y);
    public static void Max<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => BinaryScalar<T, MaxOp<T>>(a, b, y);
    /// <summary>IEEE 754-2019 minimum (NaN if either is NaN; −0 below +0).</summary>
    public static void Min<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Binary<T, MinOp<T>>(a, b, y);
    public static void Min<T>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => BinaryScalar<T, MinOp<T>>(a, b, y);
    public static void Negate<T>(ReadOnlySpan<T> a, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => BinaryScalar<T, NegOp<T>>(a, T.Zero, y);
    public static void Abs<T>(ReadOnlySpan<T> a, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => BinaryScalar<T, AbsOp<T>>(a, T.Zero, y);

    /// <summary><c>y = (a op b) ? 1 : 0</c> (IEEE comparisons: with a NaN only <see cref="CompareOp.Ne"/> holds). A
    /// vector compare and a mask instead of the scalar loop's branch: relu's <c>x &gt; 0</c> on random signs mispredicted
    /// half the time (2–4 ms for the seed CNN's 0.5 M-element masks, 10× an add).</summary>
    public static void Compare<T>(CompareOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case CompareOp.Eq: Binary<T, EqOp<T>>(a, b, y); break;
            case CompareOp.Ne: Binary<T, NeOp<T>>(a, b, y); break;
            case CompareOp.Lt: Binary<T, GtOp<T>>(b, a, y); break;
            case CompareOp.Le: Binary<T, GeOp<T>>(b, a, y); break;
            case CompareOp.Gt: Binary<T, GtOp<T>>(a, b, y); break;
            case CompareOp.Ge: Binary<T, GeOp<T>>(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    /// <summary><see cref="Compare{T}(CompareOp, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/> with b a scalar.</summary>
    public static void Compare<T>(CompareOp op, ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case CompareOp.Eq: BinaryScalar<T, EqOp<T>>(a, b, y); break;
            case CompareOp.Ne: BinaryScalar<T, NeOp<T>>(a, b, y); break;
            case CompareOp.Lt: ScalarBinary<T, GtOp<T>>(b, a, y); break;
            case CompareOp.Le: ScalarBinary<T, GeOp<T>>(b, a, y); break;
            case CompareOp.Gt: BinaryScalar<T, GtOp<T>>(a, b, y); break;
            case CompareOp.Ge: BinaryScalar<T, GeOp<T>>(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    /// <summary><see cref="Compare{T}(CompareOp, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/> with a a scalar.</summary>
    public static void Compare<T>(CompareOp op, T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case CompareOp.Eq: BinaryScalar<T, EqOp<T>>(b, a, y); break;
            case CompareOp.Ne: BinaryScalar<T, NeOp<T>>(b, a, y); break;
            case CompareOp.Lt: BinaryScalar<T, GtOp<T>>(b, a, y); break;
            case CompareOp.Le: BinaryScalar<T, GeOp<T>>(b, a, y); break;
            case CompareOp.Gt: ScalarBinary<T, GtOp<T>>(a, b, y); break;
            case CompareOp.Ge: ScalarBinary<T, GeOp<T>>(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    /// <summary><c>y = a·b + c</c>, the product rounded before the sum (no fused multiply-add), as TensorPrimitives.MultiplyAdd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(a.Length, y.Length); Check(b.Length, y.Length); Check(c.Length, y.Length);
        ref T ra = ref MemoryMarshal.GetReference(a), rb = ref MemoryMarshal.GetReference(b), rc = ref MemoryMarshal.GetReference(c), ry = ref MemoryMarshal.GetReference(y);
        nuint i = 0, n = (nuint)y.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            for (nuint w = (nuint)Vector512<T>.Count; i + w <= n; i += w)
                (Vector512.LoadUnsafe(ref ra, i) * Vector512.LoadUnsafe(ref rb, i) + Vector512.LoadUnsafe(ref rc, i)).StoreUnsafe(ref ry, i);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (nuint w = (nuint)Vector256<T>.Count; i + w <= n; i += w)
                (Vector256.LoadUnsafe(ref ra, i) * Vector256.LoadUnsafe(ref rb, i) + Vector256.LoadUnsafe(ref rc, i)).StoreUnsafe(ref ry, i);
        for (; i < n; i++) Unsafe.Add(ref ry, i) = Unsafe.Add(ref ra, i) * Unsafe.Add(ref rb, i) + Unsafe.Add(ref rc, i);
    }

    /// <summary><c>y = a·s + c</c>, the product rounded before the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd<T>(ReadOnlySpan<T> a, T s, ReadOnlySpan<T> c, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(a.Length, y.Length); Check(c.Length, y.Length);
        ref T ra = ref MemoryMarshal.GetReference(a), rc = ref MemoryMarshal.GetReference(c), ry = ref MemoryMarshal.GetReference(y);
        nuint i = 0, n = (nuint)y.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var vs = Vector512.Create(s);
            for (nuint w = (nuint)Vector512<T>.Count; i + w <= n; i += w)
                (Vector512.LoadUnsafe(ref ra, i) * vs + Vector512.LoadUnsafe(ref rc, i)).StoreUnsafe(ref ry, i);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vs = Vector256.Create(s);
            for (nuint w = (nuint)Vector256<T>.Count; i + w <= n; i += w)
                (Vector256.LoadUnsafe(ref ra, i) * vs + Vector256.LoadUnsafe(ref rc, i)).StoreUnsafe(ref ry, i);
        }
        for (; i < n; i++) Unsafe.Add(ref ry, i) = Unsafe.Add(ref ra, i) * s + Unsafe.Add(ref rc, i);
    }

    /// <summary>float → double (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Widen(ReadOnlySpan<float> x, Span<double> y)
    {
        Check(x.Length, y.Length);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref double ry = ref MemoryMarshal.GetReference(y);
        nuint i = 0, n = (nuint)y.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref rx, i);
                Vector512.WidenLower(v).StoreUnsafe(ref ry, i);
                Vector512.WidenUpper(v).StoreUnsafe(ref ry, i + 8);
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref rx, i);
                Vector256.WidenLower(v).StoreUnsafe(ref ry, i);
                Vector256.WidenUpper(v).StoreUnsafe(ref ry, i + 4);
            }
        for (; i < n; i++) Unsafe.Add(ref ry, i) = Unsafe.Add(ref rx, i);
    }

    /// <summary>double → float, rounded to nearest (as a <c>(float)</c> cast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Narrow(ReadOnlySpan<double> x, Span<float> y)
    {
        Check(x.Length, y.Length);
        ref double rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        nuint i = 0, n = (nuint)y.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
                Vector512.Narrow(Vector512.LoadUnsafe(ref rx, i), Vector512.LoadUnsafe(ref rx, i + 8)).StoreUnsafe(ref ry, i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
                Vector256.Narrow(Vector256.LoadUnsafe(ref rx, i), Vector256.LoadUnsafe(ref rx, i + 4)).StoreUnsafe(ref ry, i);
        for (; i < n; i++) Unsafe.Add(ref ry, i) = (float)Unsafe.Add(ref rx, i);
    }

    // ------------------------------------------------------------------------------------------------ loops

    private static void Check(int length, int expected)
    {
        if (length != expected) throw new ArgumentException($"span of {length} elements, expected {expected}");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Binary<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> where TOp : IOp<T>
    {
        Check(a.Length, y.Length); Check(b.Length, y.Length);
        ref T ra = ref MemoryMarshal.GetReference(a), rb = ref MemoryMarshal.GetReference(b), ry = ref MemoryMarshal.GetReference(y);
        nuint i = 0, n = (nuint)y.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            for (nuint w = (nuint)Vector512<T>.Count; i + w <= n; i += w)
                TOp.Apply(Vector512.LoadUnsafe(ref ra, i), Vector512.LoadUnsafe(ref rb, i)).StoreUnsafe(ref ry, i);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (nuint w = (nuint)Vector256<T>.Count; i + w <= n; i += w)
                TOp.Apply(Vector256.LoadUnsafe(ref ra, i), Vector256.LoadUnsafe(ref rb, i)).StoreUnsafe(ref ry, i);
        for (; i < n; i++) Unsafe.Add(ref ry, i) = TOp.Apply(Unsafe.Add(ref ra, i), Unsafe.Add(ref rb, i));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BinaryScalar<T, TOp>(ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> where TOp : IOp<T>
    {
        Check(a.Length, y.Length);
        ref T ra = ref MemoryMarshal.GetReference(a), ry = ref MemoryMarshal.GetReference(y);
        nuint i = 0, n = (nuint)y.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var vb = Vector512.Create(b);
            for (nuint w = (nuint)Vector512<T>.Count; i + w <= n; i += w)
                TOp.Apply(Vector512.LoadUnsafe(ref ra, i), vb).StoreUnsafe(ref ry, i);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var vb = Vector256.Create(b);
            for (nuint w = (nuint)Vector256<T>.Count; i + w <= n; i += w)
                TOp.Apply(Vector256.LoadUnsafe(ref ra, i), vb).StoreUnsafe(ref ry, i);
        }
        for (; i < n; i++) Unsafe.Add(ref ry, i) = TOp.Apply(Unsafe.Add(ref ra, i), b);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarBinary<T, TOp>(T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> where TOp : IOp<T>
    {
        Check(b.Length, y.Length);
        ref T rb = ref MemoryMarshal.GetReference(b), ry = ref MemoryMarshal.GetReference(y);
        nuint i = 0, n = (nuint)y.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var va = Vector512.Create(a);
            for (nuint w = (nuint)Vector512<T>.Count; i + w <= n; i += w)
                TOp.Apply(va, Vector512.LoadUnsafe(ref rb, i)).StoreUnsafe(ref ry, i);
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var va = Vector256.Create(a);
            for (nuint w = (nuint)Vector256<T>.Count; i + w <= n; i += w)
                TOp.Apply(va, Vector256.LoadUnsafe(ref rb, i)).StoreUnsafe(ref ry, i);
        }
        for (; i < n; i++) Unsafe.Add(ref ry, i) = TOp.Apply(a, Unsafe.Add(ref rb, i));
    }

    // ------------------------------------------------------------------------------------------------ operations

    private interface IOp<T> where T : unmanaged
    {
        static abstract T Apply(T a, T b);
        static abstract Vector512<T> Apply(Vector512<T> a, Vector512<T> b);
        static abstract Vector256<T> Apply(Vector256<T> a, Vector256<T> b);
    }

    private readonly struct AddOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => a + b;
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a + b;
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => a + b;
    }

    private readonly struct SubOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => a - b;
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a - b;
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => a - b;
    }

    private readonly struct MulOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => a * b;
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a * b;
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => a * b;
    }

    private readonly struct DivOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => a / b;
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => a / b;
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => a / b;
    }

    private readonly struct MaxOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => T.Max(a, b);
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.Max(a, b);
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.Max(a, b);
    }

    private readonly struct MinOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => T.Min(a, b);
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.Min(a, b);
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.Min(a, b);
    }

    private readonly struct NegOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => -a;
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => -a;
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => -a;
    }

    private readonly struct AbsOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => T.Abs(a);
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.Abs(a);
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.Abs(a);
    }

    // Comparisons: the all-ones lane mask ANDed with 1.0 gives exactly 1.0 or +0.0, as the scalar `? T.One : T.Zero`.
    private readonly struct EqOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => a == b ? T.One : T.Zero;
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.Equals(a, b) & Vector512<T>.One;
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.Equals(a, b) & Vector256<T>.One;
    }

    private readonly struct NeOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => a != b ? T.One : T.Zero;
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.AndNot(Vector512<T>.One, Vector512.Equals(a, b));
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.AndNot(Vector256<T>.One, Vector256.Equals(a, b));
    }

    private readonly struct GtOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => a > b ? T.One : T.Zero;
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.GreaterThan(a, b) & Vector512<T>.One;
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.GreaterThan(a, b) & Vector256<T>.One;
    }

    private readonly struct GeOp<T> : IOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static T Apply(T a, T b) => a >= b ? T.One : T.Zero;
        public static Vector512<T> Apply(Vector512<T> a, Vector512<T> b) => Vector512.GreaterThanOrEqual(a, b) & Vector512<T>.One;
        public static Vector256<T> Apply(Vector256<T> a, Vector256<T> b) => Vector256.GreaterThanOrEqual(a, b) & Vector256<T>.One;
    }
}
