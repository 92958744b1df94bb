using NeuralTangents.Cli;

namespace NeuralTangents.Tests.Cli;

public sealed class NetSpecTests
{
    [Theory]
    [InlineData("Dense(10)")]
    [InlineData("Dense(10,W_std=1.5,b_std=0.1)")]
    [InlineData("Conv(32,(3,3)),Relu,Conv(32,(3,3),padding=SAME,b_std=0.1),Relu,Flatten,Dense(10,W_std=1.5)")]
    [InlineData("Conv(8,(2,3),strides=(2,1),padding=SAME,W_std=2,b_std=0.05)")]
    [InlineData("AvgPool((2,2)),AvgPool((3,3),strides=(2,2),padding=SAME),GlobalAvgPool,Identity")]
    [InlineData("Erf,Sin,Erf(a=2,b=0.5,c=0.1),Sin(a=1,b=3,c=-0.5)")]
    [InlineData("Conv(16,(3,3),padding=SAME),FanOut(2),Parallel(Serial(Relu,Conv(16,(3,3),padding=SAME)),Identity),FanInSum,GlobalAvgPool,Dense(10)")]
    [InlineData("Dense(4),Repeat(Serial(Dense(4,parameterization=standard,s=(2,2)),Gelu(approximate=True)),3),FanOut(3),Parallel(Tanh,Sign,Abs),FanInConcat(0),FanInConcat")]
    [InlineData("ABRelu(-0.5,2),LeakyRelu(0.1),Sigmoid_like,Gelu,Cos(a=2,b=1,c=0),Exp(a=1.5,b=-0.5),Gaussian,Rbf(0.5),Monomial(3),RectifiedMonomial(2),Polynomial((1,-2,0.5)),Hermite(4)")]
    [InlineData("Conv(6,(2,2),rhs_dilation=(2,1),feature_group_count=2),ConvTranspose(3,(2,2),strides=(2,2),padding=SAME,b_std=0.1),SumPool((2,2)),AvgPool((3,3),padding=SAME,normalize_edges=True),GlobalSumPool")]
    [InlineData("Conv(4,(3,3),strides=(2,1),padding=CIRCULAR),AvgPool((2,2),padding=CIRCULAR),SumPool((3,3),strides=(2,2),padding=CIRCULAR)")]
    [InlineData("LayerNorm,LayerNorm(axis=(1,2),eps=1E-06),Dropout(0.9),Dropout(0.5,mode=test,seed=2),FanOut(2),FanInProd")]
    [InlineData("GlobalSelfAttention(8,4,2,4),GlobalSelfAttention(8,4,2,2,linear_scaling=False,W_key_std=2,b_std=0.1,attention_mechanism=RELU,pos_emb_type=CONCAT,n_chan_pos_emb=3,val_pos_emb=True)")]
    public void Descriptions_round_trip(string spec)
    {
        var layer = NetSpec.Parse(spec);
        Assert.Equal(spec, layer.Description);
        Assert.Equal(spec, NetSpec.Parse(layer.Description).Description);
    }

    [Theory]
    [InlineData("Dense(10, 1.5, 0.1)", "Dense(10,W_std=1.5,b_std=0.1)")]
    [InlineData("  dense ( 10 , b_std = 0.1 , w_std = 1.5 )  ", "Dense(10,W_std=1.5,b_std=0.1)")]
    [InlineData("Relu(), Relu, RELU()", "Relu,Relu,Relu")]
    [InlineData("Conv(4, (3, 3), (1, 1), 'SAME', 1.0, None)", "Conv(4,(3,3),strides=(1,1),padding=SAME)")]
    [InlineData("Conv(out_chan=4, filter_shape=[3,3], padding=\"valid\")", "Conv(4,(3,3))")]
    [InlineData("Conv(4,(3,)),AvgPool(window_shape=(2,))", "Conv(4,(3)),AvgPool((2))")]
    [InlineData("Dense(3, b_std=None), Erf(2), Sin(1, 2)", "Dense(3),Erf(a=2,b=1,c=0),Sin(a=1,b=2,c=0)")]
    [InlineData("Dense(1,W_std=1e-1,b_std=.5)", "Dense(1,W_std=0.1,b_std=0.5)")]
    public void Positional_keyword_case_and_whitespace_variants(string spec, string canonical) =>
        Assert.Equal(canonical, NetSpec.Parse(spec).Description);

