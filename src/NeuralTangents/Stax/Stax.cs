using System.Globalization;

namespace NeuralTangents.Stax;

/// <summary>
/// Layers mirroring <c>neural_tangents.stax</c> (spec §9) with its defaults and the 'ntk' parameterization:
/// weights are N(0, 1) and the forward pass multiplies by <c>W_std/√fan_in</c>; a bias exists only when
/// <c>bStd</c> is given and is multiplied by <c>b_std</c>. Layouts: NHWC inputs, HWIO filters.
/// </summary>
public static class Stax
{
    private static string F(double x) => x.ToString("G", CultureInfo.InvariantCulture);

    /// <summary>Composes layers in order (<c>stax.serial</c>); parameters of layer i are named <c>"i.W"</c>, <c>"i.b"</c>.</summary>
    public static Layer Serial(params Layer[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return new Layer(string.Join(",", layers.Select(l => l.Description)),
            (rng, shape, dtype, prefix, into) =>
            {
                for (int i = 0; i < layers.Length; i++)
                    shape = layers[i].InitInto(rng, shape, dtype, $"{prefix}{i}.", into);
                return shape;
            },
            (p, x) =>
            {
                for (int i = 0; i < layers.Length; i++) x = layers[i].Apply(p.Scope(i.ToString(CultureInfo.InvariantCulture)), x);
                return x;
            });
    }

    /// <summary>
    /// Fully connected layer over the last axis (<c>stax.Dense(out_dim, W_std, b_std)</c>):
    /// <c>y = (W_std/√d_in)·x·W + b_std·b</c>, W of shape <c>(d_in, outDim)</c>, b of shape <c>(1, outDim)</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outDim"/> &lt; 1 or a negative std.</exception>
    public static Layer Dense(int outDim, double wStd = 1.0, double? bStd = null)
    {
        if (outDim < 1) throw new ArgumentOutOfRangeException(nameof(outDim), $"Dense: out_dim must be positive, got {outDim}");
        if (wStd < 0 || bStd < 0) throw new ArgumentOutOfRangeException(nameof(wStd), $"Dense: W_std and b_std must be non-negative, got {wStd} and {bStd}");
        var desc = $"Dense({outDim}{(wStd != 1 ? ",W_std=" + F(wStd) : "")}{(bStd is { } b0 ? ",b_std=" + F(b0) : "")})";
        return new Layer(desc,
            (rng, s, dtype, prefix, into) =>
            {
                if (s.Rank < 1) throw new ArgumentException($"Dense: input shape {s} needs at least one axis", "inputShape");
                var wShape = new Shape(s[-1], outDim);
                TensorSizeException.Check($"parameter {prefix}W of Dense({outDim})", wShape, "inputShape");
                into.Add(prefix + "W", Tensor.RandomNormal(rng, wShape, dtype));
                if (bStd is not null)
                {
                    var bs = Enumerable.Repeat(1, s.Rank).ToArray(); bs[^1] = outDim;
                    into.Add(prefix + "b", Tensor.RandomNormal(rng, new Shape(bs), dtype));
                }
                var o = s.ToArray(); o[^1] = outDim;
                return new Shape(o);
            },
            (p, x) =>
            {
                var w = p["W"];
                if (w.Shape[0] != x.Shape[-1])
                    throw new ArgumentException($"Dense: input channel size {x.Shape[-1]} (input shape {x.Shape}) does not match W of shape {w.Shape}");
                var y = Np.TensorDot(x, w, new[] { x.Rank - 1 }, new[] { 0 }) * (wStd / Math.Sqrt(x.Shape[-1]));
                if (bStd is { } bs) y = y + p["b"] * bs;
                return y;
            });
    }

    /// <summary>
    /// Convolution (<c>stax.Conv(out_chan, filter_shape, strides, padding, W_std, b_std)</c>) on NHWC inputs (any number
    /// of spatial axes) with an HWIO filter: <c>y = (W_std/√(C_in·Π filter))·conv(x, W) + b_std·b</c>, b of shape
    /// <c>(1, 1, 1, outChan)</c>. Cross-correlation, as XLA. SAME puts the extra pad on the high side.
    /// </summary>
    /// <exception cref="ArgumentException">Bad filter shape or strides.</exception>
    public static Layer Conv(int outChan, int[] filterShape, int[]? strides = null, Padding padding = Padding.Valid,
        double wStd = 1.0, double? bStd = null)
    {
        ArgumentNullException.ThrowIfNull(filterShape);
        if (outChan < 1) throw new ArgumentOutOfRangeException(nameof(outChan), $"Conv: out_chan must be positive, got {outChan}");
        if (filterShape.Length == 0 || filterShape.Any(f => f < 1)) throw new ArgumentException($"Conv: filter_shape must be non-empty and positive, got ({string.Join(", ", filterShape)})", nameof(filterShape));
        int d = filterShape.Length;
        var st = strides ?? Enumerable.Repeat(1, d).ToArray();
        if (st.Length != d || st.Any(s => s < 1)) throw new ArgumentException($"Conv: strides ({string.Join(", ", st)}) must be {d} positive values", nameof(strides));
        var desc = $"Conv({outChan},({string.Join(",", filterShape)}){(strides is null ? "" : ",strides=(" + string.Join(",", st) + ")")}" +
                   $"{(padding == Padding.Same ? ",padding=SAME" : "")}{(wStd != 1 ? ",W_std=" + F(wStd) : "")}{(bStd is { } b0 ? ",b_std=" + F(b0) : "")})";
        ConvParams Params(Shape x) => new(st, padding == Padding.Same
                ? ConvPadding.Same(x.Dims[1..^1], filterShape, st, Enumerable.Repeat(1, d).ToArray())
                : ConvPadding.Valid(d), Enumerable.Repeat(1, d).ToArray());
        return new Layer(desc,
            (rng, s, dtype, prefix, into) =>
            {
                if (s.Rank != d + 2) throw new ArgumentException($"Conv: a {d}-D filter needs inputs of rank {d + 2} (N, spatial…, C), got shape {s}", "inputShape");
                var wShape = new Shape(filterShape.Append(s[-1]).Append(outChan));
                TensorSizeException.Check($"parameter {prefix}W of Conv({outChan})", wShape, "inputShape");
                into.Add(prefix + "W", Tensor.RandomNormal(rng, wShape, dtype));
                if (bStd is not null)
                {
                    var bs = Enumerable.Repeat(1, d + 2).ToArray(); bs[^1] = outChan;
                    into.Add(prefix + "b", Tensor.RandomNormal(rng, new Shape(bs), dtype));
                }
                return NeuralTangents.Tensors.Conv.InferShape(s, wShape, Params(s));
            },
            (p, x) =>
            {
                if (x.Rank != d + 2) throw new ArgumentException($"Conv: a {d}-D filter needs inputs of rank {d + 2} (N, spatial…, C), got shape {x.Shape}");
                int fanIn = x.Shape[-1] * filterShape.Aggregate(1, (a, b) => a * b);
                var y = Lax.Conv(x, p["W"], Params(x.Shape)) * (wStd / Math.Sqrt(fanIn));
                if (bStd is { } bs) y = y + p["b"] * bs;
                return y;
            });
    }

    private static Layer Elementwise(string desc, Func<Tracer, Tracer> f) =>
        new(desc, (rng, s, dtype, prefix, into) => s, (p, x) => f(x));

    /// <summary><c>stax.Relu()</c>: <c>max(x, 0)</c>, with derivative 0.5 at exactly 0 as in JAX.</summary>
    public static Layer Relu() => Elementwise("Relu", Np.Relu);

    /// <summary><c>stax.Erf(a, b, c)</c>: <c>a·erf(b·x) + c</c>.</summary>
    public static Layer Erf(double a = 1, double b = 1, double c = 0) =>
        Elementwise(a == 1 && b == 1 && c == 0 ? "Erf" : $"Erf(a={F(a)},b={F(b)},c={F(c)})", x =>
        {
            var y = Lax.Erf(b == 1 ? x : x * b);
            if (a != 1) y = y * a;
            return c != 0 ? y + c : y;
        });

    /// <summary><c>stax.Sin(a, b, c)</c>: <c>a·sin(b·x + c)</c>.</summary>
    public static Layer Sin(double a = 1, double b = 1, double c = 0) =>
        Elementwise(a == 1 && b == 1 && c == 0 ? "Sin" : $"Sin(a={F(a)},b={F(b)},c={F(c)})", x =>
        {
            var z = b == 1 ? x : x * b;
            var y = Lax.Sin(c != 0 ? z + c : z);
            return a != 1 ? y * a : y;
        });

    /// <summary><c>stax.Flatten()</c>: <c>(N, …) → (N, Π …)</c> in row-major order (NHWC flat index <c>(h·W + w)·C + c</c>).</summary>
    public static Layer Flatten() => new("Flatten",
        (rng, s, dtype, prefix, into) => new Shape(s[0], s.Rank == 1 ? 1 : s.Dims[1..].Aggregate(1, (a, b) => a * b)),
        (p, x) => Lax.Reshape(x, new Shape(x.Shape[0], x.Rank == 1 ? 1 : x.Shape.Dims[1..].Aggregate(1, (a, b) => a * b))));

    /// <summary><c>stax.GlobalAvgPool()</c>: mean over every axis but the batch (first) and channel (last).</summary>
    public static Layer GlobalAvgPool() => new("GlobalAvgPool",
        (rng, s, dtype, prefix, into) => new Shape(s[0], s[-1]),
        (p, x) => x.Rank <= 2 ? x : Np.Mean(x, Enumerable.Range(1, x.Rank - 2).ToArray()));

    /// <summary>
    /// <c>stax.AvgPool(window_shape, strides, padding)</c> over the spatial axes of NHWC inputs: window sums divided
    /// by <c>Π window</c> (<c>normalize_edges=False</c>). Strides default to 1, as in Stax.
    /// </summary>
    /// <exception cref="ArgumentException">Bad window or strides.</exception>
    public static Layer AvgPool(int[] windowShape, int[]? strides = null, Padding padding = Padding.Valid)
    {
        ArgumentNullException.ThrowIfNull(windowShape);
        int d = windowShape.Length;
        var st = strides ?? Enumerable.Repeat(1, d).ToArray();
        if (d == 0 || windowShape.Any(w => w < 1) || st.Length != d || st.Any(s => s < 1))
            throw new ArgumentException($"AvgPool: window ({string.Join(", ", windowShape)}) and strides ({string.Join(", ", st)}) must be {d} positive values", nameof(windowShape));
        (int[] w, int[] s, (int, int)[] pad) Cfg(Shape x)
        {
            var sp = padding == Padding.Same
                ? ConvPadding.Same(x.Dims[1..^1], windowShape, st, Enumerable.Repeat(1, d).ToArray())
                : ConvPadding.Valid(d);
            return (windowShape.Prepend(1).Append(1).ToArray(), st.Prepend(1).Append(1).ToArray(), sp.Prepend((0, 0)).Append((0, 0)).ToArray());
        }
        double norm = windowShape.Aggregate(1.0, (a, b) => a * b);
        return new Layer($"AvgPool(({string.Join(",", windowShape)}){(strides is null ? "" : ",strides=(" + string.Join(",", st) + ")")}{(padding == Padding.Same ? ",padding=SAME" : "")})",
            (rng, s, dtype, prefix, into) =>
            {
                if (s.Rank != d + 2) throw new ArgumentException($"AvgPool: a {d}-D window needs inputs of rank {d + 2}, got shape {s}", "inputShape");
                var (w, ss, pad) = Cfg(s);
                return ReduceWindow.SumInferShape(s, w, ss, pad);
            },
            (p, x) =>
            {
                var (w, ss, pad) = Cfg(x.Shape);
                return Lax.ReduceWindowSum(x, w, ss, pad) / norm;
            });
    }

    /// <summary><c>stax.Identity()</c>.</summary>
    public static Layer Identity() => Elementwise("Identity", x => x);
}
