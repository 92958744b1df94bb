using System.CommandLine;
using System.Diagnostics;
using NeuralTangents.Interop;

namespace NeuralTangents.Cli;

/// <summary><c>nt ntk-vp</c>: NTK-vector products <c>J(x1)·J(x2)ᵀ·v</c> without materialising the NTK (<c>empirical_ntk_vp_fn</c>).</summary>
internal static class NtkVpCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var net = new Option<string>("--net") { Description = "Network spec, e.g. \"Dense(512),Relu,Dense(10)\".", Required = true };
        var paramsFile = new Option<string?>("--params") { Description = "Parameters .npz (as written by 'nt init'); or use --seed." };
        var seed = new Option<int?>("--seed") { Description = "Initialise parameters with this seed from the shape of x1 instead of --params." };
        var x1 = new Option<string>("--x1") { Description = "First inputs, .npy with the batch axis first.", Required = true };
        var x2 = new Option<string?>("--x2") { Description = "Second inputs, .npy (default: x1)." };
        var cotangents = new Option<string>("--cotangents") { Description = ".npy shaped like f(x2) (like f(x1) without --x2).", Required = true };
        var output = new Option<string>("--out") { Description = "Output .npy, shaped like f(x1).", Required = true };
        var cmd = new Command("ntk-vp", "NTK-vector products J(x1)·J(x2)ᵀ·v (no trace, no normalisation), without materialising the NTK.")
        {
            net, paramsFile, seed, x1, x2, cotangents, output,
        };
        cmd.SetAction(r => Run(r.GetValue(net)!, r.GetValue(paramsFile), r.GetValue(seed), r.GetValue(x1)!, r.GetValue(x2),
            r.GetValue(cotangents)!, r.GetValue(output)!, stdout, stderr));
        return cmd;
    }

    private static int Run(string spec, string? paramsPath, int? seed, string x1Path, string? x2Path, string ctPath, string outPath,
        TextWriter stdout, TextWriter stderr)
    {
        if ((paramsPath is null) == (seed is null))
            throw new ArgumentException("give exactly one of --params FILE or --seed N");
        var layer = NetSpec.Parse(spec);
        var x1 = Npy.Read(x1Path);
        var x2 = x2Path is null ? null : Npy.Read(x2Path)?.AsType(x1.DType);
        var v = Npy.Read(ctPath).AsType(x1.DType);
        var parameters = seed is { } s ? layer.Init(s, x1.Shape, x1.DType).Params : KernelCommand.LoadParams(layer, paramsPath!, x1.Shape, x1.DType);
        var sw = Stopwatch.StartNew();
        var vp = Empirical.NtkVpFn(layer.Apply, x1, x2, parameters);
        var r = vp(v);
        stderr.WriteLine($"done in {CliParsing.Seconds(sw.Elapsed)}");
        Npy.Write(outPath, r);
        stdout.WriteLine($"ntk-vp: shape {r.Shape} {CliParsing.Name(r.DType)} -> {outPath}");
        return CliApp.Ok;
    }
}
