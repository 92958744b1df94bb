using NeuralTangents.Cli;

namespace NeuralTangents.Tests.Cli;

/// <summary>Runs <c>nt</c> in process (<see cref="CliApp.Run"/>) and captures its exit code, stdout and stderr.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
