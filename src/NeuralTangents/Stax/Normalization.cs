namespace NeuralTangents.Stax;

public static partial class Stax
{
    /// <summary>
    /// <c>stax.LayerNorm(axis, eps)</c>: <c>(x − mean) / √(eps + var)</c> with the mean and the (biased) variance over
    /// <paramref name="axis"/> (default the last, channel, axis; several axes allowed). No learned scale or shift, as in
    /// Neural Tangents.
    /// </summary>
    /// <exception cref="ArgumentException">No axes, or eps &lt; 0.</exception>
    public static Layer LayerNorm(int[]? axis = null, double eps = 1e-12)
    {
        var axes = axis ?? new[] { -1 };
        if (axes.Length == 0) throw new ArgumentException("LayerNorm: axis must name at least one axis", nameof(axis));
        if (eps < 0) throw new ArgumentOutOfRangeException(nameof(eps), $"LayerNorm: eps must be non-negative, got {eps}");
        var desc = axes is [-1] && eps == 1e-12 ? "LayerNorm"
            : $"LayerNorm({(axes is [-1] ? "" : "axis=" + (axes.Length == 1 ? axes[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : Tup(axes)))}" +
              $"{(axes is [-1] || eps == 1e-12 ? "" : ",")}{(eps == 1e-12 ? "" : "eps=" + F(eps))})";
        return Layer.Single(desc,
            (rng, s, dtype, prefix, into) =>
            {
                foreach (var a in axes) s.NormalizeAxis(a, "axis");
                return s;
            },
            (p, x) =>
            {
                var ax = Lax.Norm(x, axes).Distinct().ToArray();
                var kept = Enumerable.Range(0, x.Rank).Where(a => !ax.Contains(a)).ToArray();
                var mean = Lax.BroadcastInDim(Np.Mean(x, ax), x.Shape, kept);
                var centered = x - mean;
                var variance = Lax.BroadcastInDim(Np.Mean(centered * centered, ax), x.Shape, kept);
                return centered * Lax.Rsqrt(variance + eps);
            });
    }

    /// <summary>
    /// <c>stax.Dropout(rate, mode)</c>. As in Neural Tangents, <paramref name="rate"/> is the KEEP probability. In
    /// <c>"test"</c> mode the layer is the identity; in <c>"train"</c> mode (the Stax default) it keeps each element
    /// with probability <c>rate</c> and scales kept ones by <c>1/rate</c>, with a Bernoulli mask drawn from
    /// <c>System.Random(<paramref name="seed"/>)</c> over the shape the layer is traced with (JAX passes an <c>rng</c>
    /// to <c>apply_fn</c> instead). The mask is a constant of the traced function, so the kernel is that of one fixed
    /// dropout network; under <c>vmapAxes</c> the function is traced per example and every example shares one mask
    /// (as a shared <c>rng</c> under <c>vmap</c> in Neural Tangents).
    /// </summary>
    /// <exception cref="ArgumentException">rate outside (0, 1] or a mode other than "train"/"test".</exception>
    public static Layer Dropout(double rate, string mode = "train", int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(mode);
        if (mode is not ("train" or "test")) throw new ArgumentException($"Dropout: mode must be \"train\" or \"test\", got \"{mode}\"", nameof(mode));
        if (!(rate > 0 && rate <= 1)) throw new ArgumentOutOfRangeException(nameof(rate), $"Dropout: rate (the keep probability) must be in (0, 1], got {rate}");
        var desc = $"Dropout({F(rate)}{(mode == "train" ? "" : ",mode=test")}{(seed != 0 ? ",seed=" + seed : "")})";
        if (mode == "test" || rate == 1) return Pointwise(desc, x => x);
        return Pointwise(desc, x =>
        {
            var rng = new Random(seed);
            var mask = new double[x.Shape.Size];
            for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextDouble() < rate ? 1 / rate : 0;
            return x * x.Builder.Constant(Tensor.FromArray(mask, x.Shape).AsType(x.DType));
        });
    }
}
