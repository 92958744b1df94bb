using System.Globalization;

namespace NeuralTangents.Stax;

/// <summary>
/// Layers mirroring <c>neural_tangents.stax</c> (docs/conventions.md#layers) with its names, defaults and parameter layouts. By default
/// the 'ntk' parameterization: weights are N(0, 1) and the forward pass multiplies by <c>W_std/√fan_in</c>; a bias
/// exists only when <c>bStd</c> is given and is multiplied by <c>b_std</c>. Layouts: NHWC inputs (batch first, channels
/// last), HWIO filters. Combinators and the parameter naming scheme: see <c>Combinators.cs</c> (<see cref="Serial"/>).
/// </summary>
public static partial class Stax
{
    private static string F(double x) => x.ToString("G", CultureInfo.InvariantCulture);

    private static string Tup(IEnumerable<int> xs) => "(" + string.Join(",", xs) + ")";

    private static string Tup(IEnumerable<double> xs) => "(" + string.Join(",", xs.Select(F)) + ")";

    private static string PaddingText(Padding padding) => padding switch { Padding.Same => ",padding=SAME", Padding.Circular => ",padding=CIRCULAR", _ => "" };

    /// <summary>Wraps spatial axes 1…d of an NHWC tensor around by (lo, hi) (CIRCULAR padding).</summary>
    private static Tracer WrapPad(Tracer x, (int Lo, int Hi)[] pads, string layer)
    {
        for (int i = 0; i < pads.Length; i++)
        {
            int a = i + 1, n = x.Shape[a];
            var (lo, hi) = pads[i];
            if (lo > n || hi > n)
                throw new ArgumentException($"{layer}: CIRCULAR padding ({lo}, {hi}) exceeds the size {n} of spatial axis {a} (input shape {x.Shape})");
            if (lo == 0 && hi == 0) continue;
            Tracer Part(int from, int to)
            {
                var start = new int[x.Rank]; var limit = x.Shape.ToArray();
                start[a] = from; limit[a] = to;
                return Lax.Slice(x, start, limit);
            }
            var parts = new List<Tracer>();
            if (lo > 0) parts.Add(Part(n - lo, n));
            parts.Add(x);
            if (hi > 0) parts.Add(Part(0, hi));
            x = Lax.Concatenate(parts, a);
        }
        return x;
    }

    /// <summary><c>stax.Flatten()</c>: <c>(N, …) → (N, Π …)</c> in row-major order (NHWC flat index <c>(h·W + w)·C + c</c>).</summary>
    public static Layer Flatten() => Layer.Single("Flatten",
        (rng, s, dtype, prefix, into) => new Shape(s[0], s.Rank == 1 ? 1 : s.Dims[1..].Aggregate(1, (a, b) => a * b)),
        (p, x) => Lax.Reshape(x, new Shape(x.Shape[0], x.Rank == 1 ? 1 : x.Shape.Dims[1..].Aggregate(1, (a, b) => a * b))));

    /// <summary><c>stax.Identity()</c>: passes its input (or list of inputs) through.</summary>
    public static Layer Identity() => new("Identity", (rng, s, dtype, prefix, into) => s, (p, xs) => xs);
}
