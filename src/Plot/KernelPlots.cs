using System.Globalization;
using ScottPlot;

namespace NeuralTangents.Plotting;

/// <summary>
/// The pictures of NeuralTangents for .NET, as ScottPlot 5 plots (save them with <see cref="PlotFile.SavePng"/>).
/// Inputs are plain arrays so that this assembly depends on ScottPlot only.
/// </summary>
public static class KernelPlots
{
    private static string F(double x, string format) => x.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>
    /// A heat map of the (N, M) kernel <paramref name="k"/> (row-major) with a colour bar. With
    /// <paramref name="labels"/> (one per row; N = M required) rows and columns are sorted by label (stably), so
    /// same-class blocks sit on the diagonal, and the axes mark the classes. Row 0 is at the top, as in a matrix.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong sizes, or labels for a non-square kernel.</exception>
    public static Plot KernelHeatmap(double[] k, int rows, int cols, int[]? labels = null, string title = "kernel")
    {
        ArgumentNullException.ThrowIfNull(k);
        if (rows == 0 || cols == 0)
            throw new ArgumentException($"kernel: the kernel of shape ({rows}, {cols}) is empty; there is nothing to plot", nameof(k));
        if (rows < 1 || cols < 1 || k.Length != (long)rows * cols)
            throw new ArgumentException($"kernel: expected {rows}×{cols} = {(long)rows * cols} values, got {k.Length}", nameof(k));
        if (labels is not null && (rows != cols || labels.Length != rows))
            throw new ArgumentException($"labels: expected one label per example of a square kernel ({rows}×{cols}), got {labels.Length}", nameof(labels));
        var order = labels is null ? Enumerable.Range(0, rows).ToArray() : Enumerable.Range(0, rows).OrderBy(i => labels[i]).ToArray();
        var colOrder = labels is null ? Enumerable.Range(0, cols).ToArray() : order;
        var data = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                data[i, j] = k[(long)order[i] * cols + colOrder[j]];

        var plot = new Plot();
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(hm);
        plot.Axes.Margins(0, 0);
        plot.HideGrid();
        plot.Title(title);
        if (labels is not null)
        {
            // One tick per class at the middle of its block; row i is drawn at y = rows − 1 − i.
            var xTicks = new ScottPlot.TickGenerators.NumericManual();
            var yTicks = new ScottPlot.TickGenerators.NumericManual();
            int start = 0;
            while (start < rows)
            {
                int label = labels[order[start]], end = start;
                while (end < rows && labels[order[end]] == label) end++;
                double mid = (start + end - 1) / 2.0;
                xTicks.AddMajor(mid, label.ToString(CultureInfo.InvariantCulture));
                yTicks.AddMajor(rows - 1 - mid, label.ToString(CultureInfo.InvariantCulture));
                if (start > 0)
                {
                    // Thin white lines between classes, so the diagonal blocks stand out.
                    var v = plot.Add.VerticalLine(start - 0.5, 1, Colors.White.WithAlpha(0.8));
                    var h = plot.Add.HorizontalLine(rows - 0.5 - start, 1, Colors.White.WithAlpha(0.8));
                    v.LinePattern = LinePattern.Solid; h.LinePattern = LinePattern.Solid;
                }
                start = end;
            }
            plot.Axes.Bottom.TickGenerator = xTicks;
            plot.Axes.Left.TickGenerator = yTicks;
            plot.XLabel("examples sorted by label");
            plot.YLabel("examples sorted by label");
        }
        else
        {
            // Integer ticks at cell centres; row i is drawn at y = rows − 1 − i, so its tick says i (ScottPlot's
            // default ticks would count from the bottom and fall on half rows).
            var xTicks = new ScottPlot.TickGenerators.NumericManual();
            var yTicks = new ScottPlot.TickGenerators.NumericManual();
            int xStep = IndexTickStep(cols), yStep = IndexTickStep(rows);
            for (int j = 0; j < cols; j += xStep) xTicks.AddMajor(j, j.ToString(CultureInfo.InvariantCulture));
            for (int i = 0; i < rows; i += yStep) yTicks.AddMajor(rows - 1 - i, i.ToString(CultureInfo.InvariantCulture));
            plot.Axes.Bottom.TickGenerator = xTicks;
            plot.Axes.Left.TickGenerator = yTicks;
            plot.XLabel("column");
            plot.YLabel("row (0 at the top)");
        }
        return plot;
    }

    /// <summary>A 1-2-5 step giving at most about 10 ticks over <paramref name="n"/> indices.</summary>
    private static int IndexTickStep(int n)
    {
        int step = 1;
        while (n / step > 10)
            step = step.ToString(CultureInfo.InvariantCulture)[0] == '2' ? step * 5 / 2 : step * 2;
        return step;
    }

