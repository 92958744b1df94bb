using Xunit;
using NeuralTangents.Tensors;

namespace NeuralTangents.Tests.Tensors.Ops;

public class ErfTests
{
    // mpmath (40 digits) values.
    public static readonly TheoryData<double, double> ErfTable = new()
    {
        { 0.0, 0.0 },
        { 1e-300, 1.1283791670955126022e-300 },
        { 1e-20, 1.128379167095512512e-20 },
        { 1e-10, 1.128379167095512615e-10 },
        { 1e-05, 0.000011283791670579000273 },
        { 0.01, 0.011283415555849617151 },
        { 0.1, 0.1124629160182848984 },
        { 0.25, 0.27632639016823693299 },
        { 0.4, 0.42839235504666847645 },
        { 0.46875, 0.49261347321793799159 },
        { 0.46876, 0.49262253110684652927 },
        { 0.5, 0.52049987781304653768 },
        { 0.75, 0.7111556336535151316 },
        { 1.0, 0.84270079294971486934 },
        { 1.5, 0.96610514647531072707 },
        { 2.0, 0.99532226501895273416 },
        { 2.5, 0.99959304798255504106 },
        { 3.0, 0.99997790950300141456 },
        { 3.5, 0.99999925690162765859 },
        { 3.99, 0.99999998326078863548 },
        { 4.0, 0.99999998458274209972 },
        { 4.01, 0.99999998580306057863 },
        { 4.5, 0.99999999980338395585 },
        { 5.0, 0.99999999999846254021 },
        { 5.5, 0.99999999999999264215 },
        { 6.0, 0.99999999999999997848 },
        { -0.3, -0.32862675945912741619 },
        { -1.2, -0.91031397822963536837 },
        { -3.7, -0.99999983284894209085 },
        { -5.2, -0.99999999999980750939 },
    };

    public static readonly TheoryData<double, double> ErfcTable = new()
    {
        { 0.1, 0.8875370839817151016 },
        { 0.5, 0.47950012218695346232 },
        { 1.0, 0.15729920705028513066 },
        { 2.0, 0.0046777349810472658379 },
        { 4.0, 1.5417257900280018852e-8 },
        { 5.0, 1.5374597944280348502e-12 },
        { 10.0, 2.088487583762544757e-45 },
        { 20.0, 5.3958656116079009289e-176 },
        { 26.0, 5.6631924088561428465e-296 },
        { -1.0, 1.8427007929497148693 },
        { -3.0, 1.9999779095030014146 },
    };

    /// <summary>Independent reference: positive series for |x| &lt; 3, else 1 − erfc by continued fraction.</summary>
    public static double ErfReference(double x)
    {
        if (double.IsNaN(x)) return x;
        double y = Math.Abs(x);
        double r;
        if (y < 3)
        {
            // erf(y) = 2/√π e^(−y²) Σ 2ⁿ y^(2n+1) / (1·3···(2n+1)): positive terms, no cancellation.
            double term = y, sum = y;
            for (int n = 1; n < 400; n++)
            {
                term *= 2 * y * y / (2 * n + 1);
                sum += term;
                if (term < 1e-18 * sum) break;
            }
            r = 2 / Math.Sqrt(Math.PI) * Math.Exp(-y * y) * sum;
        }
        else
        {
            // erfc(y) = e^(−y²)/√π · 1/(y + (1/2)/(y + 1/(y + (3/2)/(y + ...)))), evaluated bottom-up.
            double f = y;
            for (int k = 120; k >= 1; k--) f = y + k / 2.0 / f;
            r = 1 - Math.Exp(-y * y) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    [Theory, MemberData(nameof(ErfTable))]
    public void Erf_matches_high_precision_table(double x, double expected)
    {
        OpsTestUtil.AssertClose(expected, SpecialFunctions.Erf(x), 1e-15, 0, $"erf({x})");
        OpsTestUtil.AssertClose(expected, Elementwise.Unary(UnaryOp.Erf, Tensor.FromArray(x)).ToScalar(), 1e-15, 0, $"erf({x})");
        OpsTestUtil.AssertClose((float)expected, Elementwise.Unary(UnaryOp.Erf, Tensor.FromArray(x).AsType(DType.Float32)).ToScalar(), 1e-7, 1e-45, $"erf32({x})");
    }

    [Fact]
    public void Vectorised_erf_matches_table_in_full_vectors()
    {
        var xs = ErfTable.Select(r => (double)r[0]).ToArray();
        var expected = ErfTable.Select(r => (double)r[1]).ToArray();
        var got = Elementwise.Unary(UnaryOp.Erf, Tensor.FromArray(xs)).ToDoubleArray();
        for (int i = 0; i < xs.Length; i++) OpsTestUtil.AssertClose(expected[i], got[i], 1e-15, 0, $"erf({xs[i]})");
    }

    [Theory, MemberData(nameof(ErfcTable))]
    public void Erfc_matches_high_precision_table(double x, double expected) =>
        OpsTestUtil.AssertClose(expected, SpecialFunctions.Erfc(x), 1e-14, 0, $"erfc({x})");

    [Fact]
    public void Erf_is_odd_monotone_and_agrees_with_series_on_a_grid()
    {
        double prev = -1;
        for (double x = -7; x <= 7; x += 0.01)
        {
            double e = SpecialFunctions.Erf(x);
            Assert.Equal(-e, SpecialFunctions.Erf(-x));
            Assert.True(e >= prev, $"erf not monotone at {x}");
            prev = e;
            OpsTestUtil.AssertClose(ErfReference(x), e, 0, 2e-15, $"erf({x})");
            OpsTestUtil.AssertClose(1 - e, SpecialFunctions.Erfc(x), 0, 2e-15, $"erfc({x})");
        }
        Assert.Equal(1.0, SpecialFunctions.Erf(30));
        Assert.Equal(0.0, SpecialFunctions.Erfc(30));
        Assert.Equal(2.0, SpecialFunctions.Erfc(-30));
    }
}
