namespace NeuralTangents.Stax;

public static partial class Stax
{
    private static string ParamText(Parameterization parameterization, (int, int) s) =>
        (parameterization == Parameterization.Standard ? ",parameterization=standard" : "") + (s != (1, 1) ? $",s=({s.Item1},{s.Item2})" : "");

    /// <summary>
    /// The W/b part shared by Dense, Conv and ConvTranspose: drawing W (then b, shape <c>(1, …, 1, width)</c>) and
    /// scaling the product, under Neural Tangents' 'ntk' or 'standard' parameterization.
    /// </summary>
    private sealed record Affine(bool Standard, double WStd, double? BStd, int S0, int Width)
    {
        /// <summary>'standard' draws W ~ N(0, W_std²·s₀/fan_in) and b ~ N(0, b_std²); 'ntk' draws both N(0, 1).</summary>
        public void Init(Random rng, Shape wShape, int rank, DType dtype, string prefix, Params into, double fanIn)
        {
            var w = Tensor.RandomNormal(rng, wShape, dtype);
            into.Add(prefix + "W", Standard ? NeuralTangents.Tensors.Ops.Elementwise.Scale(w, WStd / Math.Sqrt(fanIn / S0)) : w);
            if (BStd is { } bs0)
            {
                var bs = Enumerable.Repeat(1, rank).ToArray(); bs[^1] = Width;
                var b = Tensor.RandomNormal(rng, new Shape(bs), dtype);
                into.Add(prefix + "b", Standard ? NeuralTangents.Tensors.Ops.Elementwise.Scale(b, bs0) : b);
            }
        }

        /// <summary>'standard': <c>y/√s₀ + b</c>; 'ntk': <c>(W_std/√fan_in)·y + b_std·b</c>.</summary>
        public Tracer Output(Tracer y, ParamTracers p, double fanIn)
        {
            if (Standard)
            {
                var ys = S0 == 1 ? y : y * (1 / Math.Sqrt(S0));
                return BStd is null ? ys : ys + p["b"];
            }
            var yn = y * (WStd / Math.Sqrt(fanIn));
            if (BStd is { } bs) yn = yn + p["b"] * bs;
            return yn;
        }
    }

    private static void CheckAffine(string layer, double wStd, double? bStd, (int S0, int S1) s)
    {
        if (wStd < 0 || bStd < 0) throw new ArgumentOutOfRangeException(nameof(wStd), $"{layer}: W_std and b_std must be non-negative, got {wStd} and {(bStd is { } b ? b : "None")}");
        if (s.S0 < 1 || s.S1 < 1) throw new ArgumentOutOfRangeException(nameof(s), $"{layer}: s must be two positive integers, got ({s.S0}, {s.S1})");
    }

    /// <summary>
    /// Fully connected layer over the last axis (<c>stax.Dense(out_dim, W_std, b_std, parameterization, s)</c>).
    /// 'ntk': <c>y = (W_std/√d_in)·x·W + b_std·b</c>, W of shape <c>(d_in, outDim)</c>, b of shape <c>(1, …, outDim)</c>.
    /// 'standard': W of shape <c>(d_in, s₁·outDim)</c> drawn N(0, W_std²·s₀/d_in), b N(0, b_std²), <c>y = x·W/√s₀ + b</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outDim"/> &lt; 1, a negative std or a non-positive s.</exception>
    public static Layer Dense(int outDim, double wStd = 1.0, double? bStd = null,
        Parameterization parameterization = Parameterization.Ntk, (int S0, int S1)? s = null)
    {
        if (outDim < 1) throw new ArgumentOutOfRangeException(nameof(outDim), $"Dense: out_dim must be positive, got {outDim}");
        var sc = s ?? (1, 1);
        CheckAffine("Dense", wStd, bStd, sc);
        bool standard = parameterization == Parameterization.Standard;
        int width = standard ? outDim * sc.S1 : outDim;
        var aff = new Affine(standard, wStd, bStd, sc.S0, width);
        var desc = $"Dense({outDim}{(wStd != 1 ? ",W_std=" + F(wStd) : "")}{(bStd is { } b0 ? ",b_std=" + F(b0) : "")}{ParamText(parameterization, sc)})";
        return Layer.Single(desc,
            (rng, s, dtype, prefix, into) =>
            {
                if (s.Rank < 1) throw new ArgumentException($"Dense: input shape {s} needs at least one axis", "inputShape");
                var wShape = new Shape(s[-1], width);
                TensorSizeException.Check($"parameter {prefix}W of Dense({outDim})", wShape, "inputShape");
                aff.Init(rng, wShape, s.Rank, dtype, prefix, into, s[-1]);
                var o = s.ToArray(); o[^1] = width;
                return new Shape(o);
            },
            (p, x) =>
            {
                var w = p["W"];
                if (w.Shape[0] != x.Shape[-1])
                    throw new ArgumentException($"Dense: input channel size {x.Shape[-1]} (input shape {x.Shape}) does not match W of shape {w.Shape}");
                var prod = Np.TensorDot(x, w, new[] { x.Rank - 1 }, new[] { 0 });
                return aff.Output(prod, p, x.Shape[-1]);
            });
    }

