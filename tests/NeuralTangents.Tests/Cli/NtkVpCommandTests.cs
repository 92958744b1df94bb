using NeuralTangents.Cli;
using NeuralTangents.Interop;
using NtEmpirical = NeuralTangents.Empirical;

namespace NeuralTangents.Tests.Cli;

public sealed class NtkVpCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-vp-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);
    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void NtkVpMatchesTheLibraryCall()
    {
        const string net = "Dense(4,b_std=0.5),Relu,Dense(3)";
        var x1 = Tensor.RandomNormal(new Random(1), new Shape(3, 5));
        var x2 = Tensor.RandomNormal(new Random(2), new Shape(2, 5));
        var v = Tensor.RandomNormal(new Random(3), new Shape(2, 3));
        Npy.Write(P("x1.npy"), x1); Npy.Write(P("x2.npy"), x2); Npy.Write(P("v.npy"), v);
        var o = new StringWriter(); var e = new StringWriter();
        int code = CliApp.Run(new[] { "ntk-vp", "--net", net, "--seed", "5", "--x1", P("x1.npy"), "--x2", P("x2.npy"), "--cotangents", P("v.npy"), "--out", P("r.npy") }, o, e);
        Assert.True(code == 0, e.ToString());
        var layer = NetSpec.Parse(net);
        var p = layer.Init(5, x1.Shape).Params;
        var expected = NtEmpirical.NtkVpFn(layer.Apply, x1, x2, p)(v);
        var actual = Npy.Read(P("r.npy"));
        Assert.Equal(new Shape(3, 3), actual.Shape);
        Assert.Equal(expected.ToDoubleArray(), actual.ToDoubleArray());

        // A cotangent shaped like f(x1) instead of f(x2) is a user error naming both shapes.
        Npy.Write(P("bad.npy"), Tensor.Zeros(new Shape(3, 3)));
        e = new StringWriter();
        code = CliApp.Run(new[] { "ntk-vp", "--net", net, "--seed", "5", "--x1", P("x1.npy"), "--x2", P("x2.npy"), "--cotangents", P("bad.npy"), "--out", P("r2.npy") }, new StringWriter(), e);
        Assert.Equal(2, code);
        Assert.StartsWith("nt: error: --cotangents: cotangents must be shaped like f(x2)", e.ToString());
    }

    [Fact]
    public void NtkVpTakesTheSharedComputeOptions()
    {
        const string net = "Dense(4,b_std=0.5),Erf,Dense(3)";
        var x1 = Tensor.RandomNormal(new Random(1), new Shape(3, 5), DType.Float32);
        var v = Tensor.RandomNormal(new Random(3), new Shape(3, 3), DType.Float32);
        Npy.Write(P("x1.npy"), x1); Npy.Write(P("v.npy"), v);
        var e = new StringWriter();
        int code = CliApp.Run(["ntk-vp", "--net", net, "--seed", "5", "--x1", P("x1.npy"), "--cotangents", P("v.npy"), "--dtype", "float64",
            "--device", "cpu", "--implementation", "auto", "--vmap-axes", "0", "--out", P("r.npy")], new StringWriter(), e);
        Assert.True(code == 0, e.ToString());
        var layer = NetSpec.Parse(net);
        var p = layer.Init(5, x1.Shape, DType.Float64).Params;
        var expected = NtEmpirical.NtkVpFn(layer.Apply, x1.AsType(DType.Float64), null, p)(v.AsType(DType.Float64));
        var actual = Npy.Read(P("r.npy"));
        Assert.Equal(DType.Float64, actual.DType);
        Assert.Equal(expected.ToDoubleArray(), actual.ToDoubleArray());

        // Materialising implementations belong to 'nt kernel': one line naming the option, nothing written.
        e = new StringWriter();
        code = CliApp.Run(["ntk-vp", "--net", net, "--seed", "5", "--x1", P("x1.npy"), "--cotangents", P("v.npy"),
            "--implementation", "jacobian-contraction", "--out", P("r3.npy")], new StringWriter(), e);
        Assert.Equal(2, code);
        Assert.StartsWith("nt: error: --implementation: ntk-vp computes", e.ToString());
        Assert.False(File.Exists(P("r3.npy")));
    }
}
