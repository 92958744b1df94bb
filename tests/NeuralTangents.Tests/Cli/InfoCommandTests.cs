using static NeuralTangents.Tests.Cli.CliRunner;
using NeuralTangents.Cli;

namespace NeuralTangents.Tests.Cli;

public sealed class InfoCommandTests
{

    [Fact]
    public void Info_lists_layers_output_shapes_parameters_and_autos_choice()
    {
        const string net = "Conv(8,(3,3),padding=SAME,b_std=0.1),Relu,Flatten,Dense(10)";
        var r = Run("info", "--net", net, "--input-shape", "20,8,8,1");
        Assert.True(r.Code == 0, r.Err);
        var lines = r.Out.Split('\n').Select(l => l.TrimEnd()).ToArray();
        // Conv: W 3·3·1·8 = 72, b 8; Dense: W 512·10 = 5120 (no bias without b_std).
        Assert.Contains(lines, l => l.Contains("(20, 8, 8, 8)") && l.Contains(" 80 ") && l.Contains("0.W (3, 3, 1, 8), 0.b (1, 1, 1, 8)"));
        Assert.Contains(lines, l => l.Contains("Flatten") && l.Contains("(20, 512)"));
        Assert.Contains(lines, l => l.Contains("Dense(10)") && l.Contains("(20, 10)") && l.Contains("5120") && l.Contains("3.W (512, 10)"));
        Assert.Contains("output  (20, 10)", r.Out);
        Assert.Contains("params  3 arrays, 5,200 parameters", r.Out);
        Assert.Contains("vmap-axes 0, kernel held in memory", r.Out);
        // The table marks exactly one implementation, the one AUTO reports.
        var net2 = NetSpec.Parse(net);
        var p = net2.Init(0, new Shape(20, 8, 8, 1), DType.Float32).Params;
        var chosen = NeuralTangents.Empirical.ExplainNtk(net2.Apply, Tensor.Zeros(new Shape(20, 8, 8, 1), DType.Float32), null, p, vmapAxes: 0).Chosen;
        Assert.Single(lines, l => l.StartsWith("* ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"* {chosen}", StringComparison.Ordinal));
        Assert.Contains($"AUTO picks {CliParsing.ImplementationName(chosen)}", r.Out);
    }

    [Fact]
    public void Info_rejects_a_bad_shape_in_one_line()
    {
        var r = Run("info", "--net", "Dense(3)", "--input-shape", "4,x");
        Assert.Equal(2, r.Code);
        Assert.StartsWith("nt: error: --input-shape:", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }
}
