using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;
using static NeuralTangents.Tests.StaxLayers.StaxTestUtil;

namespace NeuralTangents.Tests.StaxLayers;

/// <summary>Layer outputs against hand-written loop references and closed forms (float64).</summary>
public class LayerValueTests
{
    [Fact]
    public void LayerNormOverChannelsMatchesClosedForm()
    {
        // Row (1, 2, 3, 6): mean 3, biased variance (4 + 1 + 0 + 9)/4 = 3.5.
        var x = TestUtil.T(new double[] { 1, 2, 3, 6, -1, -1, -1, -1 }, 2, 4);
        var y = Run1(LayerNorm(), new Params(), x).ToDoubleArray();
        double s = Math.Sqrt(3.5 + 1e-12);
        TestUtil.AssertClose(new[] { -2 / s, -1 / s, 0, 3 / s, 0, 0, 0, 0 }, y, 1e-15, 1e-15);
        // eps dominates a constant row: (x − mean)/√eps = 0; a large eps shrinks the output.
        var y2 = Run1(LayerNorm(eps: 0.5), new Params(), x).ToDoubleArray();
        Assert.Equal(-2 / Math.Sqrt(4.0), y2[0], 15);
    }

    [Fact]
    public void LayerNormOverSeveralAxes()
    {
        var x = Random(3, 2, 3, 4);
        var y = Run1(LayerNorm(new[] { 1, 2 }, 1e-6), new Params(), x);
        for (int n = 0; n < 2; n++)
        {
            var v = Enumerable.Range(0, 12).Select(i => x[n, i / 4, i % 4]).ToArray();
            double m = v.Average(), var = v.Select(a => (a - m) * (a - m)).Average();
            for (int i = 0; i < 12; i++) Assert.Equal((v[i] - m) / Math.Sqrt(var + 1e-6), y[n, i / 4, i % 4], 13);
        }
        Assert.Equal("LayerNorm(axis=(1,2),eps=1E-06)", LayerNorm(new[] { 1, 2 }, 1e-6).Description);
    }

    public static IEnumerable<object[]> AttentionCases() => new[]
    {
        new object[] { true, AttentionMechanism.Softmax, PositionalEmbedding.None, false },
        new object[] { false, AttentionMechanism.Softmax, PositionalEmbedding.None, false },
        new object[] { true, AttentionMechanism.Identity, PositionalEmbedding.Sum, false },
        new object[] { false, AttentionMechanism.Relu, PositionalEmbedding.Concat, true },
        new object[] { true, AttentionMechanism.Abs, PositionalEmbedding.Concat, false },
    };

