using System.CommandLine;
using NeuralTangents.Interop;

namespace NeuralTangents.Cli;

/// <summary><c>nt init</c>: draw parameters of a spec'd network and save them as .npz.</summary>
internal static class InitCommand
{
    public static Command Create(TextWriter stdout)
    {
        var net = new Option<string>("--net") { Description = "Network spec, e.g. \"Conv(32,(3,3)),Relu,Flatten,Dense(10)\".", Required = true };
        var inputShape = new Option<string>("--input-shape") { Description = "Input shape with the batch axis first, e.g. 20,32,32,3.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { Description = "Parameter dtype.", DefaultValueFactory = _ => "float64" };
        dtype.AcceptOnlyFromAmong(CliParsing.DTypeNames);
        var output = new Option<string>("--out") { Description = "Output .npz (entries named like 0.W, 0.b, 2.W…).", Required = true };
        var cmd = new Command("init", "Initialise network parameters (N(0,1), NTK parameterization) and write them to .npz.")
        {
            net, inputShape, seed, dtype, output,
        };
        cmd.SetAction(r =>
        {
            var layer = NetSpec.Parse(r.GetValue(net)!);
            var shape = CliParsing.ShapeOf(r.GetValue(inputShape)!, "--input-shape");
            var dt = CliParsing.DType(r.GetValue(dtype)!);
            var outPath = r.GetValue(output)!;
            CliInputs.CheckOut(outPath, ".npz");
            var (outShape, p) = layer.Init(r.GetValue(seed), shape, dt);
            Npz.Write(outPath, p);
            foreach (var (name, t) in p) stdout.WriteLine($"{name} {t.Shape}");
            stdout.WriteLine($"{p.Count} arrays, {p.ParameterCount} parameters ({CliParsing.Name(dt)}), output shape {outShape} -> {outPath}");
            return CliApp.Ok;
        });
        return cmd;
    }
}
