using System.Globalization;
using NeuralTangents.Cuda;

namespace NeuralTangents.Cli;

/// <summary>Parsing of option values shared by the commands; errors are <see cref="FormatException"/> naming the option.</summary>
internal static class CliParsing
{
    /// <summary>Comma-separated integers; the empty string or <c>none</c> is the empty list.</summary>
    public static int[] IntList(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 1 && (parts[0].Length == 0 || parts[0].Equals("none", StringComparison.OrdinalIgnoreCase))) return [];
        return parts.Select(s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v
            : throw new FormatException($"{option}: '{s}' is not an integer; expected comma-separated integers such as \"-1\" or \"0,2\" (\"\" or none for none)")).ToArray();
    }

    /// <summary><see cref="IntList"/> of axes, each at most once (Neural Tangents' trace_axes and diagonal_axes are
    /// sets: a repeated axis is a typo, not a request to trace twice).</summary>
    public static int[] AxisList(string text, string option)
    {
        var axes = IntList(text, option);
        var repeated = axes.GroupBy(a => a).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
            throw new FormatException($"{option}: expected distinct axes, got '{text}' (axis {repeated.Key} is given {repeated.Count()} times)");
        return axes;
    }

    /// <summary>A shape given as comma-separated positive sizes, e.g. <c>20,32,32,3</c>.</summary>
    public static Shape ShapeOf(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var dims = parts.Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : 0).ToArray();
        if (text.Trim().Length == 0 || dims.Any(d => d < 1))
            throw new FormatException($"{option}: expected comma-separated positive sizes such as 20,32,32,3, got \"{text}\"");
        return new Shape(dims);
    }

    public static readonly string[] DTypeNames = ["float32", "float64"];

    public static DType DType(string name) => name switch
    {
        "float32" => NeuralTangents.Tensors.DType.Float32,
        "float64" => NeuralTangents.Tensors.DType.Float64,
        _ => throw new FormatException($"--dtype: expected float32 or float64, got '{name}'"),
    };

    public static string Name(DType dtype) => dtype == NeuralTangents.Tensors.DType.Float32 ? "float32" : "float64";

    public static readonly string[] ImplementationNames = ["jacobian-contraction", "ntk-vector-products", "structured-derivatives", "auto"];

    /// <summary>The command-line name of an implementation (inverse of <see cref="Implementation"/>).</summary>
    public static string ImplementationName(NtkImplementation i) => ImplementationNames.Single(n => Implementation(n) == i);

    public static NtkImplementation Implementation(string name) => name switch
    {
        "auto" => NtkImplementation.Auto,
        "jacobian-contraction" => NtkImplementation.JacobianContraction,
        "ntk-vector-products" => NtkImplementation.NtkVectorProducts,
        "structured-derivatives" => NtkImplementation.StructuredDerivatives,
        _ => throw new FormatException($"--implementation: expected one of {string.Join(", ", ImplementationNames)}, got '{name}'"),
    };

    /// <summary><c>none</c> (or empty) = no vmap axis, else an integer axis.</summary>
    public static int? VmapAxes(string text)
    {
        var t = text.Trim();
        if (t.Length == 0 || t.Equals("none", StringComparison.OrdinalIgnoreCase)) return null;
        return int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v
            : throw new FormatException($"--vmap-axes: expected an integer axis or 'none', got '{text}'");
    }

    /// <summary>
    /// <c>--device</c>: the backend of <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>. Without CUDA the error is
    /// <c>CUDA is unavailable: &lt;reason&gt;</c> (a <see cref="NotSupportedException"/>, so a user error, exit code 2).
    /// </summary>
    public static ComputeBackend Backend(string text)
    {
        if (!Device.TryParse(text, out var device))
            throw new FormatException($"--device: expected cpu, cuda or cuda:N, got '{text}'");
        try
        {
            return device.Backend;
        }
        catch (InvalidOperationException e)
        {
            throw new NotSupportedException($"--device: {text} needs CUDA, but {e.Message}", e);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new FormatException($"--device: {device} is not a CUDA device of this machine ({CudaRuntime.DeviceCount} found)");
        }
    }

    /// <summary>A memory size such as <c>64MiB</c>, <c>4GiB</c> or plain bytes (<see cref="MemoryBudget.Parse"/>).</summary>
    public static long Size(string text, string option)
    {
        try { return MemoryBudget.Parse(text); }
        catch (FormatException e) { throw new FormatException($"{option}: {e.Message}", e); }
    }

    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString(t.TotalSeconds < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture) + " s";
}
