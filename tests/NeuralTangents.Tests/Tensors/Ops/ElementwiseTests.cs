using Xunit;
using FsCheck.Xunit;
using NeuralTangents.Tensors;
using static NeuralTangents.Tests.Tensors.Ops.OpsTestUtil;

namespace NeuralTangents.Tests.Tensors.Ops;

public class ElementwiseTests
{
    private static double UnaryRef(UnaryOp op, double x) => op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Erf => ErfTests.ErfReference(x),
        UnaryOp.Sin => Math.Sin(x),
        UnaryOp.Cos => Math.Cos(x),
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Rsqrt => 1 / Math.Sqrt(x),
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Sign => x > 0 ? 1 : x < 0 ? -1 : x,
        UnaryOp.Logistic => 1 / (1 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static Func<Random, double> Domain(UnaryOp op) => op switch
    {
        UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt => r => Math.Abs(Normal(r)) * 3 + 1e-3,
        UnaryOp.Exp => r => Normal(r) * 5,
        _ => r => Normal(r) * 3,
    };

    public static TheoryData<UnaryOp, DType> UnaryCases()
    {
        var d = new TheoryData<UnaryOp, DType>();
        foreach (var op in Enum.GetValues<UnaryOp>()) foreach (var t in AllDTypes) d.Add(op, t);
        return d;
    }

    [Theory, MemberData(nameof(UnaryCases))]
    public void Unary_matches_Math_reference(UnaryOp op, DType dtype)
    {
        var rng = new Random(1000 + (int)op);
        // Long enough to hit vector bodies and tails, on a reversed strided view.
        var x = RandomView(rng, new Shape(7, 131), dtype, Domain(op));
        CheckUnary(op, x);
    }

    [Property(MaxTest = 60)]
    public void Unary_on_random_views_matches_reference(int seed)
    {
        var rng = new Random(seed);
        var op = Enum.GetValues<UnaryOp>()[rng.Next(12)];
        var dtype = AllDTypes[rng.Next(2)];
        CheckUnary(op, RandomView(rng, RandomShape(rng), dtype, Domain(op)));
    }

    private static void CheckUnary(UnaryOp op, Tensor x)
    {
        var y = Elementwise.Unary(op, x);
        Assert.Equal(x.Shape, y.Shape);
        Assert.Equal(x.DType, y.DType);
        Assert.True(y.IsContiguous || y.Size == 0);
        var xs = Values(x);
        var ys = Values(y);
        bool f32 = x.DType == DType.Float32;
        for (int i = 0; i < xs.Length; i++)
        {
            double r = UnaryRef(op, xs[i]);
            if (f32) r = (float)r;
            AssertClose(r, ys[i], f32 ? 1.2e-7 : 4e-15, f32 ? 1e-45 : 1e-16, $"{op}({xs[i]:R}) {x.DType}");
        }
    }

    [Theory]
    [InlineData(UnaryOp.Sign, 0.0, 0.0)]
    [InlineData(UnaryOp.Sign, double.NaN, double.NaN)]
    [InlineData(UnaryOp.Sign, -3.5, -1.0)]
    [InlineData(UnaryOp.Sign, double.PositiveInfinity, 1.0)]
    [InlineData(UnaryOp.Log, 0.0, double.NegativeInfinity)]
    [InlineData(UnaryOp.Log, -1.0, double.NaN)]
    [InlineData(UnaryOp.Log, double.PositiveInfinity, double.PositiveInfinity)]
    [InlineData(UnaryOp.Sqrt, -1.0, double.NaN)]
    [InlineData(UnaryOp.Rsqrt, 0.0, double.PositiveInfinity)]
    [InlineData(UnaryOp.Rsqrt, 4.0, 0.5)]
    [InlineData(UnaryOp.Exp, double.NegativeInfinity, 0.0)]
    [InlineData(UnaryOp.Exp, double.PositiveInfinity, double.PositiveInfinity)]
    [InlineData(UnaryOp.Exp, 0.0, 1.0)]
    [InlineData(UnaryOp.Logistic, -1000.0, 0.0)]
    [InlineData(UnaryOp.Logistic, 1000.0, 1.0)]
    [InlineData(UnaryOp.Logistic, 0.0, 0.5)]
    [InlineData(UnaryOp.Tanh, 50.0, 1.0)]
    [InlineData(UnaryOp.Tanh, double.NegativeInfinity, -1.0)]
    [InlineData(UnaryOp.Erf, double.PositiveInfinity, 1.0)]
    [InlineData(UnaryOp.Erf, double.NegativeInfinity, -1.0)]
    [InlineData(UnaryOp.Erf, double.NaN, double.NaN)]
    [InlineData(UnaryOp.Neg, 0.0, -0.0)]
    public void Unary_special_values(UnaryOp op, double x, double expected)
    {
        foreach (var dtype in AllDTypes)
        {
            // Embed in a longer vector so the vectorised path handles the value too.
            var data = Enumerable.Repeat(x, 37).ToArray();
            var t = Tensor.FromArray(data, new Shape(37)).AsType(dtype);
            var y = Elementwise.Unary(op, t).ToDoubleArray();
            foreach (var v in y) AssertSame(expected, v, $"{op}({x}) {dtype}");
            AssertSame(expected, Elementwise.Unary(op, Tensor.Scalar(x, dtype)).ToScalar(), $"{op}({x}) scalar {dtype}");
        }
    }

    [Fact]
    public void Unary_keeps_signed_zeros_like_lax()
    {
        Unary_special_values(UnaryOp.Sign, -0.0, -0.0);
        Unary_special_values(UnaryOp.Erf, -0.0, -0.0);
        Unary_special_values(UnaryOp.Abs, -0.0, 0.0);
        Unary_special_values(UnaryOp.Tanh, -0.0, -0.0);
    }

    [Fact]
    public void Tanh_and_erf_are_accurate_over_a_dense_sweep_including_tiny_arguments()
    {
        var xs = new List<double>();
        for (int k = -300; k <= 2; k++) { xs.Add(Math.Pow(10, k)); xs.Add(-3 * Math.Pow(10, k)); }
        for (double v = -20; v <= 20; v += 0.001) xs.Add(v);
        xs.AddRange([0.625, Math.BitDecrement(0.625), 0.46875, Math.BitIncrement(0.46875), 4, Math.BitIncrement(4.0), 7.99, 8, 1e300, double.MaxValue, double.Epsilon]);
        var x = Tensor.FromArray(xs.ToArray());
        var th = Elementwise.Unary(UnaryOp.Tanh, x).ToDoubleArray();
        var er = Elementwise.Unary(UnaryOp.Erf, x).ToDoubleArray();
        for (int i = 0; i < xs.Count; i++)
        {
            AssertClose(Math.Tanh(xs[i]), th[i], 4e-16 * 5, 0, $"tanh({xs[i]:R})");
            AssertClose(SpecialFunctions.Erf(xs[i]), er[i], 4e-16 * 3, 0, $"erf({xs[i]:R})");
        }
        // float32 through double: correctly rounded against the double reference.
        var xf = x.AsType(DType.Float32);
        var thf = Elementwise.Unary(UnaryOp.Tanh, xf).ToArray<float>();
        var xfv = xf.ToArray<float>();
        for (int i = 0; i < xs.Count; i++) Assert.Equal((float)Math.Tanh(xfv[i]), thf[i]);
    }

    // ------------------------------------------------------------------------------------------------ binary

    private static T BinaryRef<T>(BinaryOp op, T a, T b) where T : System.Numerics.IFloatingPointIeee754<T> => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Max => T.Max(a, b),
        BinaryOp.Min => T.Min(a, b),
        BinaryOp.Pow => T.Pow(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    [Property(MaxTest = 100)]
    public void Binary_matches_scalar_loop(int seed)
    {
        var rng = new Random(seed);
        var op = Enum.GetValues<BinaryOp>()[rng.Next(7)];
        var dtype = AllDTypes[rng.Next(2)];
        var shape = rng.Next(4) == 0 ? new Shape(3, 45) : RandomShape(rng);
        Func<Random, double> sa = op == BinaryOp.Pow ? r => Math.Abs(Normal(r)) * 2 + 0.1 : Normal;
        // A broadcast scalar operand exercises the span-scalar kernels.
        var a = rng.Next(5) == 0 ? Tensor.Scalar(sa(rng), dtype).BroadcastTo(shape) : RandomView(rng, shape, dtype, sa);
        var b = rng.Next(5) == 0 ? Tensor.Scalar(Normal(rng), dtype).BroadcastTo(shape) : RandomView(rng, shape, dtype);
        var y = Elementwise.Binary(op, a, b);
        Assert.Equal(shape, y.Shape);
        Assert.Equal(dtype, y.DType);
        Assert.True(y.IsContiguous || y.Size == 0);
        double[] av = Values(a), bv = Values(b), yv = Values(y);
        for (int i = 0; i < av.Length; i++)
        {
            double r = dtype == DType.Float32 ? BinaryRef(op, (float)av[i], (float)bv[i]) : BinaryRef(op, av[i], bv[i]);
            if (op == BinaryOp.Pow) AssertClose(r, yv[i], dtype == DType.Float32 ? 4e-7 : 4e-15, 0, $"pow({av[i]}, {bv[i]})");
            else AssertSame(r, yv[i], $"{op}({av[i]}, {bv[i]}) {dtype}");
        }
    }

    /// <summary>
    /// A bias broadcast over examples ((d,) → (n, d)) and a per-example value broadcast over features ((n, 1) → (n, d))
    /// are read in place row by row; the result must be bit-identical to the materialised operand's, on either side,
    /// with rows that straddle the parallel chunks (n·d up to ~200k elements).
    /// </summary>
    [Property(MaxTest = 60)]
    public void Binary_with_a_row_broadcast_operand_equals_the_materialised_one(int seed)
    {
        var rng = new Random(seed);
        var op = Enum.GetValues<BinaryOp>()[rng.Next(7)];
        var dtype = AllDTypes[rng.Next(2)];
        int n = 1 + rng.Next(300), d = 64 + rng.Next(600);
        Func<Random, double> pos = r => Math.Abs(Normal(r)) * 2 + 0.1;
        bool perRow = rng.Next(2) == 0, broadcastFirst = rng.Next(2) == 0;
        var shape = new Shape(n, d);
        var small = perRow ? RandomView(rng, new Shape(n, 1), dtype, pos) : RandomView(rng, new Shape(d), dtype, pos).Contiguous();
        var bc = perRow ? small.Contiguous().BroadcastInDim(shape, new[] { 0, 1 }) : small.BroadcastTo(shape);
        Assert.NotNull(NeuralTangents.Tensors.Ops.OpChecks.BroadcastLayout(bc));
        var full = RandomView(rng, shape, dtype, pos);
        var (a, b) = broadcastFirst ? (bc, full) : (full, bc);
        var y = Elementwise.Binary(op, a, b);
        var expected = Elementwise.Binary(op, a.Contiguous().Reshape(n, d), b.Contiguous().Reshape(n, d));
        Assert.Equal(Values(expected), Values(y));
    }

    /// <summary>
    /// Operands broadcast along a middle axis ((E, 1, D) → (E, B, D), as a ∂f/∂y pass multiplies per-example masks
    /// into (E, basis, …) cotangents), one on each side or both, or a transposed view over contiguous runs, are read in
    /// place run by run; the result must be bit-identical to the materialised operands', across parallel chunks.
    /// </summary>
    [Property(MaxTest = 60)]
    public void Binary_with_middle_axis_broadcasts_equals_the_materialised_one(int seed)
    {
        var rng = new Random(seed);
        var op = Enum.GetValues<BinaryOp>()[rng.Next(7)];
        var dtype = AllDTypes[rng.Next(2)];
        int e = 1 + rng.Next(12), bb = 2 + rng.Next(10), d = 64 + rng.Next(3000);
        Func<Random, double> pos = r => Math.Abs(Normal(r)) * 2 + 0.1;
        var shape = new Shape(e, bb, d);
        Tensor Operand(int kind) => kind switch
        {
            0 => RandomView(rng, new Shape(e, 1, d), dtype, pos).Contiguous().BroadcastInDim(shape, new[] { 0, 1, 2 }),   // over the middle axis
            1 => RandomView(rng, new Shape(1, bb, d), dtype, pos).Contiguous().BroadcastInDim(shape, new[] { 0, 1, 2 }),  // over the leading axis
            2 => RandomView(rng, new Shape(bb, e, d), dtype, pos).Contiguous().Transpose(1, 0, 2),                    // strided rows
            _ => RandomView(rng, shape, dtype, pos).Contiguous(),
        };
        int ka = rng.Next(4), kb = rng.Next(3);
        var (a, b) = rng.Next(2) == 0 ? (Operand(ka), Operand(kb)) : (Operand(kb), Operand(ka));
        Assert.NotNull(NeuralTangents.Tensors.Ops.OpChecks.Runs(a, b));
        var y = Elementwise.Binary(op, a, b);
        var expected = Elementwise.Binary(op, a.Contiguous(), b.Contiguous());
        Assert.Equal(Values(expected), Values(y));
    }

    /// <summary>A comparison with a broadcast scalar (relu's <c>x &gt; 0</c>) on either side, read in place, equals the
    /// materialised comparison (NaN included: every comparison with NaN but ≠ is false).</summary>
    [Property(MaxTest = 40)]
    public void Compare_with_a_broadcast_scalar_equals_the_materialised_one(int seed)
    {
        var rng = new Random(seed);
        var op = Enum.GetValues<CompareOp>()[rng.Next(6)];
        var dtype = AllDTypes[rng.Next(2)];
        var shape = new Shape(1 + rng.Next(40), 1 + rng.Next(300));
        var x = RandomView(rng, shape, dtype, r => r.Next(5) == 0 ? 0.0 : r.Next(40) == 0 ? double.NaN : Normal(r));
        double sv = rng.Next(3) switch { 0 => 0.0, 1 => Normal(rng), _ => double.NaN };
        var s = Tensor.FromArray([sv], new Shape()).AsType(dtype).BroadcastTo(shape);
        var (a, b) = rng.Next(2) == 0 ? (x, s) : (s, x);
        Assert.Equal(Values(Elementwise.Compare(op, a.Contiguous(), b.Contiguous())), Values(Elementwise.Compare(op, a, b)));
    }

    [Fact]
    public void Max_and_min_propagate_nan_and_pow_handles_negative_integer_exponents()
    {
        foreach (var dtype in AllDTypes)
        {
            var a = Tensor.FromArray([double.NaN, 1, 2, -8, -2], new Shape(5)).AsType(dtype);
            var b = Tensor.FromArray([1, double.NaN, 1, 1.0 / 3, 3], new Shape(5)).AsType(dtype);
            var mx = Elementwise.Binary(BinaryOp.Max, a, b).ToDoubleArray();
            var mn = Elementwise.Binary(BinaryOp.Min, a, b).ToDoubleArray();
            Assert.True(double.IsNaN(mx[0]) && double.IsNaN(mx[1]) && double.IsNaN(mn[0]) && double.IsNaN(mn[1]));
            Assert.Equal(2, mx[2]);
            Assert.Equal(1, mn[2]);
            var p = Elementwise.Binary(BinaryOp.Pow, a, b).ToDoubleArray();
            Assert.True(double.IsNaN(p[3])); // negative base, non-integer exponent
            Assert.Equal(-8, p[4]);
        }
    }

    [Fact]
    public void Binary_errors_name_the_op_and_both_shapes()
    {
        var a = Tensor.Zeros(new Shape(2, 3));
        var b = Tensor.Zeros(new Shape(3));
        var e = Assert.Throws<ArgumentException>(() => Elementwise.Binary(BinaryOp.Add, a, b));
        Assert.StartsWith("add: operands must have equal shapes, got (2, 3) and (3,)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Elementwise.Binary(BinaryOp.Pow, a, a.AsType(DType.Float32)));
        Assert.StartsWith("pow: operands must have equal dtypes, got float64 and float32", e.Message);
        e = Assert.Throws<ArgumentException>(() => Elementwise.Compare(CompareOp.Lt, a, b));
        Assert.StartsWith("lt: operands must have equal shapes, got (2, 3) and (3,)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Elementwise.AddScaled(a, b, 2));
        Assert.StartsWith("add_scaled: operands must have equal shapes, got (2, 3) and (3,)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Elementwise.Select(a, a, b));
        Assert.StartsWith("select: operands must have equal shapes, got (2, 3) and (3,)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Elementwise.Select(b, a, a));
        Assert.StartsWith("select: predicate must have the operands' shape (2, 3) or be a scalar, got (3,)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Elementwise.Unary((UnaryOp)99, a));
        Assert.Throws<ArgumentOutOfRangeException>(() => Elementwise.Binary((BinaryOp)99, a, a));
    }

    // ------------------------------------------------------------------------------------------------ integer_pow

    private static T IntegerPowRef<T>(T x, int n) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        if (n == 0) return T.One;
        long e = Math.Abs((long)n);
        T? acc = default;
        bool started = false;
        while (e > 0)
        {
            if ((e & 1) != 0) { acc = started ? acc! * x : x; started = true; }
            e >>= 1;
            if (e > 0) x *= x;
        }
        return n < 0 ? T.One / acc! : acc!;
    }

    [Property(MaxTest = 60)]
    public void IntegerPow_matches_lax_order_and_Math_Pow(int seed)
    {
        var rng = new Random(seed);
        var dtype = AllDTypes[rng.Next(2)];
        int n = rng.Next(-6, 11);
        var x = RandomView(rng, rng.Next(3) == 0 ? new Shape(50) : RandomShape(rng), dtype);
        var y = Elementwise.IntegerPow(x, n);
        double[] xv = Values(x), yv = Values(y);
        for (int i = 0; i < xv.Length; i++)
        {
            double exact = dtype == DType.Float32 ? IntegerPowRef((float)xv[i], n) : IntegerPowRef(xv[i], n);
            AssertSame(exact, yv[i], $"{xv[i]}^{n}");
            double viaPow = Math.Pow(xv[i], n);
            if (Math.Abs(viaPow) < 1e30 && viaPow != 0)
                AssertClose(viaPow, yv[i], dtype == DType.Float32 ? 4e-6 : 1e-14, 0, $"{xv[i]}^{n} vs Math.Pow");
        }
    }

    [Fact]
    public void IntegerPow_edge_exponents()
    {
        var x = Tensor.FromArray([double.NaN, 0, -2, 1.5]);
        Assert.Equal([1.0, 1, 1, 1], Elementwise.IntegerPow(x, 0).ToDoubleArray());
        var inv = Elementwise.IntegerPow(x, -1).ToDoubleArray();
        Assert.True(double.IsNaN(inv[0]));
        Assert.Equal([double.PositiveInfinity, -0.5, 1 / 1.5], inv[1..]);
        Assert.Equal([0.0, 1, -1], Elementwise.IntegerPow(Tensor.FromArray(0, 1, -1), int.MaxValue).ToDoubleArray());
        Assert.Equal([double.PositiveInfinity, 1, 1], Elementwise.IntegerPow(Tensor.FromArray(0, 1, -1), int.MinValue).ToDoubleArray());
    }

    // ------------------------------------------------------------------------------------------------ compare / select

    private static readonly double[] Ties = [-1, 0, 1, -0.0, double.NaN, 2.5];

    [Property(MaxTest = 60)]
    public void Compare_matches_IEEE_comparisons(int seed)
    {
        var rng = new Random(seed);
        var op = Enum.GetValues<CompareOp>()[rng.Next(6)];
        var dtype = AllDTypes[rng.Next(2)];
        var shape = RandomShape(rng);
        var a = RandomView(rng, shape, dtype, r => Ties[r.Next(Ties.Length)]);
        var b = RandomView(rng, shape, dtype, r => Ties[r.Next(Ties.Length)]);
        var y = Elementwise.Compare(op, a, b);
        Assert.Equal(dtype, y.DType);
        double[] av = Values(a), bv = Values(b), yv = Values(y);
        for (int i = 0; i < av.Length; i++)
        {
            bool r = op switch
            {
                CompareOp.Eq => av[i] == bv[i], CompareOp.Ne => av[i] != bv[i], CompareOp.Lt => av[i] < bv[i],
                CompareOp.Le => av[i] <= bv[i], CompareOp.Gt => av[i] > bv[i], _ => av[i] >= bv[i],
            };
            Assert.Equal(r ? 1.0 : 0.0, yv[i]);
        }
    }

    [Property(MaxTest = 60)]
    public void Select_picks_on_true_where_pred_is_nonzero(int seed)
    {
        var rng = new Random(seed);
        var dtype = AllDTypes[rng.Next(2)];
        var shape = RandomShape(rng);
        var pred = RandomView(rng, shape, AllDTypes[rng.Next(2)], r => Ties[r.Next(Ties.Length)]);
        var t = RandomView(rng, shape, dtype);
        var f = RandomView(rng, shape, dtype);
        var y = Elementwise.Select(pred, t, f);
        Assert.Equal(dtype, y.DType);
        double[] pv = Values(pred), tv = Values(t), fv = Values(f), yv = Values(y);
        for (int i = 0; i < pv.Length; i++) Assert.Equal(pv[i] != 0 ? tv[i] : fv[i], yv[i]);
    }

    [Fact]
    public void Select_keeps_tiny_float64_predicates_true_and_accepts_scalar_predicates()
    {
        var t = Tensor.FromArray(1.0, 2.0).AsType(DType.Float32);
        var f = Tensor.FromArray(3.0, 4.0).AsType(DType.Float32);
        Assert.Equal([1.0, 4.0], Elementwise.Select(Tensor.FromArray(1e-300, 0), t, f).ToDoubleArray());
        Assert.Equal([3.0, 4.0], Elementwise.Select(Tensor.Scalar(0), t, f).ToDoubleArray());
        var copy = Elementwise.Select(Tensor.Scalar(5), t, f);
        Assert.Equal([1.0, 2.0], copy.ToDoubleArray());
        Assert.NotSame(t, copy);
    }

    // ------------------------------------------------------------------------------------------------ scale

    [Property(MaxTest = 60)]
    public void Scale_and_AddScaled_match_scalar_loops(int seed)
    {
        var rng = new Random(seed);
        var dtype = AllDTypes[rng.Next(2)];
        var shape = RandomShape(rng);
        var a = RandomView(rng, shape, dtype);
        var b = RandomView(rng, shape, dtype);
        double s = Normal(rng) * 10;
        double[] av = Values(a), bv = Values(b);
        double[] sc = Values(Elementwise.Scale(b, s)), ax = Values(Elementwise.AddScaled(a, b, s));
        for (int i = 0; i < av.Length; i++)
        {
            if (dtype == DType.Float32)
            {
                AssertSame((float)bv[i] * (float)s, sc[i], "scale");
                AssertSame((float)av[i] + (float)s * (float)bv[i], ax[i], "add_scaled");
            }
            else
            {
                AssertSame(bv[i] * s, sc[i], "scale");
                AssertSame(av[i] + s * bv[i], ax[i], "add_scaled");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ chunking

    [Fact]
    public void Large_ops_are_bitwise_independent_of_parallelism()
    {
        var rng = new Random(7);
        var x = Tensor.RandomNormal(rng, new Shape(300_001), DType.Float32);
        var z = Tensor.RandomNormal(rng, new Shape(300_001), DType.Float32);
        Tensor[] Run() =>
        [
            Elementwise.Unary(UnaryOp.Exp, x), Elementwise.Unary(UnaryOp.Erf, x), Elementwise.Binary(BinaryOp.Mul, x, z),
            Elementwise.IntegerPow(x, 3), Elementwise.AddScaled(x, z, 0.3),
        ];
        var par = Run();
        int saved = Chunks.ParallelThreshold;
        Tensor[] seq;
        try { Chunks.ParallelThreshold = int.MaxValue; seq = Run(); }
        finally { Chunks.ParallelThreshold = saved; }
        for (int k = 0; k < par.Length; k++) Assert.Equal(seq[k].ToArray<float>(), par[k].ToArray<float>());
    }
}
