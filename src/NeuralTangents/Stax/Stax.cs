using System.Globalization;

namespace NeuralTangents.Stax;

/// <summary>
/// Layers mirroring <c>neural_tangents.stax</c> (spec §9) with its names, defaults and parameter layouts. By default
/// the 'ntk' parameterization: weights are N(0, 1) and the forward pass multiplies by <c>W_std/√fan_in</c>; a bias
/// exists only when <c>bStd</c> is given and is multiplied by <c>b_std</c>. Layouts: NHWC inputs (batch first, channels
/// last), HWIO filters. Combinators and the parameter naming scheme: see <c>Combinators.cs</c> (<see cref="Serial"/>).
/// </summary>
public static partial class Stax
{
    private static string F(double x) => x.ToString("G", CultureInfo.InvariantCulture);

    private static string Tup(IEnumerable<int> xs) => "(" + string.Join(",", xs) + ")";

    private static string Tup(IEnumerable<double> xs) => "(" + string.Join(",", xs.Select(F)) + ")";

    /// <summary><c>stax.Flatten()</c>: <c>(N, …) → (N, Π …)</c> in row-major order (NHWC flat index <c>(h·W + w)·C + c</c>).</summary>
    public static Layer Flatten() => Layer.Single("Flatten",
        (rng, s, dtype, prefix, into) => new Shape(s[0], s.Rank == 1 ? 1 : s.Dims[1..].Aggregate(1, (a, b) => a * b)),
        (p, x) => Lax.Reshape(x, new Shape(x.Shape[0], x.Rank == 1 ? 1 : x.Shape.Dims[1..].Aggregate(1, (a, b) => a * b))));

    /// <summary><c>stax.Identity()</c>: passes its input (or list of inputs) through.</summary>
    public static Layer Identity() => new("Identity", (rng, s, dtype, prefix, into) => s, (p, xs) => xs);
}
