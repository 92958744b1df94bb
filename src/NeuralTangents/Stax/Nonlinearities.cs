namespace NeuralTangents.Stax;

/// <summary>Element-wise nonlinearities of <c>neural_tangents.stax</c> (their finite-width <c>apply_fn</c>s).</summary>
public static partial class Stax
{
    private static Layer Pointwise(string desc, Func<Tracer, Tracer> f) =>
        Layer.Single(desc, (rng, s, dtype, prefix, into) => s, (p, x) => f(x));

    private static string Abc(string name, double a, double b, double c, double da = 1, double db = 1, double dc = 0) =>
        a == da && b == db && c == dc ? name : $"{name}(a={F(a)},b={F(b)},c={F(c)})";

    /// <summary>
    /// <c>stax.Elementwise(fn)</c>: any element-wise function written with <see cref="Lax"/>, <see cref="Np"/> and the
    /// operators on <see cref="Tracer"/> (only the finite-width <c>apply_fn</c>; there is no <c>nngp_fn</c>).
    /// </summary>
    /// <param name="fn">The function; it must map a tensor to a tensor of the same shape.</param>
    /// <param name="name">Its name in descriptions.</param>
    public static Layer Elementwise(Func<Tracer, Tracer> fn, string name = "Elementwise")
    {
        ArgumentNullException.ThrowIfNull(fn);
        return Pointwise(name, x =>
        {
            var y = fn(x);
            if (y.Shape != x.Shape) throw new ArgumentException($"{name}: the function must keep the shape {x.Shape}, got {y.Shape}", nameof(fn));
            return y;
        });
    }

    /// <summary><c>stax.Relu()</c>: <c>max(x, 0)</c>, with derivative 0.5 at exactly 0 as in JAX.</summary>
    public static Layer Relu() => Pointwise("Relu", Np.Relu);

    /// <summary><c>stax.ABRelu(a, b)</c>: <c>a·min(x, 0) + b·max(x, 0)</c> (derivative <c>(a + b)/2</c> at exactly 0, as in JAX).</summary>
    public static Layer ABRelu(double a, double b) => Pointwise($"ABRelu({F(a)},{F(b)})", x => ABReluFn(x, a, b));

    private static Tracer ABReluFn(Tracer x, double a, double b)
    {
        var zero = Lax.FullLike(x, 0);
        return Lax.Min(x, zero) * a + Lax.Max(x, zero) * b;
    }

    /// <summary><c>stax.LeakyRelu(alpha)</c>: <c>ABRelu(alpha, 1)</c>.</summary>
    public static Layer LeakyRelu(double alpha) => Pointwise($"LeakyRelu({F(alpha)})", x => ABReluFn(x, alpha, 1));

    /// <summary><c>stax.Abs()</c>: <c>ABRelu(−1, 1) = |x|</c>.</summary>
    public static Layer Abs() => Pointwise("Abs", x => ABReluFn(x, -1, 1));

    /// <summary><c>stax.Erf(a, b, c)</c>: <c>a·erf(b·x) + c</c>.</summary>
    public static Layer Erf(double a = 1, double b = 1, double c = 0) => Pointwise(Abc("Erf", a, b, c), x => ErfFn(x, a, b, c));

    private static Tracer ErfFn(Tracer x, double a, double b, double c)
    {
        var y = Lax.Erf(b == 1 ? x : x * b);
        if (a != 1) y = y * a;
        return c != 0 ? y + c : y;
    }

    /// <summary><c>stax.Sigmoid_like()</c>: <c>0.5·erf(x/2.4020563531719796) + 0.5</c>.</summary>
    public static Layer Sigmoid_like() => Pointwise("Sigmoid_like", x => ErfFn(x, 0.5, 1 / 2.4020563531719796, 0.5));

    /// <summary><c>tanh(x)</c> (Neural Tangents has no Tanh layer; this is its <c>Elementwise(jnp.tanh)</c>).</summary>
    public static Layer Tanh() => Pointwise("Tanh", Lax.Tanh);

    /// <summary>
    /// <c>stax.Gelu(approximate)</c>: <c>x·(1 + erf(x/√2))/2</c> (exact, the default), or
    /// <c>x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2</c> (<c>jax.nn.gelu(approximate=True)</c>).
    /// </summary>
    public static Layer Gelu(bool approximate = false) => Pointwise(approximate ? "Gelu(approximate=True)" : "Gelu", x =>
        approximate
            ? x * (Lax.Tanh((x + Lax.IntegerPow(x, 3) * 0.044715) * Math.Sqrt(2 / Math.PI)) + 1) * 0.5
            : x * (Lax.Erf(x * (1 / Math.Sqrt(2))) + 1) * 0.5);

    /// <summary><c>stax.Sin(a, b, c)</c>: <c>a·sin(b·x + c)</c>.</summary>
    public static Layer Sin(double a = 1, double b = 1, double c = 0) => Pointwise(Abc("Sin", a, b, c), x => SinFn(x, a, b, c));

    private static Tracer SinFn(Tracer x, double a, double b, double c)
    {
        var z = b == 1 ? x : x * b;
        var y = Lax.Sin(c != 0 ? z + c : z);
        return a != 1 ? y * a : y;
    }

