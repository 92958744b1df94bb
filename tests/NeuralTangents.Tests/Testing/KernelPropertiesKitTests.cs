using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NeuralTangents.Cli;
using NeuralTangents.Testing;

namespace NeuralTangents.Tests.Testing;

/// <summary>NeuralTangents.Testing on our own kernels: random Stax networks (FCN and CNN, all axes) and shrinking.</summary>
public class KernelPropertiesKitTests
{
    [Property(Arbitrary = [typeof(StaxArbitraries)], MaxTest = 30)]
    public Property Same_input_kernels_are_symmetric(NetworkCase net) => KernelProperties.Symmetric(net);

    [Property(Arbitrary = [typeof(StaxArbitraries)], MaxTest = 30)]
    public Property Same_input_kernels_are_psd(NetworkCase net) => KernelProperties.Psd(net, tolerance: 1e-10);

    [Property(Arbitrary = [typeof(StaxArbitraries)], MaxTest = 30)]
    public Property The_three_implementations_agree(NetworkCase net) => KernelProperties.ImplementationsAgree(net, tolerance: 1e-10);

    [Property(Arbitrary = [typeof(StaxArbitraries)], MaxTest = 12)]
    public Property Kernels_match_finite_differences(NetworkCase net) => KernelProperties.MatchesFiniteDifferences(net, tolerance: 1e-6);

    [Property(Arbitrary = [typeof(StaxArbitraries)], MaxTest = 50)]
    public bool Generated_specs_parse_back_with_nt_and_give_the_same_network(NetworkCase net)
    {
        var parsed = NetSpec.Parse(net.Spec);
        return parsed.Description == net.Spec && parsed.Init(net.ParamSeed, net.InputShape).OutputShape == net.OutputShape;
    }

    [Fact]
    public void Shrinking_ends_at_the_smallest_failing_network_printed_as_an_nt_spec()
    {
        // False for every network with a hidden layer wider than 1: the smallest counterexample is one hidden
        // Dense(2) block (or Conv with 2 channels) before the output layer, with the smallest inputs.
        var prop = Prop.ForAll(NetworkGen.Arbitrary(new NetworkGenOptions(MaxHidden: 2, MaxWidth: 6)),
            c => c.Layers.Take(c.Layers.Count - 1).All(l => !l.HasWeights || l.Width < 2));
        var e = Assert.ThrowsAny<Exception>(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(200).WithReplay(7, 11), prop));
        var m = System.Text.RegularExpressions.Regex.Matches(e.Message, "nt kernel --net \"([^\"]*)\"").Last();
        Assert.Contains("Shrunk", e.Message);
        Assert.True(m.Success, e.Message);
        var spec = m.Groups[1].Value;
        Assert.Matches(@"^(Dense\(2\),Relu|Conv\(2,\(1,1\)\),Relu,Flatten),Dense\(1\)$", spec);
        var shrunk = e.Message[e.Message.LastIndexOf("nt kernel --net", StringComparison.Ordinal)..];
        Assert.Contains("x1 (1, 1", shrunk);     // batch 1 and the smallest feature/spatial sizes
        Assert.Contains("x2 = x1", shrunk);
    }

    [Fact]
    public void Shrink_candidates_are_valid_and_smaller()
    {
        var gen = NetworkGen.Networks();
        foreach (var c in gen.Sample(40, 100).Take(40))
        {
            Assert.True(c.IsValid(), c.ToString());
            foreach (var s in NetworkGen.Shrink(c))
            {
                Assert.True(s.IsValid(), s.ToString());
                Assert.NotEqual(c, s);
            }
        }
    }
}