    /// <summary>Neural Tangents' apply_fn written out as loops over heads, positions and channels.</summary>
    [Theory, MemberData(nameof(AttentionCases))]
    public void GlobalSelfAttentionMatchesLoopReference(bool linear, AttentionMechanism mech, PositionalEmbedding pe, bool valPe)
    {
        int n = 2, h1 = 2, h2 = 2, c = 3, ck = 2, cv = 2, heads = 2, cout = 3;
        var layer = GlobalSelfAttention(cout, ck, cv, heads, linear, wKeyStd: 1.3, wValueStd: 0.7, wQueryStd: 0.9, wOutStd: 1.1, bStd: 0.4,
            attentionMechanism: mech, posEmbType: pe, nChanPosEmb: pe == PositionalEmbedding.Concat ? 2 : null, wPosEmbStd: 0.6, valPosEmb: valPe);
        var x = Random(1, n, h1, h2, c);
        var (shape, p) = layer.Init(2, x.Shape);
        Assert.Equal(new Shape(n, h1, h2, cout), shape);
        var y = Run1(layer, p, x);

        int S = h1 * h2;
        var K = p["key_matrices"]; var V = p["val_matrices"]; var Q = linear ? K : p["query_matrices"]; var Wo = p["W_out"]; var b = p["b"];
        for (int ex = 0; ex < n; ex++)
        {
            // Inputs per position: keys/queries input (with the embedding) and values input.
            double[][] xk = new double[S][], xv = new double[S][];
            for (int s = 0; s < S; s++)
            {
                var raw = Enumerable.Range(0, c).Select(ch => x[ex, s / h2, s % h2, ch]).ToArray();
                double[] emb = pe == PositionalEmbedding.None ? Array.Empty<double>()
                    : Enumerable.Range(0, p["pos_emb"].Shape[-1]).Select(ch => 0.6 * p["pos_emb"][0, s / h2, s % h2, ch]).ToArray();
                xk[s] = pe switch { PositionalEmbedding.Sum => raw.Zip(emb, (a, e) => a + e).ToArray(), PositionalEmbedding.Concat => raw.Concat(emb).ToArray(), _ => raw };
                xv[s] = valPe || (pe == PositionalEmbedding.Sum && valPe) ? xk[s] : raw;
            }
            int cin = xk[0].Length, cvin = xv[0].Length;
            var concat = new double[S, cv * heads];
            for (int hd = 0; hd < heads; hd++)
            {
                double Proj(double[] v, Tensor m, int j) => Enumerable.Range(0, v.Length).Sum(i => v[i] * m[hd, i, j]);
                var g = new double[S, S];
                for (int s = 0; s < S; s++)
                    for (int t = 0; t < S; t++)
                    {
                        double dot = Enumerable.Range(0, ck).Sum(j => Proj(xk[s], Q, j) * Proj(xk[t], K, j));
                        double logit = dot * 0.9 * 1.3 / (cin * (linear ? ck : Math.Sqrt(ck)));
                        g[s, t] = mech switch { AttentionMechanism.Relu => Math.Max(logit, 0), AttentionMechanism.Abs => Math.Abs(logit), _ => logit };
                    }
                if (mech == AttentionMechanism.Softmax)
                    for (int s = 0; s < S; s++)
                    {
                        double z = Enumerable.Range(0, S).Sum(t => Math.Exp(g[s, t]));
                        var row = Enumerable.Range(0, S).Select(t => Math.Exp(g[s, t]) / z).ToArray();
                        for (int t = 0; t < S; t++) g[s, t] = row[t];
                    }
                for (int s = 0; s < S; s++)
                    for (int j = 0; j < cv; j++)
                        concat[s, j * heads + hd] = Enumerable.Range(0, S).Sum(t => g[s, t] * Proj(xv[t], V, j));
            }
            for (int s = 0; s < S; s++)
                for (int o = 0; o < cout; o++)
                {
                    double v = Enumerable.Range(0, cv * heads).Sum(i => concat[s, i] * Wo[i, o]) * 1.1 * 0.7 / Math.Sqrt(cv * heads * cvin) + 0.4 * b[0, 0, 0, o];
                    Assert.Equal(v, y[ex, s / h2, s % h2, o], 13);
                }
        }
        Assert.Equal(linear ? 4 + (pe == PositionalEmbedding.None ? 0 : 1) : 5 + (pe == PositionalEmbedding.None ? 0 : 1), p.Count);
    }

    public static IEnumerable<object[]> ConvTransposeCases() => new[]
    {
        new object[] { 3, 2, Padding.Valid }, new object[] { 2, 3, Padding.Valid }, new object[] { 3, 1, Padding.Same },
        new object[] { 3, 2, Padding.Same }, new object[] { 2, 3, Padding.Same }, new object[] { 1, 2, Padding.Valid },
    };

    /// <summary>1-D transposed convolution as a scatter: y[i·s + lo − j] += x[i]·w[j] (lax.conv_transpose, no flip).</summary>
    [Theory, MemberData(nameof(ConvTransposeCases))]
    public void ConvTransposeMatchesScatterReference(int k, int s, Padding padding)
    {
        int L = 4, cin = 2, cout = 3;
        var layer = ConvTranspose(cout, new[] { k }, new[] { s }, padding, wStd: 1.5, bStd: 0.2);
        var x = Random(4, 2, L, cin);
        var (shape, p) = layer.Init(1, x.Shape);
        int size = padding == Padding.Same ? L * s : L * s + Math.Max(k - s, 0);
        Assert.Equal(new Shape(2, size, cout), shape);
        int lo = padding == Padding.Valid || s > k - 1 ? k - 1 : (k + s - 1) / 2;
        var y = Run1(layer, p, x);
        Assert.Equal(shape, y.Shape);
        var w = p["W"];
        for (int n = 0; n < 2; n++)
        {
            var r = new double[size, cout];
            for (int i = 0; i < L; i++)
                for (int j = 0; j < k; j++)
                {
                    int o = i * s + lo - j;
                    if (o < 0 || o >= size) continue;
                    for (int a = 0; a < cin; a++)
                        for (int b = 0; b < cout; b++) r[o, b] += x[n, i, a] * w[j, a, b];
                }
            for (int o = 0; o < size; o++)
                for (int b = 0; b < cout; b++)
                    Assert.Equal(r[o, b] * 1.5 / Math.Sqrt(cin * k) + 0.2 * p["b"][0, 0, b], y[n, o, b], 13);
        }
    }

