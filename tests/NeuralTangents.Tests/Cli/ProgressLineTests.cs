using NeuralTangents.Cli;

namespace NeuralTangents.Tests.Cli;

public class ProgressLineTests
{
    private static TimeSpan S(double s) => TimeSpan.FromSeconds(s);

    [Fact]
    public void Plain_lines_come_every_tenth_and_at_least_every_thirty_seconds()
    {
        var err = new StringWriter();
        var p = new ProgressLine(err, live: false);
        // 100 tiles, one every 4 s: deciles at tiles 10, 20, …; the 30 s rule adds a line between them only when a
        // decile takes longer (here 40 s per decile → one extra line at 32 s after the last).
        for (int t = 1; t <= 100; t++) p.Report(new KernelProgress(t, 100, S(4 * t), S(4 * (100 - t))));
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("tiles 8/100 (8 %), 32.0 s elapsed", lines[0]);
        Assert.StartsWith("tiles 10/100 (10 %)", lines[1]);
        Assert.StartsWith("tiles 100/100 (100 %)", lines[^1]);
        var elapsed = lines.Select(l => double.Parse(l.Split(", ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        for (int i = 1; i < elapsed.Length; i++) Assert.InRange(elapsed[i] - elapsed[i - 1], 4, 32);
        Assert.InRange(lines.Length, 19, 21);
    }
}
