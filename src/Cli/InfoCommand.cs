using System.CommandLine;
using System.Globalization;

namespace NeuralTangents.Cli;

/// <summary>
/// <c>nt info</c>: what a spec'd network is for a given input shape — each layer with its output shape and
/// parameters (names, shapes, counts), the totals, and AUTO's cost estimates for the NTK. Nothing is evaluated:
/// shapes come from <c>init</c> and the estimates from the traced graphs.
/// </summary>
internal static class InfoCommand
{
    public static Command Create(TextWriter stdout)
    {
        var net = new Option<string>("--net") { Description = "Network spec, e.g. \"Conv(8,(3,3)),Relu,Flatten,Dense(10)\".", Required = true };
        var inputShape = new Option<string>("--input-shape") { Description = "x1's shape with the batch axis first, e.g. 20,8,8,1.", Required = true };
        var x2Shape = new Option<string?>("--x2-shape") { Description = "x2's shape for the estimates (default: x2 = x1)." };
        var trace = new Option<string>("--trace-axes") { Description = "Output axes to trace for the estimates; \"\" for none.", DefaultValueFactory = _ => string.Join(",", KernelSpec.DefaultTraceAxes) };
        var diag = new Option<string>("--diagonal-axes") { Description = "Output axes kept diagonal for the estimates; \"\" for none.", DefaultValueFactory = _ => "" };
        var common = new ComputeOptions(defaultSeed: 0, dtypeDefault: "float32");
        var cmd = new Command("info", "Layers, output shapes, parameter names/shapes/counts and AUTO's NTK cost estimates of a network.")
        {
            net, inputShape, x2Shape, trace, diag,
        };
        common.AddTo(cmd);
        cmd.SetAction(r => Run(r.GetValue(net)!, CliParsing.ShapeOf(r.GetValue(inputShape)!, "--input-shape"),
            r.GetValue(x2Shape) is { } s2 ? CliParsing.ShapeOf(s2, "--x2-shape") : (Shape?)null,
            CliParsing.AxisList(r.GetValue(trace)!, "--trace-axes"), CliParsing.AxisList(r.GetValue(diag)!, "--diagonal-axes"), common.Read(r), stdout));
        return cmd;
    }

    private static int Run(string spec, Shape inputShape, Shape? x2Shape, int[] traceAxes, int[] diagonalAxes, ComputeOptions.Values common, TextWriter stdout)
    {
        var layers = NetSpec.ParseLayers(spec);
        var net = NetSpec.Parse(spec);
        var dtype = common.DType ?? DType.Float32;
        common.Backend();   // validates --device like the other commands

        // Per-layer rows: Serial names layer i's parameters "i.<name>", so init each top-level layer in turn; lists of
        // tensors (after FanOut/Parallel) flow between layers as in Stax.
        var rows = new List<(string Layer, string Output, string[] Params, long Count)>();
        var shapes = new[] { inputShape };
        for (int i = 0; i < layers.Length; i++)
        {
            var layer = layers[i];
            var input = shapes;
            var (o, p) = ComputeOptions.Values.OnInputs(() => layer.InitMany(0, input, dtype), inputShape, "--input-shape");
            rows.Add((layers[i].Description, string.Join(" ", o.Select(x => x.ToString())), p.Select(kv => $"{i}.{kv.Key} {kv.Value.Shape}").ToArray(), p.ParameterCount));
            shapes = o;
        }
        var shape = shapes.Length == 1 ? shapes[0]
            : throw new ArgumentException($"--net returns {shapes.Length} tensors; end it with FanInSum, FanInProd or FanInConcat", "--net");
        var parameters = common.LoadParams(net, inputShape, dtype, "--input-shape");

        stdout.WriteLine($"net     {net.Description}");
        stdout.WriteLine($"input   {inputShape} {CliParsing.Name(dtype)}");
        stdout.WriteLine();
        int lw = Math.Max(5, rows.Max(r => r.Layer.Length)), ow = Math.Max(12, rows.Max(r => r.Output.Length));
        stdout.WriteLine($"  {"#",3}  {"layer".PadRight(lw)}  {"output shape".PadRight(ow)}  {"params",10}  names and shapes");
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            stdout.WriteLine($"  {i,3}  {r.Layer.PadRight(lw)}  {r.Output.PadRight(ow)}  {r.Count,10}  {string.Join(", ", r.Params)}");
        }
        stdout.WriteLine();
        stdout.WriteLine($"output  {shape}");
        stdout.WriteLine($"params  {parameters.Count} arrays, {parameters.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters " +
            $"({(parameters.ParameterCount * (dtype == DType.Float32 ? 4L : 8L) / 1024.0).ToString("0.#", CultureInfo.InvariantCulture)} KiB as {CliParsing.Name(dtype)})");
        stdout.WriteLine();

        // The estimates trace inputs of these shapes: refuse impossible ones by option name.
        TensorSizeException.Check("--input-shape", inputShape);
        if (x2Shape is { } x2s) TensorSizeException.Check("--x2-shape", x2s);
        // Only shapes matter: one zero broadcast to each shape (a stride-0 view), not gigabytes of zeros.
        var zero = Tensor.Zeros(new Shape(), dtype);
        var x1 = zero.BroadcastTo(inputShape);
        var x2 = x2Shape is { } s2 ? zero.BroadcastTo(s2) : null;
        var ex = Empirical.ExplainNtk(net.Apply, x1, x2, parameters, traceAxes, diagonalAxes, common.VmapAxes);
        stdout.WriteLine($"NTK cost estimates for x1 {inputShape}{(x2Shape is null ? " (x2 = x1)" : $", x2 {x2Shape}")}, trace-axes [{string.Join(",", traceAxes)}], " +
            $"diagonal-axes [{string.Join(",", diagonalAxes)}], vmap-axes {common.VmapAxes?.ToString(CultureInfo.InvariantCulture) ?? "none"}, " +
            "kernel held in memory (as Empirical.NtkFn; 'nt kernel --explain --out K.npy' shows the plan of a run that writes tiles):");
        stdout.WriteLine(ex.ToString());
        var runs = common.Implementation == NtkImplementation.Auto ? ex.Chosen : common.Implementation;
        stdout.WriteLine($"AUTO picks {CliParsing.ImplementationName(ex.Chosen)} (memory budget {ex.MemoryBudgetBytes / (1 << 30):0.#} GiB); " +
            $"'nt kernel --implementation {common.ImplementationText}' runs {CliParsing.ImplementationName(runs)}");
        return CliApp.Ok;
    }
}