    /// <summary>
    /// Convolution (<c>stax.Conv(out_chan, filter_shape, strides, padding, W_std, b_std, parameterization, s)</c>) on NHWC
    /// inputs (any number of spatial axes) with an HWIO filter <c>(K…, C/groups, outChan)</c>:
    /// 'ntk' <c>y = (W_std/√fan_in)·conv(x, W) + b_std·b</c> with <c>fan_in = (C/groups)·Π filter</c>, b of shape
    /// <c>(1, 1, 1, outChan)</c>; 'standard' as <see cref="Dense"/>. Cross-correlation, as XLA. SAME puts the extra pad
    /// on the high side. <paramref name="rhsDilation"/> and <paramref name="featureGroupCount"/> are
    /// <c>lax.conv_general_dilated</c>'s (Stax's Conv has neither; the defaults give Stax's layer).
    /// </summary>
    /// <exception cref="ArgumentException">Bad filter shape, strides, dilation or group count.</exception>
    public static Layer Conv(int outChan, int[] filterShape, int[]? strides = null, Padding padding = Padding.Valid,
        double wStd = 1.0, double? bStd = null, Parameterization parameterization = Parameterization.Ntk, (int S0, int S1)? s = null,
        int[]? rhsDilation = null, int featureGroupCount = 1)
    {
        ArgumentNullException.ThrowIfNull(filterShape);
        if (outChan < 1) throw new ArgumentOutOfRangeException(nameof(outChan), $"Conv: out_chan must be positive, got {outChan}");
        if (filterShape.Length == 0 || filterShape.Any(f => f < 1)) throw new ArgumentException($"Conv: filter_shape must be non-empty and positive, got ({string.Join(", ", filterShape)})", nameof(filterShape));
        int d = filterShape.Length;
        var st = strides ?? Enumerable.Repeat(1, d).ToArray();
        if (st.Length != d || st.Any(v => v < 1)) throw new ArgumentException($"Conv: strides ({string.Join(", ", st)}) must be {d} positive values", nameof(strides));
        var dil = rhsDilation ?? Enumerable.Repeat(1, d).ToArray();
        if (dil.Length != d || dil.Any(v => v < 1)) throw new ArgumentException($"Conv: rhs_dilation ({string.Join(", ", dil)}) must be {d} positive values", nameof(rhsDilation));
        if (featureGroupCount < 1) throw new ArgumentOutOfRangeException(nameof(featureGroupCount), $"Conv: feature_group_count must be positive, got {featureGroupCount}");
        var sc = s ?? (1, 1);
        CheckAffine("Conv", wStd, bStd, sc);
        bool standard = parameterization == Parameterization.Standard;
        int width = standard ? outChan * sc.S1 : outChan;
        var aff = new Affine(standard, wStd, bStd, sc.S0, width);
        if (width % featureGroupCount != 0) throw new ArgumentException($"Conv: out_chan {width} must be divisible by feature_group_count {featureGroupCount}", nameof(featureGroupCount));
        var desc = $"Conv({outChan},{Tup(filterShape)}{(strides is null ? "" : ",strides=" + Tup(st))}" +
                   $"{PaddingText(padding)}{(wStd != 1 ? ",W_std=" + F(wStd) : "")}{(bStd is { } b0 ? ",b_std=" + F(b0) : "")}" +
                   $"{ParamText(parameterization, sc)}{(rhsDilation is null ? "" : ",rhs_dilation=" + Tup(dil))}{(featureGroupCount != 1 ? ",feature_group_count=" + featureGroupCount : "")})";
        // CIRCULAR: SAME's output shape; the input is wrapped by SAME's pads, then convolved with VALID.
        ConvParams Params(Shape x, bool applying = false) => new(st, padding == Padding.Same || (padding == Padding.Circular && !applying)
                ? ConvPadding.Same(x.Dims[1..^1], filterShape, st, dil)
                : ConvPadding.Valid(d), dil, featureGroupCount);
        int FanIn(Shape x) => x[-1] / featureGroupCount * filterShape.Aggregate(1, (a, b) => a * b);
        void CheckInput(Shape x, string what)
        {
            if (x.Rank != d + 2) throw new ArgumentException($"Conv: a {d}-D filter needs inputs of rank {d + 2} (N, spatial…, C), got shape {x}", what);
            if (x[-1] % featureGroupCount != 0) throw new ArgumentException($"Conv: input channels {x[-1]} must be divisible by feature_group_count {featureGroupCount}", what);
        }
        return Layer.Single(desc,
            (rng, s, dtype, prefix, into) =>
            {
                CheckInput(s, "inputShape");
                var wShape = new Shape(filterShape.Append(s[-1] / featureGroupCount).Append(width));
                TensorSizeException.Check($"parameter {prefix}W of Conv({outChan})", wShape, "inputShape");
                aff.Init(rng, wShape, d + 2, dtype, prefix, into, FanIn(s));
                return NeuralTangents.Tensors.Kernels.Conv.InferShape(s, wShape, Params(s));
            },
            (p, x) =>
            {
                CheckInput(x.Shape, "inputs");
                var xin = padding == Padding.Circular ? WrapPad(x, ConvPadding.Same(x.Shape.Dims[1..^1], filterShape, st, dil), "Conv") : x;
                var c = Lax.Conv(xin, p["W"], Params(x.Shape, applying: true));
                return aff.Output(c, p, FanIn(x.Shape));
            });
    }

