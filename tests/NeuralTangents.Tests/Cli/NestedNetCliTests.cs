using static NeuralTangents.Tests.Cli.CliRunner;
using NeuralTangents.Cli;
using NeuralTangents.Interop;
using NtEmpirical = NeuralTangents.Empirical;

namespace NeuralTangents.Tests.Cli;

/// <summary>Nested net specs (issue 14) through <c>nt kernel</c>: residual CNN, WideResnet and transformer.</summary>
public sealed class NestedNetCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-nested-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);


    public static IEnumerable<object[]> Nets() => new[]
    {
        new object[] { "Conv(16,(3,3),padding=SAME),FanOut(2),Parallel(Serial(Relu,Conv(16,(3,3),padding=SAME)),Identity),FanInSum,GlobalAvgPool,Dense(10)", new[] { 3, 6, 6, 1 } },
        new object[] { "WideResnet(1,0.25,3,pool_window=(2,2))", new[] { 2, 8, 8, 1 } },
        new object[] { "TransformerEncoder(1,4,2,8,3)", new[] { 3, 5, 2 } },
    };

    [Theory, MemberData(nameof(Nets))]
    public void Every_implementation_through_nt_kernel_matches_the_library(string spec, int[] shape)
    {
        var x = Tensor.RandomNormal(new Random(1), new Shape(shape));
        Npy.Write(P("x.npy"), x);
        var net = NetSpec.Parse(spec);
        var p = net.Init(4, x.Shape).Params;
        var reference = NtEmpirical.NtkFn(net.Apply, vmapAxes: 0, implementation: NtkImplementation.JacobianContraction)(x, null, p);
        double scale = reference.ToDoubleArray().Select(Math.Abs).Max();
        foreach (var impl in new[] { "jacobian-contraction", "ntk-vector-products", "structured-derivatives", "auto" })
        {
            var r = Run("kernel", "--net", spec, "--seed", "4", "--x1", P("x.npy"), "--implementation", impl, "--out", P($"k-{impl}.npy"));
            Assert.True(r.Code == 0, r.Err);
            TestUtil.AssertClose(reference, Npy.Read(P($"k-{impl}.npy")), 0, 1e-11 * scale);
        }
    }

    [Fact]
    public void A_nested_parse_error_is_one_line_with_the_column()
    {
        Npy.Write(P("x.npy"), Tensor.RandomNormal(new Random(1), new Shape(2, 4)));
        var r = Run("kernel", "--net", "FanOut(2),Parallel(Serial(Relu,Dense(3,W_std=x)),Identity),FanInSum", "--seed", "0", "--x1", P("x.npy"), "--out", P("k.npy"));
        Assert.Equal(2, r.Code);
        Assert.Contains("net spec, column 46: Dense argument 'W_std' expects a number", r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(P("k.npy")));
    }
}
