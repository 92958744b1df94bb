using System.Numerics;
using System.Runtime.InteropServices;

namespace NeuralTangents.Tensors.Ops;

/// <summary>
/// Vectorised double-precision tanh and erf (TensorPrimitives has no erf and its tanh loses relative accuracy near 0).
/// Every element, tail included, goes through the same vector code, so a value's result never depends on its
/// position. Products and sums are never fused, so results do not depend on FMA support either.
/// </summary>
internal static class VectorMath
{
    /// <summary>tanh after Cephes: rational x + x³P(x²)/Q(x²) below 0.625, else 1 − 2/(e^{2|x|} + 1) with x's sign.</summary>
    public static void Tanh(ReadOnlySpan<double> x, Span<double> y) => Apply<TanhFn>(x, y);

    /// <summary>erf by <see cref="SpecialFunctions"/>' Cody approximations, branch-free (all regions, then select).</summary>
    public static void Erf(ReadOnlySpan<double> x, Span<double> y) => Apply<ErfFn>(x, y);

    private interface IVectorFunction
    {
        static abstract Vector<double> Invoke(Vector<double> x);
    }

    private readonly struct TanhFn : IVectorFunction
    {
        public static Vector<double> Invoke(Vector<double> x) => TanhV(x);
    }

    private readonly struct ErfFn : IVectorFunction
    {
        public static Vector<double> Invoke(Vector<double> x) => ErfV(x);
    }

    private static void Apply<TF>(ReadOnlySpan<double> x, Span<double> y) where TF : struct, IVectorFunction
    {
        Debug.Assert(x.Length == y.Length);
        int w = Vector<double>.Count, full = x.Length / w * w;
        var xv = MemoryMarshal.Cast<double, Vector<double>>(x[..full]);
        var yv = MemoryMarshal.Cast<double, Vector<double>>(y[..full]);
        for (int i = 0; i < xv.Length; i++) yv[i] = TF.Invoke(xv[i]);
        if (full < x.Length)
        {
            Span<double> tmp = stackalloc double[w];
            tmp.Clear();
            x[full..].CopyTo(tmp);
            var r = TF.Invoke(new Vector<double>(tmp));
            r.CopyTo(tmp);
            tmp[..(x.Length - full)].CopyTo(y[full..]);
        }
    }

    private static Vector<double> TanhV(Vector<double> x)
    {
        var one = Vector<double>.One;
        var ax = Vector.Abs(x);
        var s = Vector.Exp(ax + ax);
        var big = Vector.CopySign(one - new Vector<double>(2.0) / (s + one), x);
        var z = x * x;
        var p = (new Vector<double>(-9.64399179425052238628e-1) * z + new Vector<double>(-9.92877231001918586564e1)) * z
                + new Vector<double>(-1.61468768441708447952e3);
        var q = ((z + new Vector<double>(1.12811678491632931402e2)) * z + new Vector<double>(2.23548839060100448583e3)) * z
                + new Vector<double>(4.84406305325125486048e3);
        var small = Vector.CopySign(x + x * z * p / q, x); // keeps tanh(-0) = -0
        return Vector.ConditionalSelect(Vector.LessThan(ax, new Vector<double>(0.625)), small, big);
    }

    private static Vector<double> ErfV(Vector<double> x)
    {
        var y = Vector.Abs(x);

        // |x| <= 0.46875: x · R(x²).
        var ysq = y * y;
        var n1 = new Vector<double>(SpecialFunctions.A[4]) * ysq;
        var d1 = ysq;
        for (int i = 0; i < 3; i++)
        {
            n1 = (n1 + new Vector<double>(SpecialFunctions.A[i])) * ysq;
            d1 = (d1 + new Vector<double>(SpecialFunctions.B[i])) * ysq;
        }
        var small = x * ((n1 + new Vector<double>(SpecialFunctions.A[3])) / (d1 + new Vector<double>(SpecialFunctions.B[3])));

        // Larger |x|: erfc by the (0.46875, 4] or (4, ∞) rational; erf(8) rounds to 1 already, so clamp there
        // (keeps infinities out of the exp split). NaN lanes are restored at the end.
        var eight = new Vector<double>(8.0);
        var yc = Vector.ConditionalSelect(Vector.LessThan(y, eight), y, eight);
        var n2 = new Vector<double>(SpecialFunctions.C[8]) * yc;
        var d2 = yc;
        for (int i = 0; i < 7; i++)
        {
            n2 = (n2 + new Vector<double>(SpecialFunctions.C[i])) * yc;
            d2 = (d2 + new Vector<double>(SpecialFunctions.D[i])) * yc;
        }
        var r2 = (n2 + new Vector<double>(SpecialFunctions.C[7])) / (d2 + new Vector<double>(SpecialFunctions.D[7]));

        var inv = Vector<double>.One / (yc * yc);
        var n3 = new Vector<double>(SpecialFunctions.P[5]) * inv;
        var d3 = inv;
        for (int i = 0; i < 4; i++)
        {
            n3 = (n3 + new Vector<double>(SpecialFunctions.P[i])) * inv;
            d3 = (d3 + new Vector<double>(SpecialFunctions.Q[i])) * inv;
        }
        var r3 = inv * (n3 + new Vector<double>(SpecialFunctions.P[4])) / (d3 + new Vector<double>(SpecialFunctions.Q[4]));
        r3 = (new Vector<double>(SpecialFunctions.InvSqrtPi) - r3) / yc;

        var r = Vector.ConditionalSelect(Vector.LessThanOrEqual(yc, new Vector<double>(4.0)), r2, r3);
        var t = Vector.Truncate(yc * new Vector<double>(16.0)) / new Vector<double>(16.0);
        var del = (yc - t) * (yc + t);
        var erfc = Vector.Exp(-(t * t)) * Vector.Exp(-del) * r;
        var half = new Vector<double>(0.5);
        var large = Vector.CopySign(half - erfc + half, x);

        var res = Vector.ConditionalSelect(Vector.LessThanOrEqual(y, new Vector<double>(SpecialFunctions.Thresh)), small, large);
        return Vector.ConditionalSelect(Vector.Equals(x, x), res, x);
    }
}
