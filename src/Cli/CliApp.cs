using System.CommandLine;
using System.Text.RegularExpressions;

namespace NeuralTangents.Cli;

/// <summary>
/// The <c>nt</c> command: <c>kernel</c>, <c>ntk-vp</c>, <c>init</c>, <c>info</c>, <c>taylor</c> and <c>demo</c> (the default
/// with no arguments); <c>nt --version</c> prints the package version.
/// Exit codes: 0 success, 2 user error (bad option, spec, file or shape; one line on stderr), 1 internal error.
/// </summary>
internal static class CliApp
{
    public const int Ok = 0;
    public const int InternalError = 1;
    public const int UserError = 2;
    /// <summary>Stopped by Ctrl-C (128 + SIGINT), partial output kept for <c>--resume</c>.</summary>
    public const int Interrupted = 130;

    /// <summary>Runs <c>nt</c> with <paramref name="args"/>, writing to the given writers; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0) args = ["demo"];
        var root = new RootCommand("nt — empirical NNGP/NTK kernels of Stax networks (NeuralTangents for .NET)." + ComputeOptions.Note)
        {
            KernelCommand.Create(stdout, stderr),
            NtkVpCommand.Create(stdout, stderr),
            InitCommand.Create(stdout),
            DemoCommand.Create(stdout, stderr),
            TaylorCommand.Create(stdout, stderr),
            InfoCommand.Create(stdout),
            PlotCommand.Create(stdout),
            WorkerCommand.Create(stdout, stderr),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line: the library lists every problem, including "Required command was not provided" next to the
            // more useful "Unrecognized command" when a command name is mistyped.
            var messages = parsed.Errors.Select(e => WithOption(e, FriendlyTypes(Regex.Replace(e.Message, @"\s*\n\s*", " ")))).ToList();
            if (messages.Count > 1) messages.RemoveAll(m => m.StartsWith("Required command was not provided", StringComparison.Ordinal));
            // The full command path ("nt plot kernel --help"), not only the innermost command's name.
            var names = new List<string>();
            for (var r = parsed.CommandResult; r is not null && r.Command != root; r = r.Parent as System.CommandLine.Parsing.CommandResult)
                names.Insert(0, r.Command.Name);
            var help = string.Join(" ", ["nt", .. names, "--help"]);
            stderr.WriteLine($"nt: error: {string.Join("; ", messages.Select(m => m.TrimEnd('.')))} (see '{help}')");
            return UserError;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"nt: error: {OneLine(e)}");
            return UserError;
        }
        catch (Exception e)
        {
            // A bug, not the user's input: still one line; NT_DEBUG=1 adds the stack trace for a report.
            stderr.WriteLine($"nt: internal error: {e.GetType().Name}: {OneLine(e)} (please report it; NT_DEBUG=1 prints the stack trace)");
            if (Environment.GetEnvironmentVariable("NT_DEBUG") is "1") stderr.WriteLine(e);
            return InternalError;
        }
    }

    /// <summary>Errors caused by the input (options, spec, files, shapes) rather than by a bug.</summary>
    private static bool IsUserError(Exception e) => e is ArgumentException or FormatException or IOException
        or InvalidDataException or KeyNotFoundException or NotSupportedException or UnauthorizedAccessException
        or KernelMemoryException;

    /// <summary>Prefixes the option's name when the library's message does not say which option (e.g. a value not among the allowed ones).</summary>
    private static string WithOption(System.CommandLine.Parsing.ParseError e, string message)
    {
        var option = e.SymbolResult switch
        {
            System.CommandLine.Parsing.OptionResult o => o.Option.Name,
            System.CommandLine.Parsing.ArgumentResult { Parent: System.CommandLine.Parsing.OptionResult o } => o.Option.Name,
            _ => null,
        };
        return option is null || message.Contains(option, StringComparison.Ordinal) ? message : $"{option}: {message}";
    }

    /// <summary>System.CommandLine names .NET types ("System.Nullable`1[System.Int32]"); say what the user must type.</summary>
    private static string FriendlyTypes(string message) =>
        Regex.Replace(message, @"as expected type '(System\.Nullable`1\[)?System\.(\w+)\]?'", m => m.Groups[2].Value switch
        {
            "Int32" => $"as an integer from {int.MinValue} to {int.MaxValue}",
            "Int64" => $"as an integer from {long.MinValue} to {long.MaxValue}",
            "Double" or "Single" => "as a number (e.g. 0.5, 1e-3)",
            "Boolean" => "as true or false",
            var t => $"as {t}",
        });

    /// <summary>Library parameter names (<see cref="ArgumentException.ParamName"/>) and the option that supplies them.</summary>
    private static readonly Dictionary<string, string> OptionOf = new(StringComparer.Ordinal)
    {
        ["x1"] = "--x1", ["x2"] = "--x2", ["cotangents"] = "--cotangents", ["get"] = "--get",
        ["traceAxes"] = "--trace-axes", ["diagonalAxes"] = "--diagonal-axes", ["vmapAxes"] = "--vmap-axes",
    };

    private static string OneLine(Exception e)
    {
        var msg = e is ArgumentException { ParamName: { } p } ? e.Message.Replace($" (Parameter '{p}')", "") : e.Message;
        // The library speaks Neural Tangents' names (trace_axes, vmap_axes, x2, cotangents, get); here they are options.
        msg = Regex.Replace(msg, @"\b(trace_axes|diagonal_axes|vmap_axes)\b", m => "--" + m.Value.Replace('_', '-'));
        if (e is ArgumentException { ParamName: { } name } && OptionOf.TryGetValue(name, out var option) && !msg.Contains(option, StringComparison.Ordinal))
            msg = $"{option}: {msg}";
        return string.Join("; ", msg.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