    [Fact]
    public void Parsed_net_initialises_like_the_direct_stax_call()
    {
        var parsed = NetSpec.Parse("Dense(4, b_std=0.5), Relu, Dense(3, W_std=2)");
        var direct = Stax.Stax.Serial(Stax.Stax.Dense(4, bStd: 0.5), Stax.Stax.Relu(), Stax.Stax.Dense(3, wStd: 2));
        var (s1, p1) = parsed.Init(5, new Shape(2, 6));
        var (s2, p2) = direct.Init(5, new Shape(2, 6));
        Assert.Equal(s2, s1);
        Assert.Equal(p2.Keys, p1.Keys);
        foreach (var k in p1.Keys) Assert.Equal(p2[k].ToDoubleArray(), p1[k].ToDoubleArray());
    }

    [Theory]
    [InlineData("Dense(10),Foo(3)", 11, "unknown layer 'Foo'; known layers: Dense, Conv, ConvTranspose, AvgPool, SumPool, Relu, Erf, Sin, Flatten, GlobalAvgPool, Identity, GlobalSumPool")]
    [InlineData("FanOut(2),Parallel(Serial(Relu,Conv(16,(3,3),padding=SAME),Dense(3,W_std=x)),Identity),FanInSum", 74, "Dense argument 'W_std' expects a number")]
    [InlineData("FanOut(2),Parallel(Serial(Relu,Foo),Identity)", 32, "unknown layer 'Foo'")]
    [InlineData("FanOut(2),Parallel(Serial(Relu,Dense(3)),Identity", 50, "expected ')' to close the arguments of Parallel, got the end of the spec")]
    [InlineData("Repeat(Dense(3))", 1, "Repeat needs argument 'n'")]
    [InlineData("Repeat(3, 2)", 8, "expected a layer")]
    [InlineData("Serial()", 1, "Serial needs at least one layer")]
    [InlineData("Parallel(Relu, axis=1)", 16, "Parallel takes layers as positional arguments only")]
    [InlineData("Elementwise(fn)", 1, "Elementwise takes a function")]
    [InlineData("Dense(3, parameterization=mean)", 27, "Dense argument 'parameterization' expects ntk or standard, got mean")]
    [InlineData("GlobalSelfAttention(8,4,2,4,attention_mechanism=MAX)", 49, "expects SOFTMAX, IDENTITY, ABS or RELU")]
    [InlineData("Dropout(1.5)", 1, "Dropout: rate (the keep probability) must be in (0, 1], got 1.5")]
    [InlineData("Dense(10", 9, "expected ')' to close the arguments of Dense, got the end of the spec")]
    [InlineData("Dense(10),", 11, "expected a layer name")]
    [InlineData("", 1, "expected a layer name")]
    [InlineData("Dense(10) Relu", 11, "expected ',' or the end of the spec after a layer, got 'Relu'")]
    [InlineData("Dense(1.5)", 7, "Dense argument 'out_dim' expects an integer, got 1.5")]
    [InlineData("Dense()", 1, "Dense needs argument 'out_dim'")]
    [InlineData("Dense(10, x=1)", 11, "Dense has no argument 'x'; expected one of out_dim, W_std, b_std")]
    [InlineData("Dense(10, W_std=1, W_std=2)", 20, "argument 'W_std' given twice")]
    [InlineData("Dense(10, 1, 2, ntk, (1,1), 3)", 29, "Dense takes at most 5 positional arguments")]
    [InlineData("Dense(W_std=1, 10)", 16, "positional argument after keyword argument 'W_std'")]
    [InlineData("Relu(1)", 6, "Relu takes at most 0 positional arguments")]
    [InlineData("Conv(8, 3)", 9, "Conv argument 'filter_shape' expects a non-empty tuple of integers like (3,3)")]
    [InlineData("Conv(8, (3,3), padding=FULL)", 24, "Conv argument 'padding' expects SAME, VALID or CIRCULAR, got FULL")]
    [InlineData("Dense(0)", 1, "Dense: out_dim must be positive, got 0")]
    [InlineData("Dense(10) ; Relu", 11, "unexpected character ';'")]
    [InlineData("Dense(10, W_std='a)", 17, "unterminated string")]
    public void Errors_name_the_column_and_what_was_expected(string spec, int column, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => NetSpec.Parse(spec));
        Assert.StartsWith($"net spec, column {column}: ", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Nested_spec_names_parameters_like_the_params_tree()
    {
        var (_, p) = NetSpec.Parse("Conv(4,(3,3),padding=SAME),FanOut(2),Parallel(Serial(Relu,Conv(4,(3,3),padding=SAME)),Identity),FanInSum,GlobalAvgPool,Dense(10)")
            .Init(0, new Shape(2, 5, 5, 1));
        Assert.Equal(new[] { "0.W", "2.0.1.W", "5.W" }, p.Keys);
    }
}
