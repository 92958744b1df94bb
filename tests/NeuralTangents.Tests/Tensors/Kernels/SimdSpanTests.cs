using System.Numerics;
using System.Numerics.Tensors;
using FsCheck.Xunit;
using NeuralTangents.Tensors;
using NeuralTangents.Tensors.Kernels;
using Xunit;

namespace NeuralTangents.Tests.Tensors.Kernels;

/// <summary>
/// <see cref="SimdSpan"/> against TensorPrimitives (which it replaces in the hot loops) and against the scalar IEEE
/// operation: every element must agree bit for bit (NaN only as NaN), over random values mixed with the special ones
/// (±0, ±∞, NaN, subnormals, extremes), lengths around every vector width (tails included), and the output written
/// over an input.
/// </summary>
public class SimdSpanTests
{
    private static T[] Values<T>(Random rng, int n) where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        T[] special = [T.Zero, T.NegativeZero, T.One, -T.One, T.PositiveInfinity, T.NegativeInfinity, T.NaN, T.Epsilon, -T.Epsilon, T.MaxValue, T.MinValue];
        var a = new T[n];
        for (int i = 0; i < n; i++)
            a[i] = rng.Next(4) == 0 ? special[rng.Next(special.Length)] : T.CreateTruncating((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-40, 40)));
        return a;
    }

    private static void Same<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (T.IsNaN(expected[i])) { Assert.True(T.IsNaN(actual[i]), $"{what}[{i}]: expected NaN, got {actual[i]}"); continue; }
            Assert.True(expected[i].Equals(actual[i]) && T.IsNegative(expected[i]) == T.IsNegative(actual[i]), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }

    private static void CheckAll<T>(int seed, int n) where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        var rng = new Random(seed);
        T[] a = Values<T>(rng, n), b = Values<T>(rng, n), c = Values<T>(rng, n);
        T s = Values<T>(rng, 1)[0];
        var e = new T[n];
        var y = new T[n];
        void Check(string what, Action<T[]> ours, Action<T[]> reference)
        {
            reference(e);
            Array.Fill(y, T.NaN);
            ours(y);
            Same<T>(e, y, what);
        }
        Check("add", y => SimdSpan.Add<T>(a, b, y), e => TensorPrimitives.Add<T>(a, b, e));
        Check("add s", y => SimdSpan.Add<T>(a, s, y), e => TensorPrimitives.Add<T>(a, s, e));
        Check("sub", y => SimdSpan.Subtract<T>(a, b, y), e => TensorPrimitives.Subtract<T>(a, b, e));
        Check("sub s", y => SimdSpan.Subtract<T>(a, s, y), e => TensorPrimitives.Subtract<T>(a, s, e));
        Check("s sub", y => SimdSpan.Subtract<T>(s, a, y), e => TensorPrimitives.Subtract<T>(s, a, e));
        Check("mul", y => SimdSpan.Multiply<T>(a, b, y), e => TensorPrimitives.Multiply<T>(a, b, e));
        Check("mul s", y => SimdSpan.Multiply<T>(a, s, y), e => TensorPrimitives.Multiply<T>(a, s, e));
        Check("div", y => SimdSpan.Divide<T>(a, b, y), e => TensorPrimitives.Divide<T>(a, b, e));
        Check("div s", y => SimdSpan.Divide<T>(a, s, y), e => TensorPrimitives.Divide<T>(a, s, e));
        Check("s div", y => SimdSpan.Divide<T>(s, a, y), e => TensorPrimitives.Divide<T>(s, a, e));
        Check("max", y => SimdSpan.Max<T>(a, b, y), e => TensorPrimitives.Max<T>(a, b, e));
        Check("max s", y => SimdSpan.Max<T>(a, s, y), e => TensorPrimitives.Max<T>(a, s, e));
        Check("min", y => SimdSpan.Min<T>(a, b, y), e => TensorPrimitives.Min<T>(a, b, e));
        Check("min s", y => SimdSpan.Min<T>(a, s, y), e => TensorPrimitives.Min<T>(a, s, e));
        Check("neg", y => SimdSpan.Negate<T>(a, y), e => TensorPrimitives.Negate<T>(a, e));
        Check("abs", y => SimdSpan.Abs<T>(a, y), e => TensorPrimitives.Abs<T>(a, e));
        Check("mul-add", y => SimdSpan.MultiplyAdd<T>(a, b, c, y), e => TensorPrimitives.MultiplyAdd<T>(a, b, c, e));
        Check("mul-add s", y => SimdSpan.MultiplyAdd<T>(a, s, c, y), e => TensorPrimitives.MultiplyAdd<T>(a, s, c, e));
        // The scalar definitions (what every element must be), and IEEE max/min on signed zeros and NaN.
        Check("max def", y => SimdSpan.Max<T>(a, b, y), e => { for (int i = 0; i < n; i++) e[i] = T.Max(a[i], b[i]); });
        Check("min def", y => SimdSpan.Min<T>(a, b, y), e => { for (int i = 0; i < n; i++) e[i] = T.Min(a[i], b[i]); });
        Check("mul-add def", y => SimdSpan.MultiplyAdd<T>(a, b, c, y), e => { for (int i = 0; i < n; i++) e[i] = a[i] * b[i] + c[i]; });
        // Comparisons against their scalar IEEE definitions (1 or +0; with a NaN only ne holds); b shares every third
        // element with a, so equal operands (±0 included) occur.
        var bq = (T[])b.Clone();
        for (int i = 0; i < n; i += 3) bq[i] = i % 2 == 0 ? a[i] : (T.IsZero(a[i]) ? -a[i] : a[i]);
        foreach (var op in Enum.GetValues<CompareOp>())
        {
            Func<T, T, bool> holds = op switch
            {
                CompareOp.Eq => (x, z) => x == z, CompareOp.Ne => (x, z) => x != z, CompareOp.Lt => (x, z) => x < z,
                CompareOp.Le => (x, z) => x <= z, CompareOp.Gt => (x, z) => x > z, _ => (x, z) => x >= z,
            };
            T One(bool h) => h ? T.One : T.Zero;
            Check($"{op}", y => SimdSpan.Compare<T>(op, a, bq, y), e => { for (int i = 0; i < n; i++) e[i] = One(holds(a[i], bq[i])); });
            Check($"{op} s", y => SimdSpan.Compare<T>(op, a, s, y), e => { for (int i = 0; i < n; i++) e[i] = One(holds(a[i], s)); });
            Check($"s {op}", y => SimdSpan.Compare<T>(op, s, a, y), e => { for (int i = 0; i < n; i++) e[i] = One(holds(s, a[i])); });
            Check($"{op} zero", y => SimdSpan.Compare<T>(op, a, T.Zero, y), e => { for (int i = 0; i < n; i++) e[i] = One(holds(a[i], T.Zero)); });
            Check($"{op} NaN", y => SimdSpan.Compare<T>(op, a, T.NaN, y), e => { for (int i = 0; i < n; i++) e[i] = One(holds(a[i], T.NaN)); });
            var a3 = (T[])a.Clone();
            SimdSpan.Compare<T>(op, a3, bq, a3);
            for (int i = 0; i < n; i++) e[i] = One(holds(a[i], bq[i]));
            Same<T>(e, a3, $"{op} in place");
        }
        // Output over an input.
        var a2 = (T[])a.Clone();
        SimdSpan.Multiply<T>(a2, b, a2);
        TensorPrimitives.Multiply<T>(a, b, e);
        Same<T>(e, a2, "mul in place");
        if (n > 0) Assert.Throws<ArgumentException>(() => SimdSpan.Add<T>(a, b.AsSpan(0, n - 1), y));
    }

    [Property(MaxTest = 60)]
    public void MatchesTensorPrimitivesFloat32(int seed) => CheckAll<float>(seed, Math.Abs(seed % 67));

    [Property(MaxTest = 60)]
    public void MatchesTensorPrimitivesFloat64(int seed) => CheckAll<double>(seed, Math.Abs(seed % 67));

    [Fact]
    public void LongSpansAndSignedZeros()
    {
        CheckAll<float>(1, 1000);
        CheckAll<double>(2, 1001);
        float[] z = [0f, -0f, 0f, -0f, float.NaN, 1f, 0f, -0f, 0f, -0f, 0f, -0f, 0f, -0f, 0f, -0f, -0f];
        float[] w = [-0f, 0f, 0f, -0f, 1f, float.NaN, -0f, 0f, -0f, 0f, -0f, 0f, -0f, 0f, -0f, 0f, 0f];
        var y = new float[z.Length];
        SimdSpan.Max<float>(z, w, y);
        for (int i = 0; i < z.Length; i++) Assert.Equal(Math.Max(z[i], w[i]).ToString("R") + (float.IsNegative(Math.Max(z[i], w[i])) ? "-" : ""), y[i].ToString("R") + (float.IsNegative(y[i]) ? "-" : ""));
        SimdSpan.Min<float>(z, w, y);
        for (int i = 0; i < z.Length; i++) Assert.Equal(Math.Min(z[i], w[i]).ToString("R") + (float.IsNegative(Math.Min(z[i], w[i])) ? "-" : ""), y[i].ToString("R") + (float.IsNegative(y[i]) ? "-" : ""));
    }

    [Property(MaxTest = 40)]
    public void WidenAndNarrowMatchCasts(int seed)
    {
        var rng = new Random(seed);
        int n = Math.Abs(seed % 70);
        var f = Values<float>(rng, n);
        var d = Values<double>(rng, n);
        var fd = new double[n];
        SimdSpan.Widen(f, fd);
        for (int i = 0; i < n; i++) Assert.True(((double)f[i]).Equals(fd[i]) && double.IsNegative(fd[i]) == float.IsNegative(f[i]), $"widen[{i}]");
        var df = new float[n];
        SimdSpan.Narrow(d, df);
        for (int i = 0; i < n; i++) Assert.True(((float)d[i]).Equals(df[i]) && float.IsNegative(df[i]) == double.IsNegative(d[i]), $"narrow[{i}]: {d[i]} → {df[i]}, cast {(float)d[i]}");
    }
}
