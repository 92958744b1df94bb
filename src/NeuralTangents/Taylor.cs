using NeuralTangents.Taylor;

namespace NeuralTangents;

public static partial class Empirical
{
    /// <summary>
    /// The linearization of <paramref name="f"/> in its parameters around <paramref name="params0"/>
    /// (<c>nt.linearize</c>, docs/conventions.md#taylor): <c>f_lin(θ, x) = f(θ₀, x) + J_θ f(θ₀, x)·(θ − θ₀)</c>, computed with one
    /// JVP. The result is traceable like any apply function (its NTK, NNGP, vmap, … work), affine in θ, exactly
    /// <c>f(θ₀, x)</c> at <c>θ = θ₀</c>, and not linear in x. Equals <see cref="TaylorExpand(ApplyFn, Params, int)"/>
    /// with degree 1.
    /// </summary>
    /// <param name="f">Any function of <c>(params, x)</c> (not only Stax networks).</param>
    /// <param name="params0">The expansion point; the returned function reads these names from its parameters,
    /// which must have the same shapes and dtypes (an <see cref="ArgumentException"/> at trace time otherwise).</param>
    public static ApplyFn Linearize(ApplyFn f, Params params0) => TaylorExpand(f, params0, 1);

    /// <summary><see cref="Linearize(ApplyFn, Params)"/> for a function with several inputs and outputs (each output leaf is linearized).</summary>
    public static MultiApplyFn Linearize(MultiApplyFn f, Params params0) => TaylorExpand(f, params0, 1);

    /// <summary>
    /// The Taylor polynomial of <paramref name="f"/> in its parameters around <paramref name="params0"/>
    /// (<c>nt.taylor_expand</c>, docs/conventions.md#taylor): <c>f_d(θ, x) = Σ_{k=0..d} D^k f(θ₀, x)[Δ^k]/k!</c> with
    /// <c>Δ = θ − θ₀</c>, by nested JVPs along Δ combined as Neural Tangents does
    /// (<c>R(d) = g_d</c>, <c>R(m) = g_m + R(m+1)/(m+1)</c>). Degree 0 is the constant <c>f(θ₀, x)</c>; degree 1 is
    /// <see cref="Linearize(ApplyFn, Params)"/>. Terms shared between derivative orders are merged (common-subexpression
    /// elimination), so the traced graph grows polynomially with the degree.
    /// </summary>
    /// <param name="f">Any function of <c>(params, x)</c>.</param>
    /// <param name="params0">The expansion point (see <see cref="Linearize(ApplyFn, Params)"/>).</param>
    /// <param name="degree">Non-negative degree.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degree"/> is negative (Neural Tangents recurses forever).</exception>
    public static ApplyFn TaylorExpand(ApplyFn f, Params params0, int degree)
    {
        ArgumentNullException.ThrowIfNull(f);
        var multi = TaylorExpand((MultiApplyFn)((p, xs) => new[] { f(p, xs[0]) }), params0, degree);
        return (p, x) => multi(p, new[] { x })[0];
    }

    /// <summary><see cref="TaylorExpand(ApplyFn, Params, int)"/> for a function with several inputs and outputs (each output leaf is expanded).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degree"/> is negative.</exception>
    public static MultiApplyFn TaylorExpand(MultiApplyFn f, Params params0, int degree)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(params0);
        if (degree < 0) throw new ArgumentOutOfRangeException(nameof(degree), degree, $"Taylor degree must be non-negative, got {degree}");
        var t = new TaylorFunction(f, params0, degree);
        return t.Apply;
    }
}
