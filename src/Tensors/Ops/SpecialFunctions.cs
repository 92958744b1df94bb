namespace NeuralTangents.Tensors.Ops;

/// <summary>
/// erf/erfc in double precision after W. J. Cody's rational Chebyshev approximations (Math. Comp. 1969; Netlib
/// SPECFUN CALERF, 1985), relative error below ~1e-16 before the final rounding. float32 goes through double.
/// </summary>
internal static class SpecialFunctions
{
    internal static readonly double[] A = [3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03, 1.85777706184603153e-1];
    internal static readonly double[] B = [2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03];
    internal static readonly double[] C =
    [
        5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
        8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8,
    ];
    internal static readonly double[] D =
    [
        1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
        3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03,
    ];
    internal static readonly double[] P = [3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2];
    internal static readonly double[] Q = [2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2, 2.33520497626869185e-3];

    internal const double Thresh = 0.46875, XSmall = 1.11e-16, XBig = 26.543, InvSqrtPi = 5.6418958354775628695e-1;

    /// <summary>The error function.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double y = Math.Abs(x);
        if (y <= Thresh) return x * SmallRatio(y);
        double r = (0.5 - ErfcPositive(y)) + 0.5;
        return x < 0 ? -r : r;
    }

    /// <summary>The complementary error function 1 − erf(x), accurate for large x.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return x;
        double y = Math.Abs(x);
        if (y <= Thresh) return 1.0 - x * SmallRatio(y);
        double r = ErfcPositive(y);
        return x < 0 ? 2.0 - r : r;
    }

    // erf(y)/y for |y| <= 0.46875.
    private static double SmallRatio(double y)
    {
        double ysq = y > XSmall ? y * y : 0.0;
        double num = A[4] * ysq, den = ysq;
        for (int i = 0; i < 3; i++)
        {
            num = (num + A[i]) * ysq;
            den = (den + B[i]) * ysq;
        }
        return (num + A[3]) / (den + B[3]);
    }

    // erfc(y) for y > 0.46875.
    private static double ErfcPositive(double y)
    {
        double r;
        if (y <= 4.0)
        {
            double num = C[8] * y, den = y;
            for (int i = 0; i < 7; i++)
            {
                num = (num + C[i]) * y;
                den = (den + D[i]) * y;
            }
            r = (num + C[7]) / (den + D[7]);
        }
        else
        {
            if (y >= XBig) return 0.0;
            double ysq = 1.0 / (y * y);
            double num = P[5] * ysq, den = ysq;
            for (int i = 0; i < 4; i++)
            {
                num = (num + P[i]) * ysq;
                den = (den + Q[i]) * ysq;
            }
            r = ysq * (num + P[4]) / (den + Q[4]);
            r = (InvSqrtPi - r) / y;
        }
        // exp(-y²) split as exp(-t²)·exp(-(y-t)(y+t)) with t = y rounded down to 1/16, avoiding cancellation in y².
        double t = Math.Truncate(y * 16.0) / 16.0;
        double del = (y - t) * (y + t);
        return Math.Exp(-t * t) * Math.Exp(-del) * r;
    }
}