    [Fact]
    public void PoolsMatchLoopReferences()
    {
        var x = Random(2, 1, 5, 4, 2);
        var sum = Run1(SumPool(new[] { 2, 3 }, new[] { 2, 1 }), new Params(), x);
        Assert.Equal(new Shape(1, 2, 2, 2), sum.Shape);
        Assert.Equal(Enumerable.Range(0, 2).Sum(a => Enumerable.Range(0, 3).Sum(b => x[0, 2 + a, 1 + b, 1])), sum[0, 1, 1, 1], 14);
        // SAME, window 3, stride 1 on 4 columns: pad (1, 1); the first window covers 2 real columns.
        var avg = Run1(AvgPool(new[] { 1, 3 }, padding: Padding.Same), new Params(), x);
        var avgN = Run1(AvgPool(new[] { 1, 3 }, padding: Padding.Same, normalizeEdges: true), new Params(), x);
        double edge = x[0, 3, 0, 0] + x[0, 3, 1, 0];
        Assert.Equal(edge / 3, avg[0, 3, 0, 0], 14);
        Assert.Equal(edge / 2, avgN[0, 3, 0, 0], 14);
        Assert.Equal(avg[0, 3, 1, 0], avgN[0, 3, 1, 0], 14);
        var gsp = Run1(GlobalSumPool(), new Params(), x);
        Assert.Equal(new Shape(1, 2), gsp.Shape);
        Assert.Equal(Enumerable.Range(0, 20).Sum(i => x[0, i / 4, i % 4, 1]), gsp[0, 1], 13);
    }