    /// <summary><c>stax.Cos(a, b, c)</c>: <c>a·cos(b·x + c)</c> (Neural Tangents: <c>Sin(a, b, c + π/2)</c>).</summary>
    public static Layer Cos(double a = 1, double b = 1, double c = 0) => Pointwise(Abc("Cos", a, b, c), x =>
    {
        var z = b == 1 ? x : x * b;
        var y = Lax.Cos(c != 0 ? z + c : z);
        return a != 1 ? y * a : y;
    });

    /// <summary><c>stax.Rbf(gamma)</c>: <c>√2·sin(√(2γ)·x + π/4)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> &lt; 0.</exception>
    public static Layer Rbf(double gamma = 1)
    {
        if (gamma < 0) throw new ArgumentOutOfRangeException(nameof(gamma), $"Rbf: gamma must be non-negative, got {gamma}");
        return Pointwise(gamma == 1 ? "Rbf" : $"Rbf({F(gamma)})", x => SinFn(x, Math.Sqrt(2), Math.Sqrt(2 * gamma), Math.PI / 4));
    }

    /// <summary><c>stax.Sign()</c>: <c>sign(x)</c> (zero derivative).</summary>
    public static Layer Sign() => Pointwise("Sign", Lax.Sign);

    /// <summary><c>stax.Exp(a, b)</c>: <c>a·exp(b·x)</c>.</summary>
    public static Layer Exp(double a = 1, double b = 1) => Pointwise(a == 1 && b == 1 ? "Exp" : $"Exp(a={F(a)},b={F(b)})", x =>
    {
        var y = Lax.Exp(b == 1 ? x : x * b);
        return a == 1 ? y : y * a;
    });

    /// <summary><c>stax.Gaussian(a, b)</c>: <c>a·exp(b·x²)</c> (defaults a = 1, b = −1).</summary>
    public static Layer Gaussian(double a = 1, double b = -1) => Pointwise(a == 1 && b == -1 ? "Gaussian" : $"Gaussian(a={F(a)},b={F(b)})", x =>
    {
        var y = Lax.Exp(Lax.IntegerPow(x, 2) * b);
        return a == 1 ? y : y * a;
    });

    /// <summary><c>stax.Monomial(degree)</c>: <c>x^degree</c>, degree 0…5 (as Neural Tangents).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A degree outside 0…5.</exception>
    public static Layer Monomial(int degree)
    {
        if (degree is < 0 or > 5) throw new ArgumentOutOfRangeException(nameof(degree), $"Monomial: degree must be an integer between 0 and 5, got {degree}");
        return Pointwise($"Monomial({degree})", x => Lax.IntegerPow(x, degree));
    }

    /// <summary><c>stax.RectifiedMonomial(degree)</c>: <c>(x ≥ 0)·x^degree</c>, degree ≥ 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative degree.</exception>
    public static Layer RectifiedMonomial(int degree)
    {
        if (degree < 0) throw new ArgumentOutOfRangeException(nameof(degree), $"RectifiedMonomial: degree must be non-negative, got {degree}");
        return Pointwise($"RectifiedMonomial({degree})", x => Lax.Compare(CompareOp.Ge, x, Lax.FullLike(x, 0)) * Lax.IntegerPow(x, degree));
    }

    /// <summary><c>stax.Polynomial(coef)</c>: <c>Σᵢ coef[i]·xⁱ</c> (Horner's rule).</summary>
    /// <exception cref="ArgumentException">No coefficients.</exception>
    public static Layer Polynomial(double[] coef)
    {
        ArgumentNullException.ThrowIfNull(coef);
        if (coef.Length == 0) throw new ArgumentException("Polynomial: coef must not be empty", nameof(coef));
        var c = (double[])coef.Clone();
        return Pointwise($"Polynomial({Tup(c)})", x => PolyVal(x, c));
    }

    /// <summary>Σᵢ c[i]·xⁱ by Horner's rule.</summary>
    private static Tracer PolyVal(Tracer x, double[] c)
    {
        var y = Lax.FullLike(x, c[^1]);
        for (int i = c.Length - 2; i >= 0; i--) y = c[i] == 0 ? y * x : y * x + c[i];
        return y;
    }

    /// <summary>
    /// <c>stax.Hermite(degree)</c>: the probabilists' Hermite polynomial <c>Heₙ(x)/√n!</c> (unit norm under the standard
    /// Gaussian; Neural Tangents assumes inputs of unit variance across channels).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative degree.</exception>
    public static Layer Hermite(int degree)
    {
        if (degree < 0) throw new ArgumentOutOfRangeException(nameof(degree), $"Hermite: degree must be non-negative, got {degree}");
        var c = HermiteCoefficients(degree);
        return Pointwise($"Hermite({degree})", x => PolyVal(x, c));
    }

    /// <summary>Coefficients (ascending powers) of <c>Heₙ/√n!</c> from <c>Heₖ₊₁ = x·Heₖ − k·Heₖ₋₁</c>.</summary>
    internal static double[] HermiteCoefficients(int n)
    {
        var prev = new double[n + 1]; var cur = new double[n + 1];
        cur[0] = 1;                                                  // He0 = 1
        for (int k = 0; k < n; k++)
        {
            var next = new double[n + 1];
            for (int i = 0; i < n; i++) next[i + 1] += cur[i];
            for (int i = 0; i <= n; i++) next[i] -= k * prev[i];
            prev = cur; cur = next;
        }
        double norm = Math.Sqrt(Enumerable.Range(1, n).Aggregate(1.0, (a, k) => a * k));
        return cur.Select(v => v / norm).ToArray();
    }
}
