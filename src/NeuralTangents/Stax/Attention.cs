namespace NeuralTangents.Stax;

public static partial class Stax
{
    /// <summary>
    /// <c>stax.GlobalSelfAttention(n_chan_out, n_chan_key, n_chan_val, n_heads, linear_scaling, W_key_std, W_value_std,
    /// W_query_std, W_out_std, b_std, attention_mechanism, pos_emb_type, …)</c>: multi-head scaled dot-product
    /// self-attention over every spatial position of an <c>(N, spatial…, C)</c> input, in the NTK parameterization.
    /// Per head h: keys <c>K_h = x·key_matrices[h]</c>, queries <c>Q_h</c> (<c>= K_h</c> when
    /// <paramref name="linearScaling"/>, the default, which ties the two), values <c>V_h = x·val_matrices[h]</c>,
    /// <c>G_h = mechanism(Q_h K_hᵀ · W_query_std·W_key_std / (C · n_chan_key^(1 or ½)))</c>; the heads
    /// <c>G_h V_h</c> are concatenated channel-major (<c>index = c·n_heads + h</c>) and projected:
    /// <c>y = concat · W_out · W_out_std·W_value_std / √(n_chan_val·n_heads·C) + b_std·b</c>.
    /// Parameters (Neural Tangents' tuple order and names): <c>query_matrices</c> <c>(n_heads, C, n_chan_key)</c> (only
    /// without linear scaling), <c>key_matrices</c> <c>(n_heads, C, n_chan_key)</c>, <c>val_matrices</c>
    /// <c>(n_heads, C, n_chan_val)</c>, <c>W_out</c> <c>(n_chan_val·n_heads, n_chan_out)</c>, <c>b</c> <c>(1, …, n_chan_out)</c>
    /// and <c>pos_emb</c> <c>(1, spatial…, C or n_chan_pos_emb)</c>. Positional embeddings have no decay function
    /// (<c>pos_emb_decay_fn=None</c>, whose finite-width <c>apply_fn</c> Neural Tangents does not implement either).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive size or a negative std.</exception>
    public static Layer GlobalSelfAttention(int nChanOut, int nChanKey, int nChanVal, int nHeads, bool linearScaling = true,
        double wKeyStd = 1.0, double wValueStd = 1.0, double wQueryStd = 1.0, double wOutStd = 1.0, double? bStd = null,
        AttentionMechanism attentionMechanism = AttentionMechanism.Softmax, PositionalEmbedding posEmbType = PositionalEmbedding.None,
        int? nChanPosEmb = null, double wPosEmbStd = 1.0, bool valPosEmb = false)
    {
        foreach (var (v, n) in new[] { (nChanOut, "n_chan_out"), (nChanKey, "n_chan_key"), (nChanVal, "n_chan_val"), (nHeads, "n_heads") })
            if (v < 1) throw new ArgumentOutOfRangeException(n, $"GlobalSelfAttention: {n} must be positive, got {v}");
        if (nChanPosEmb is < 1) throw new ArgumentOutOfRangeException(nameof(nChanPosEmb), $"GlobalSelfAttention: n_chan_pos_emb must be positive, got {nChanPosEmb}");
        if (new[] { wKeyStd, wValueStd, wQueryStd, wOutStd, wPosEmbStd, bStd ?? 0 }.Any(x => x < 0))
            throw new ArgumentOutOfRangeException(nameof(wKeyStd), "GlobalSelfAttention: standard deviations must be non-negative");
        double qkStd = wQueryStd * wKeyStd, ovStd = wOutStd * wValueStd;
        var parts = new List<string> { $"{nChanOut}", $"{nChanKey}", $"{nChanVal}", $"{nHeads}" };
        if (!linearScaling) parts.Add("linear_scaling=False");
        void Std(string n, double v) { if (v != 1) parts.Add($"{n}={F(v)}"); }
        Std("W_key_std", wKeyStd); Std("W_value_std", wValueStd); Std("W_query_std", wQueryStd); Std("W_out_std", wOutStd);
        if (bStd is { } b0) parts.Add("b_std=" + F(b0));
        if (attentionMechanism != AttentionMechanism.Softmax) parts.Add("attention_mechanism=" + attentionMechanism.ToString().ToUpperInvariant());
        if (posEmbType != PositionalEmbedding.None) parts.Add("pos_emb_type=" + posEmbType.ToString().ToUpperInvariant());
        if (nChanPosEmb is { } npe) parts.Add("n_chan_pos_emb=" + npe);
        Std("W_pos_emb_std", wPosEmbStd);
        if (valPosEmb) parts.Add("val_pos_emb=True");
        var desc = $"GlobalSelfAttention({string.Join(",", parts)})";

        int PosChannels(Shape s)
        {
            int c = nChanPosEmb ?? s[-1];
            if (posEmbType == PositionalEmbedding.Sum && c != s[-1])
                throw new ArgumentException($"GlobalSelfAttention: SUM positional embeddings need n_chan_pos_emb = the input channels {s[-1]}, got {c}", "nChanPosEmb");
            return c;
        }
        (int Keys, int Vals) InChannels(Shape s)
        {
            int c = s[-1];
            if (posEmbType != PositionalEmbedding.Concat) return (c, c);
            int pe = PosChannels(s);
            return (c + pe, valPosEmb ? c + pe : c);
        }
        void Check(Shape s, string what)
        {
            if (s.Rank < 3) throw new ArgumentException($"GlobalSelfAttention: inputs need a batch, at least one spatial and a channel axis, got shape {s}", what);
        }

        return Layer.Single(desc,
            (rng, s, dtype, prefix, into) =>
            {
                Check(s, "inputShape");
                var (ck, cv) = InChannels(s);
                if (!linearScaling) into.Add(prefix + "query_matrices", Tensor.RandomNormal(rng, new Shape(nHeads, ck, nChanKey), dtype));
                into.Add(prefix + "key_matrices", Tensor.RandomNormal(rng, new Shape(nHeads, ck, nChanKey), dtype));
                into.Add(prefix + "val_matrices", Tensor.RandomNormal(rng, new Shape(nHeads, cv, nChanVal), dtype));
                into.Add(prefix + "W_out", Tensor.RandomNormal(rng, new Shape(nChanVal * nHeads, nChanOut), dtype));
                if (bStd is not null)
                {
                    var bs = Enumerable.Repeat(1, s.Rank).ToArray(); bs[^1] = nChanOut;
                    into.Add(prefix + "b", Tensor.RandomNormal(rng, new Shape(bs), dtype));
                }
                if (posEmbType != PositionalEmbedding.None)
                {
                    var ps = s.ToArray(); ps[0] = 1; ps[^1] = PosChannels(s);
                    into.Add(prefix + "pos_emb", Tensor.RandomNormal(rng, new Shape(ps), dtype));
                }
                var o = s.ToArray(); o[^1] = nChanOut;
                return new Shape(o);
            },
            (p, x) =>
            {
                Check(x.Shape, "inputs");
                int n = x.Shape[0];
                var spatial = x.Shape.Skip(1).Take(x.Rank - 2).ToArray();
                int positions = spatial.Aggregate(1, (a, b) => a * b);
                Tracer keysIn = x, valsIn = x;
                if (posEmbType != PositionalEmbedding.None)
                {
                    var pe = p["pos_emb"] * wPosEmbStd;
                    if (posEmbType == PositionalEmbedding.Sum)
                    {
                        keysIn = x + pe;
                        if (valPosEmb) valsIn = keysIn;
                    }
                    else
                    {
                        var shape = x.Shape.ToArray(); shape[^1] = pe.Shape[-1];
                        keysIn = Lax.Concatenate(new[] { x, Np.To(pe, new Shape(shape)) }, x.Rank - 1);
                        if (valPosEmb) valsIn = keysIn;
                    }
                }
                Tracer Flat(Tracer t) => Lax.Reshape(t, new Shape(n, positions, t.Shape[-1]));
                // (n, S, C) · (heads, C, c) → (n, S, heads, c) → (heads, n, S, c)
                Tracer Project(Tracer t, Tracer m) => Lax.Transpose(Np.TensorDot(t, m, new[] { 2 }, new[] { 1 }), 2, 0, 1, 3);
                var k = Flat(keysIn); var v = Flat(valsIn);
                int cIn = k.Shape[-1], cVal = v.Shape[-1];
                var keys = Project(k, p["key_matrices"]);
                var queries = linearScaling ? keys : Project(k, p["query_matrices"]);
                var values = Project(v, p["val_matrices"]);
                var batch = new[] { 0, 1 };
                var logits = Lax.DotGeneral(queries, keys, new DotDimensionNumbers(new[] { 3 }, new[] { 3 }, batch, batch))
                             * (qkStd / (cIn * (linearScaling ? nChanKey : Math.Sqrt(nChanKey))));            // (heads, n, S, S)
                var g = attentionMechanism switch
                {
                    AttentionMechanism.Softmax => Np.Softmax(logits, -1),
                    AttentionMechanism.Identity => logits,
                    AttentionMechanism.Abs => Lax.Abs(logits),
                    _ => Np.Relu(logits),
                };
                var heads = Lax.DotGeneral(g, values, new DotDimensionNumbers(new[] { 3 }, new[] { 2 }, batch, batch)); // (heads, n, S, cv)
                var concat = Lax.Reshape(Lax.Transpose(heads, 1, 2, 3, 0), new Shape(n, positions, nChanVal * nHeads));
                var y = Np.TensorDot(concat, p["W_out"], new[] { 2 }, new[] { 0 }) * (ovStd / Math.Sqrt((double)nChanVal * nHeads * cVal));
                var outShape = x.Shape.ToArray(); outShape[^1] = nChanOut;
                var r = Lax.Reshape(y, new Shape(outShape));
                if (bStd is { } bs) r = r + p["b"] * bs;
                return r;
            });
    }
}