    [Fact]
    public void DropoutIsIdentityInTestModeAndASeededMaskInTrainMode()
    {
        var x = Random(5, 40, 50);
        Assert.Equal(x.ToDoubleArray(), Run1(Dropout(0.3, "test"), new Params(), x).ToDoubleArray());
        var y = Run1(Dropout(0.8, seed: 3), new Params(), x).ToDoubleArray();
        var xs = x.ToDoubleArray();
        int kept = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            if (y[i] != 0) { Assert.True(Math.Abs(xs[i] / 0.8 - y[i]) <= 1e-15 * Math.Abs(y[i])); kept++; }
        }
        // 2,000 Bernoulli(0.8) draws: the kept fraction is within 5 standard deviations (0.045) of 0.8.
        Assert.InRange(kept / 2000.0, 0.755, 0.845);
        Assert.Equal(y, Run1(Dropout(0.8, seed: 3), new Params(), x).ToDoubleArray());
        Assert.NotEqual(y, Run1(Dropout(0.8, seed: 4), new Params(), x).ToDoubleArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout(0));
        Assert.Throws<ArgumentException>(() => Dropout(0.5, "eval"));
    }

    [Fact]
    public void StandardParameterizationRescalesTheDrawsAndMatchesNtkForward()
    {
        // Same underlying N(0,1) draws: standard W = draw·W_std/√(fan_in/s0), forward x·W/√s0 + b = the ntk forward.
        var x = Random(1, 3, 6);
        var ntk = Dense(4, 1.7, 0.3);
        var std = Dense(4, 1.7, 0.3, Parameterization.Standard, (2, 1));
        var (_, pn) = ntk.Init(9, x.Shape);
        var (_, ps) = std.Init(9, x.Shape);
        TestUtil.AssertClose(pn["W"].ToDoubleArray().Select(v => v * 1.7 / Math.Sqrt(6 / 2.0)).ToArray(), ps["W"].ToDoubleArray(), 1e-15);
        TestUtil.AssertClose(pn["b"].ToDoubleArray().Select(v => v * 0.3).ToArray(), ps["b"].ToDoubleArray(), 1e-15);
        TestUtil.AssertClose(Run1(ntk, pn, x), Run1(std, ps, x), 1e-14, 1e-15);
        Assert.Equal(new Shape(3, 12), Dense(4, parameterization: Parameterization.Standard, s: (1, 3)).Init(0, x.Shape).OutputShape);

        var xc = Random(2, 2, 5, 5, 3);
        var cn = Conv(4, new[] { 3, 2 }, bStd: 0.5);
        var cs = Conv(4, new[] { 3, 2 }, bStd: 0.5, parameterization: Parameterization.Standard);
        var (_, qn) = cn.Init(3, xc.Shape); var (_, qs) = cs.Init(3, xc.Shape);
        TestUtil.AssertClose(qn["W"].ToDoubleArray().Select(v => v / Math.Sqrt(18)).ToArray(), qs["W"].ToDoubleArray(), 1e-15);
        TestUtil.AssertClose(Run1(cn, qn, xc), Run1(cs, qs, xc), 1e-14, 1e-15);
    }

    [Fact]
    public void ConvDilationAndGroupsMatchUngroupedUndilatedConvolutions()
    {
        var x = Random(1, 2, 6, 5, 4);
        // Dilation 2 on a 2×2 filter = an undilated 3×3 filter with zeros in between (fan_in counts the 2×2 taps).
        var dil = Conv(3, new[] { 2, 2 }, rhsDilation: new[] { 2, 1 });
        var (_, pd) = dil.Init(1, x.Shape);
        var w = pd["W"];
        var wide = new double[3 * 2 * 4 * 3];
        for (int a = 0; a < 2; a++) for (int b = 0; b < 2; b++) for (int i = 0; i < 4; i++) for (int o = 0; o < 3; o++)
            wide[(((2 * a) * 2 + b) * 4 + i) * 3 + o] = w[a, b, i, o];
        var plain = new Params { { "W", TestUtil.T(wide, 3, 2, 4, 3) } };
        var viaPlain = Run1(Conv(3, new[] { 3, 2 }), plain, x).ToDoubleArray().Select(v => v * Math.Sqrt(4 * 6) / Math.Sqrt(4 * 4)).ToArray();
        TestUtil.AssertClose(viaPlain, Run1(dil, pd, x).ToDoubleArray(), 1e-13, 1e-14);

        // Two feature groups = two convolutions on the channel halves, concatenated.
        var grouped = Conv(6, new[] { 2, 2 }, wStd: 1.3, featureGroupCount: 2);
        var (_, pg) = grouped.Init(2, x.Shape);
        Assert.Equal(new Shape(2, 2, 2, 6), pg["W"].Shape);
        var y = Run1(grouped, pg, x);
        for (int g = 0; g < 2; g++)
        {
            var xg = x.Slice(new[] { 0, 0, 0, 2 * g }, new[] { 2, 6, 5, 2 * g + 2 });
            var wg = pg["W"].Slice(new[] { 0, 0, 0, 3 * g }, new[] { 2, 2, 2, 3 * g + 3 });
            var yg = Run1(Conv(3, new[] { 2, 2 }, wStd: 1.3), new Params { { "W", wg } }, xg);
            var part = y.Slice(new[] { 0, 0, 0, 3 * g }, new[] { 2, 5, 4, 3 * g + 3 });
            TestUtil.AssertClose(yg.ToDoubleArray(), part.ToDoubleArray(), 1e-14, 1e-15);
        }
        Assert.Throws<ArgumentException>(() => Conv(5, new[] { 2, 2 }, featureGroupCount: 2));
    }

    /// <summary>CIRCULAR = periodic cross-correlation with SAME's offsets: y[o] = Σ_j x[(o·s + j − lo) mod L]·w[j].</summary>
    [Theory]
    [InlineData(3, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 1)]
    [InlineData(2, 3)]
    public void CircularConvAndPoolArePeriodic(int k, int s)
    {
        int L = 5, cin = 2, cout = 2;
        var x = Random(6, 2, L, cin);
        var layer = Conv(cout, new[] { k }, new[] { s }, Padding.Circular);
        var (shape, p) = layer.Init(0, x.Shape);
        int size = (L + s - 1) / s;
        Assert.Equal(new Shape(2, size, cout), shape);
        int total = Math.Max((size - 1) * s + k - L, 0), lo = total / 2;
        var y = Run1(layer, p, x);
        var pool = Run1(SumPool(new[] { k }, new[] { s }, Padding.Circular), new Params(), x);
        Assert.Equal(new Shape(2, size, cin), pool.Shape);
        for (int n = 0; n < 2; n++)
            for (int o = 0; o < size; o++)
            {
                for (int b = 0; b < cout; b++)
                {
                    double r = 0;
                    for (int j = 0; j < k; j++)
                        for (int a = 0; a < cin; a++) r += x[n, ((o * s + j - lo) % L + L) % L, a] * p["W"][j, a, b];
                    Assert.Equal(r / Math.Sqrt(cin * k), y[n, o, b], 13);
                }
                for (int a = 0; a < cin; a++)
                    Assert.Equal(Enumerable.Range(0, k).Sum(j => x[n, ((o * s + j - lo) % L + L) % L, a]), pool[n, o, a], 13);
            }
        Assert.Throws<ArgumentException>(() => ConvTranspose(2, new[] { 2 }, padding: Padding.Circular));
    }
}