    /// <summary>
    /// Transposed convolution (<c>stax.ConvTranspose(out_chan, filter_shape, strides, padding, W_std, b_std,
    /// parameterization, s)</c>), i.e. <c>lax.conv_transpose(x, W, strides, padding)</c> without kernel flip: the input
    /// is dilated by the strides and padded (<c>k − 1</c> low and <c>k + s − 2 + max(k − s, 0) − (k − 1)</c> high for
    /// VALID; <c>k + s − 2</c> in total for SAME), then cross-correlated with the HWIO filter <c>(K…, C, outChan)</c>.
    /// Output size per spatial axis: <c>L·s + max(k − s, 0)</c> (VALID) or <c>L·s</c> (SAME). Scaling as <see cref="Conv"/>
    /// with <c>fan_in = C·Π filter</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Bad filter shape or strides.</exception>
    public static Layer ConvTranspose(int outChan, int[] filterShape, int[]? strides = null, Padding padding = Padding.Valid,
        double wStd = 1.0, double? bStd = null, Parameterization parameterization = Parameterization.Ntk, (int S0, int S1)? s = null)
    {
        ArgumentNullException.ThrowIfNull(filterShape);
        if (outChan < 1) throw new ArgumentOutOfRangeException(nameof(outChan), $"ConvTranspose: out_chan must be positive, got {outChan}");
        if (filterShape.Length == 0 || filterShape.Any(f => f < 1)) throw new ArgumentException($"ConvTranspose: filter_shape must be non-empty and positive, got ({string.Join(", ", filterShape)})", nameof(filterShape));
        int d = filterShape.Length;
        var st = strides ?? Enumerable.Repeat(1, d).ToArray();
        if (st.Length != d || st.Any(v => v < 1)) throw new ArgumentException($"ConvTranspose: strides ({string.Join(", ", st)}) must be {d} positive values", nameof(strides));
        if (padding == Padding.Circular) throw new ArgumentException("ConvTranspose: CIRCULAR padding is not supported; use SAME or VALID", nameof(padding));
        var sc = s ?? (1, 1);
        CheckAffine("ConvTranspose", wStd, bStd, sc);
        bool standard = parameterization == Parameterization.Standard;
        int width = standard ? outChan * sc.S1 : outChan;
        var aff = new Affine(standard, wStd, bStd, sc.S0, width);
        var desc = $"ConvTranspose({outChan},{Tup(filterShape)}{(strides is null ? "" : ",strides=" + Tup(st))}" +
                   $"{(padding == Padding.Same ? ",padding=SAME" : "")}{(wStd != 1 ? ",W_std=" + F(wStd) : "")}{(bStd is { } b0 ? ",b_std=" + F(b0) : "")}{ParamText(parameterization, sc)})";
        // jax.lax._conv_transpose_padding
        var pads = Enumerable.Range(0, d).Select(i =>
        {
            int k = filterShape[i], si = st[i];
            int len, lo;
            if (padding == Padding.Same) { len = k + si - 2; lo = si > k - 1 ? k - 1 : (len + 1) / 2; }
            else { len = k + si - 2 + Math.Max(k - si, 0); lo = k - 1; }
            return (Lo: lo, Hi: len - lo, Interior: si - 1);
        }).ToArray();
        var cfg = pads.Prepend((0, 0, 0)).Append((0, 0, 0)).ToArray();
        var convParams = new ConvParams(Enumerable.Repeat(1, d).ToArray(), ConvPadding.Valid(d), Enumerable.Repeat(1, d).ToArray());
        int FanIn(Shape x) => x[-1] * filterShape.Aggregate(1, (a, b) => a * b);
        void CheckInput(Shape x, string what)
        {
            if (x.Rank != d + 2) throw new ArgumentException($"ConvTranspose: a {d}-D filter needs inputs of rank {d + 2} (N, spatial…, C), got shape {x}", what);
        }
        return Layer.Single(desc,
            (rng, s, dtype, prefix, into) =>
            {
                CheckInput(s, "inputShape");
                var wShape = new Shape(filterShape.Append(s[-1]).Append(width));
                TensorSizeException.Check($"parameter {prefix}W of ConvTranspose({outChan})", wShape, "inputShape");
                aff.Init(rng, wShape, d + 2, dtype, prefix, into, FanIn(s));
                return NeuralTangents.Tensors.Kernels.Conv.InferShape(Structural.PadShape(s, cfg), wShape, convParams);
            },
            (p, x) =>
            {
                CheckInput(x.Shape, "inputs");
                var c = Lax.Conv(Lax.Pad(x, 0, cfg), p["W"], convParams);
                return aff.Output(c, p, FanIn(x.Shape));
            });
    }
}