    /// <summary>
    /// The eigenvalues of a symmetric kernel, largest first, on a log scale, with the condition number
    /// λ_max/λ_min in the title. Eigenvalues ≤ 0 (rounding in a PSD kernel) cannot be drawn on a log scale: they
    /// are left out and counted in the title, and the condition number is then ∞.
    /// </summary>
    /// <exception cref="ArgumentException">No eigenvalues, or a NaN.</exception>
    public static Plot Spectrum(double[] eigenvalues, string title = "kernel spectrum")
    {
        ArgumentNullException.ThrowIfNull(eigenvalues);
        if (eigenvalues.Length == 0) throw new ArgumentException("spectrum: no eigenvalues", nameof(eigenvalues));
        if (eigenvalues.Any(double.IsNaN)) throw new ArgumentException("spectrum: the eigenvalues contain NaN", nameof(eigenvalues));
        var sorted = eigenvalues.OrderByDescending(v => v).ToArray();
        var positive = sorted.Where(v => v > 0).ToArray();
        int dropped = sorted.Length - positive.Length;
        double max = sorted[0], min = sorted[^1];
        string cond = min > 0 ? F(max / min, "0.###E+0") : "∞";
        var plot = new Plot();
        if (positive.Length > 0)
        {
            var xs = Enumerable.Range(1, positive.Length).Select(i => (double)i).ToArray();
            var sc = plot.Add.Scatter(xs, positive.Select(Math.Log10).ToArray());
            sc.MarkerSize = positive.Length > 200 ? 0 : 4;
            sc.LineWidth = 2;
            LogTicks(plot.Axes.Left, positive.Min(), positive.Max());
        }
        plot.Title($"{title}: condition number λmax/λmin = {cond}" + (dropped > 0 ? $" ({dropped} eigenvalues ≤ 0 not drawn)" : ""));
        plot.XLabel("index (largest first)");
        plot.YLabel("eigenvalue (log scale)");
        return plot;
    }

    /// <summary>
    /// Curves against training time on a log time axis (Neural Tangents' function-space notebook): one line per
    /// series, e.g. train and test loss; <paramref name="logY"/> draws the values on a log scale too, and
    /// <paramref name="legend"/> places the legend where the curves are not.
    /// </summary>
    /// <exception cref="ArgumentException">Times not positive and increasing, or a series of the wrong length.</exception>
    public static Plot Curves(double[] times, IReadOnlyList<(string Name, double[] Values)> series, string title, string yLabel, bool logY = false,
        Alignment legend = Alignment.UpperRight)
    {
        ArgumentNullException.ThrowIfNull(times);
        ArgumentNullException.ThrowIfNull(series);
        if (times.Length < 2 || times[0] <= 0 || times.Zip(times.Skip(1)).Any(p => !(p.Second > p.First)))
            throw new ArgumentException("times: expected at least two positive, increasing times", nameof(times));
        var plot = new Plot();
        var lx = times.Select(Math.Log10).ToArray();
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var (name, values) in series)
        {
            if (values.Length != times.Length)
                throw new ArgumentException($"series '{name}': expected {times.Length} values, got {values.Length}", nameof(series));
            var ys = logY ? values.Select(v => Math.Log10(Math.Max(v, double.Epsilon))).ToArray() : values;
            var sc = plot.Add.Scatter(lx, ys);
            sc.LegendText = name;
            sc.MarkerSize = 0;
            sc.LineWidth = 2;
            if (logY) { lo = Math.Min(lo, values.Min()); hi = Math.Max(hi, values.Max()); }
        }
        LogTicks(plot.Axes.Bottom, times[0], times[^1]);
        if (logY && lo > 0) LogTicks(plot.Axes.Left, lo, hi);
        plot.ShowLegend(legend);
        plot.Title(title);
        plot.XLabel("training time t (steps of learning rate 1, log scale)");
        plot.YLabel(yLabel);
        return plot;
    }

    /// <summary>
    /// The <c>nt taylor</c> table as a log-log plot: MSE(f, f_lin) and MSE(f, f₀) against width, with the least-
    /// squares slope of the first in the title (lazy training bounds it by −1).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than one width, lengths differ, or a value is not positive.</exception>
    public static Plot WidthTable(int[] widths, double[] mseLinear, double[] mseInitial, double? slope = null)
    {
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(mseLinear);
        ArgumentNullException.ThrowIfNull(mseInitial);
        if (widths.Length == 0 || mseLinear.Length != widths.Length || mseInitial.Length != widths.Length)
            throw new ArgumentException("width table: expected one MSE of each kind per width", nameof(widths));
        if (widths.Any(w => w < 1) || mseLinear.Concat(mseInitial).Any(v => !(v > 0)))
            throw new ArgumentException("width table: widths and MSEs must be positive for a log-log plot", nameof(mseLinear));
        var plot = new Plot();
        var lw = widths.Select(w => Math.Log10(w)).ToArray();
        var a = plot.Add.Scatter(lw, mseLinear.Select(Math.Log10).ToArray());
        a.LegendText = "MSE(f, f_lin): distance from the linearization";
        a.LineWidth = 2; a.MarkerSize = 8;
        var b = plot.Add.Scatter(lw, mseInitial.Select(Math.Log10).ToArray());
        b.LegendText = "MSE(f, f₀): distance from the initial network";
        b.LineWidth = 2; b.MarkerSize = 8;
        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var w in widths) xTicks.AddMajor(Math.Log10(w), w.ToString(CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = xTicks;
        LogTicks(plot.Axes.Left, Math.Min(mseLinear.Min(), mseInitial.Min()), Math.Max(mseLinear.Max(), mseInitial.Max()));
        plot.ShowLegend(Alignment.LowerLeft);
        plot.Title("trained network vs its linearization" + (slope is { } s ? $": log-log slope {F(s, "0.00")}" : ""));
        plot.XLabel("hidden width (log scale)");
        plot.YLabel("MSE on held-out inputs (log scale)");
        return plot;
    }

    /// <summary>Ticks 10^k (labelled 1e{k}) on an axis whose data are log10 values spanning [lo, hi].</summary>
    private static void LogTicks(ScottPlot.IAxis axis, double lo, double hi)
    {
        int a = (int)Math.Floor(Math.Log10(lo)), b = (int)Math.Ceiling(Math.Log10(hi));
        int step = Math.Max(1, (b - a) / 8);
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int e = a; e <= b; e++)
        {
            if ((e - a) % step == 0) ticks.AddMajor(e, $"1e{e}");
            for (int m = 2; m < 10 && step == 1; m++) ticks.AddMinor(e + Math.Log10(m));
        }
        axis.TickGenerator = ticks;
    }
}
