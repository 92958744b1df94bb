using NeuralTangents.Cli;

namespace NeuralTangents.Tests.Taylor;

/// <summary><c>nt taylor</c> end to end on tiny widths (the default run is the README demo).</summary>
public class TaylorCommandTests
{
    [Fact]
    public void PrintsOneRowPerWidthAndTheSlope()
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        int rc = CliApp.Run(["taylor", "--widths", "16,64", "--n-train", "8", "--n-eval", "6", "--steps", "3"], stdout, stderr);
        Assert.True(rc == 0, stderr.ToString());
        var lines = stdout.ToString().Split('\n');
        var rows = lines.Where(l => l.TrimStart().StartsWith("16 ") || l.TrimStart().StartsWith("64 ")).ToList();
        Assert.Equal(2, rows.Count);
        foreach (var row in rows)
        {
            var cols = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            double lin = double.Parse(cols[2], System.Globalization.CultureInfo.InvariantCulture);
            double moved = double.Parse(cols[3], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(lin > 0 && lin < moved, row);
        }
        Assert.Contains("log-log slope", stdout.ToString());
    }

    [Fact]
    public void BadWidthsAreAUserError()
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Assert.Equal(CliApp.UserError, CliApp.Run(["taylor", "--widths", "0,8"], stdout, stderr));
        Assert.Contains("--widths", stderr.ToString());
    }
}
