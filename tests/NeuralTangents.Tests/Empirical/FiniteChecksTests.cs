using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;
using NtEmpirical = NeuralTangents.Empirical;

namespace NeuralTangents.Tests.Empirical;

/// <summary>The optional NaN/Inf checks: off by default (NaN propagates, as in Neural Tangents), scoped, exact index.</summary>
public sealed class FiniteChecksTests
{
    private static readonly Layer Net = Serial(Dense(4, 1, 0.5), Relu(), Dense(3));
    private static readonly Tensor X = Tensor.RandomNormal(new Random(0), new Shape(3, 5));
    private static readonly Params P = Net.Init(0, X.Shape).Params;

    private static Tensor WithValue(Tensor t, int flat, double v)
    {
        var d = t.ToDoubleArray();
        d[flat] = v;
        return Tensor.FromArray(d, t.Shape).AsType(t.DType);
    }

    [Fact]
    public void Find_reports_the_first_index_in_c_order_the_value_and_the_count()
    {
        var t = WithValue(WithValue(Tensor.Zeros(new Shape(2, 3, 4)), 17, double.NegativeInfinity), 22, double.NaN);
        var (index, value, count) = FiniteChecks.FindNonFinite(t)!.Value;
        Assert.Equal(new[] { 1, 1, 1 }, index);            // 17 = 1·12 + 1·4 + 1
        Assert.Equal(double.NegativeInfinity, value);
        Assert.Equal(2, count);
        Assert.Null(FiniteChecks.FindNonFinite(Tensor.Zeros(new Shape(0, 3))));
        Assert.Null(FiniteChecks.FindNonFinite(Tensor.Full(new Shape(3), double.MaxValue)));
        // float32 and strided views: the index is in the view's logical order.
        var f = WithValue(Tensor.Zeros(new Shape(2, 3), DType.Float32), 1, float.PositiveInfinity);   // at [0, 1]
        Assert.Equal(new[] { 1, 0 }, FiniteChecks.FindNonFinite(f.Transpose(new[] { 1, 0 }))!.Value.Index);
    }

    [Fact]
    public void Off_by_default_nan_propagates_into_the_kernel_as_in_neural_tangents()
    {
        Assert.False(FiniteChecks.IsEnabled);
        var k = NtEmpirical.NtkFn(Net.Apply)(WithValue(X, 7, double.NaN), null, P);
        Assert.True(double.IsNaN(k.ToDoubleArray()[1 * 3 + 1]));
    }

    [Fact]
    public void Enabled_inputs_parameters_and_cotangents_are_refused_with_name_and_index()
    {
        using (FiniteChecks.Enable())
        {
            var e = Assert.Throws<NonFiniteException>(() => NtEmpirical.NtkFn(Net.Apply)(X, WithValue(X, 7, double.NaN), P));
            Assert.Equal("x2", e.ArrayName);
            Assert.Equal(new[] { 1, 2 }, e.Index);
            Assert.Equal("x2 has nan at index [1, 2] (the only non-finite value)", e.Reason);

            var bad = new Params(P.Select(kv => kv.Key == "2.W" ? KeyValuePair.Create(kv.Key, WithValue(kv.Value, 4, double.PositiveInfinity)) : kv));
            var pe = Assert.Throws<NonFiniteException>(() => NtEmpirical.NngpFn(Net.Apply)(X, null, bad));
            Assert.Equal("parameter 2.W has inf at index [1, 1] (the only non-finite value)", pe.Reason);

            var vp = NtEmpirical.NtkVpFn(Net.Apply, X, null, P);
            var ce = Assert.Throws<NonFiniteException>(() => vp(WithValue(Tensor.Zeros(new Shape(3, 3)), 8, double.NaN)));
            Assert.Equal("cotangents", ce.ArrayName);
            Assert.Equal(new[] { 2, 2 }, ce.Index);

            // Finite inputs give the same kernel as with the checks off.
            var on = NtEmpirical.NtkFn(Net.Apply)(X, null, P);
            using (FiniteChecks.Disable()) Assert.Equal(NtEmpirical.NtkFn(Net.Apply)(X, null, P).ToDoubleArray(), on.ToDoubleArray());
        }
        Assert.False(FiniteChecks.IsEnabled);
    }

    [Fact]
    public void Enabled_a_non_finite_result_from_finite_inputs_is_reported()
    {
        // Huge weights overflow the float32 forward pass: inputs are finite, the NNGP is not.
        var x = Tensor.Full(new Shape(2, 5), 1e30, DType.Float32);
        var p = Net.Init(0, x.Shape, DType.Float32).Params;
        using var _ = FiniteChecks.Enable();
        var e = Assert.Throws<NonFiniteException>(() => NtEmpirical.NngpFn(Net.Apply)(x, null, p));
        Assert.Equal("the NNGP", e.ArrayName);
    }

    [Fact]
    public async Task The_scope_does_not_leak_to_other_threads()
    {
        using var _ = FiniteChecks.Enable();
        bool seenInside = await Task.Run(() => FiniteChecks.IsEnabled);      // flows into tasks started inside
        bool seenElsewhere = true;
        var t = new Thread(() => seenElsewhere = FiniteChecks.IsEnabled);
        t.UnsafeStart();                                                     // no execution context: a separate flow
        t.Join();
        Assert.True(seenInside);
        Assert.False(seenElsewhere);
    }
}
