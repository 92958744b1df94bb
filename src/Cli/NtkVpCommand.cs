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
        var common = new ComputeOptions();
        common.Implementation.Description = "auto or ntk-vector-products (the same: one VJP and one JVP); the NTK-materialising "
            + "implementations are for 'nt kernel'.";
        common.VmapAxes.Description = "Accepted like the other commands (0 or none); the products do not depend on it.";
        var x1 = new Option<string>("--x1") { Description = "First inputs, .npy with the batch axis first.", Required = true };
        var x2 = new Option<string?>("--x2") { Description = "Second inputs, .npy (default: x1)." };
        var cotangents = new Option<string>("--cotangents") { Description = ".npy shaped like f(x2) (like f(x1) without --x2).", Required = true };
        var output = new Option<string>("--out") { Description = "Output .npy, shaped like f(x1).", Required = true };
        var cmd = new Command("ntk-vp", "NTK-vector products J(x1)·J(x2)ᵀ·v (no trace, no normalisation), without materialising the NTK.")
        {
            net, x1, x2, cotangents, output,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => Run(r.GetValue(net)!, common.Read(r), r.GetValue(x1)!, r.GetValue(x2), r.GetValue(cotangents)!,
            r.GetValue(output)!, stdout, stderr));
        return cmd;
    }

    private static int Run(string spec, ComputeOptions.Values common, string x1Path, string? x2Path, string ctPath, string outPath,
        TextWriter stdout, TextWriter stderr)
    {
        if (common.Implementation is not (NtkImplementation.Auto or NtkImplementation.NtkVectorProducts))
            throw new ArgumentException($"--implementation: ntk-vp computes J(x1)·(J(x2)ᵀ·v) by one VJP and one JVP, so only auto or " +
                $"ntk-vector-products; got '{common.ImplementationText}' (use 'nt kernel' to materialise the NTK)");
        var layer = NetSpec.Parse(spec);
        CliInputs.CheckOut(outPath, ".npy");
        var backend = common.Backend();
        var x1 = CliInputs.ReadNpy(x1Path, "--x1", common.AllowNonFinite, batched: true);
        var dtype = common.DType ?? x1.DType;
        x1 = x1.AsType(dtype);
        var x2 = x2Path is null ? null : CliInputs.ReadNpy(x2Path, "--x2", common.AllowNonFinite, batched: true).AsType(dtype);
        var v = CliInputs.ReadNpy(ctPath, "--cotangents", common.AllowNonFinite).AsType(dtype);
        var parameters = common.LoadParams(layer, x1.Shape, dtype);
        var sw = Stopwatch.StartNew();
        Tensor r;
        using (ComputeBackend.Use(backend)) r = Empirical.NtkVpFn(layer.Apply, x1, x2, parameters)(v);
        stderr.WriteLine($"done in {CliParsing.Seconds(sw.Elapsed)}");
        CliInputs.WarnNonFinite(stderr, r, "the NTK-vector product");
        Npy.Write(outPath, r);
        stdout.WriteLine($"ntk-vp: shape {r.Shape} {CliParsing.Name(r.DType)} -> {outPath}");
        return CliApp.Ok;
    }
}
