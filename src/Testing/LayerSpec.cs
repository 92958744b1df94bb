using System.Globalization;
using NeuralTangents.Stax;

namespace NeuralTangents.Testing;

/// <summary>The kinds of layer <see cref="NetworkGen"/> draws.</summary>
public enum LayerKind
{
    /// <summary><c>Dense(Width, W_std, b_std)</c>.</summary>
    Dense,
    /// <summary><c>Conv(Width, (Filter, Filter), padding, W_std, b_std)</c> over (N, H, W, C) inputs.</summary>
    Conv,
    /// <summary><c>Relu</c>.</summary>
    Relu,
    /// <summary><c>Erf</c>.</summary>
    Erf,
    /// <summary><c>Sin</c>.</summary>
    Sin,
    /// <summary><c>Flatten</c>.</summary>
    Flatten,
    /// <summary><c>GlobalAvgPool</c>.</summary>
    GlobalAvgPool,
}

/// <summary>One layer of a generated network, as plain data so that it can be shrunk and printed.</summary>
/// <param name="Kind">The layer.</param>
/// <param name="Width">Output units (Dense) or channels (Conv); unused otherwise.</param>
/// <param name="WStd">Weight standard deviation (Dense, Conv).</param>
/// <param name="BStd">Bias standard deviation, or null for no bias (Dense, Conv).</param>
/// <param name="Filter">Square filter size (Conv).</param>
/// <param name="Same">SAME padding instead of VALID (Conv).</param>
public sealed record LayerSpec(LayerKind Kind, int Width = 0, double WStd = 1, double? BStd = null, int Filter = 1, bool Same = false)
{
    /// <summary>The Stax layer.</summary>
    public Layer ToLayer() => Kind switch
    {
        LayerKind.Dense => Stax.Stax.Dense(Width, WStd, BStd),
        LayerKind.Conv => Stax.Stax.Conv(Width, [Filter, Filter], padding: Same ? Padding.Same : Padding.Valid, wStd: WStd, bStd: BStd),
        LayerKind.Relu => Stax.Stax.Relu(),
        LayerKind.Erf => Stax.Stax.Erf(),
        LayerKind.Sin => Stax.Stax.Sin(),
        LayerKind.Flatten => Stax.Stax.Flatten(),
        LayerKind.GlobalAvgPool => Stax.Stax.GlobalAvgPool(),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown layer kind"),
    };

    /// <summary>Whether the layer has parameters.</summary>
    public bool HasWeights => Kind is LayerKind.Dense or LayerKind.Conv;

    /// <summary>The layer in <c>nt --net</c> syntax (Stax's description).</summary>
    public override string ToString() => ToLayer().Description;

    internal static string F(double x) => x.ToString("0.###", CultureInfo.InvariantCulture);
}
