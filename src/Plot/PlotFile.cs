namespace NeuralTangents.Plotting;

/// <summary>Saving plots as PNG without ever leaving a half-written or clobbered file behind.</summary>
public static class PlotFile
{
    /// <summary>Default picture size in pixels.</summary>
    public const int DefaultWidth = 800, DefaultHeight = 600;

    /// <summary>Checks a picture size (16 to 20000 pixels a side) before any work.</summary>
    /// <exception cref="ArgumentException">A side out of range.</exception>
    public static void CheckSize(int width, int height)
    {
        if (width < 16 || height < 16 || width > 20000 || height > 20000)
            throw new ArgumentException($"--width/--height: expected 16 to 20000 pixels a side, got {width}×{height}", nameof(width));
    }

    /// <summary>
    /// Renders <paramref name="plot"/> to a PNG of <paramref name="width"/>×<paramref name="height"/> pixels at
    /// <paramref name="path"/>: written to a temporary file in the same folder and moved into place, so a failure
    /// leaves any existing file untouched.
    /// </summary>
    /// <exception cref="ArgumentException">The path does not end in .png, or a size is not positive.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static void SavePng(ScottPlot.Plot plot, string path, int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentNullException.ThrowIfNull(plot);
        ArgumentNullException.ThrowIfNull(path);
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"expected a .png file, got '{path}'", nameof(path));
        CheckSize(width, height);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"folder '{dir}' does not exist");
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var bytes = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
