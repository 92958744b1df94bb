using System.Globalization;
using NeuralTangents.Tensors;

namespace NeuralTangents.Data;

/// <summary>
/// Loader for the UCI "Optical Recognition of Handwritten Digits" files (<c>optdigits.tra</c>: 3,823 rows,
/// <c>optdigits.tes</c>: 1,797 rows). Each line holds 64 pixel counts in <c>0..16</c> (an 8×8 image, row-major)
/// and the label <c>0..9</c>, comma-separated.
/// </summary>
public static class OptDigits
{
    /// <summary>File name of the training split.</summary>
    public const string TrainFileName = "optdigits.tra";

    /// <summary>File name of the test split.</summary>
    public const string TestFileName = "optdigits.tes";

    private const int Pixels = 64;
    private const int Fields = Pixels + 1;

    /// <summary>
    /// Loads an optdigits file as images of shape <c>(N, 8, 8, 1)</c> scaled by 1/16 into <c>[0, 1]</c>, and labels.
    /// Trailing empty lines are accepted.
    /// </summary>
    /// <param name="path">The <c>.tra</c> or <c>.tes</c> file.</param>
    /// <param name="maxRows">Read at most this many rows (all when null).</param>
    /// <param name="dtype">Element type of the images.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRows"/> is negative.</exception>
    /// <exception cref="InvalidDataException">A line is malformed (message gives <c>file:line</c>): not 65 integer
    /// fields, a pixel outside <c>0..16</c>, a label outside <c>0..9</c>, or data after an empty line.</exception>
    public static DigitsSet Load(string path, int? maxRows = null, DType dtype = DType.Float64)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (maxRows < 0) throw new ArgumentOutOfRangeException(nameof(maxRows), $"maxRows must be non-negative, got {maxRows}");
        int limit = maxRows ?? int.MaxValue;

        var pixels = new List<byte>();
        var labels = new List<int>();
        using var reader = new StreamReader(path);
        int lineNo = 0, blankAt = 0;
        string? line;
        while (labels.Count < limit && (line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) { if (blankAt == 0) blankAt = lineNo; continue; }
            if (blankAt != 0)
                throw new InvalidDataException($"{path}:{blankAt}: empty line before data at line {lineNo}; only trailing empty lines are allowed");
            ParseLine(line, path, lineNo, pixels, labels);
        }

        int n = labels.Count;
        var shape = new Shape(n, 8, 8, 1);
        Tensor images;
        if (dtype == DType.Float32)
        {
            var d = new float[n * Pixels];
            for (int i = 0; i < d.Length; i++) d[i] = pixels[i] / 16f;
            images = Tensor.Wrap(d, shape);
        }
        else
        {
            var d = new double[n * Pixels];
            for (int i = 0; i < d.Length; i++) d[i] = pixels[i] / 16.0;
            images = Tensor.Wrap(d, shape);
        }
        return new DigitsSet(images, labels.ToArray());
    }

    private static void ParseLine(string line, string path, int lineNo, List<byte> pixels, List<int> labels)
    {
        var span = line.AsSpan().TrimEnd();
        Span<Range> parts = stackalloc Range[Fields + 1];
        int count = span.Split(parts, ',');
        if (count != Fields)
            throw new InvalidDataException(
                $"{path}:{lineNo}: expected {Fields} comma-separated fields (64 pixels and a label), got {span.Count(',') + 1}");
        for (int f = 0; f < Fields; f++)
        {
            var field = span[parts[f]].Trim();
            if (!int.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v))
                throw new InvalidDataException($"{path}:{lineNo}: field {f + 1} '{field}' is not an integer");
            if (f < Pixels)
            {
                if (v is < 0 or > 16) throw new InvalidDataException($"{path}:{lineNo}: pixel {f + 1} has value {v}, expected 0..16");
                pixels.Add((byte)v);
            }
            else
            {
                if (v is < 0 or > 9) throw new InvalidDataException($"{path}:{lineNo}: label {v} is outside 0..9");
                labels.Add(v);
            }
        }
    }

    /// <summary>
    /// Finds the folder holding the optdigits files: the first <c>data/optdigits</c> found walking up from
    /// <see cref="AppContext.BaseDirectory"/> and then from the current directory; failing that, the first
    /// <c>shared/data/optdigits</c> beside any of those ancestors (i.e. <c>../shared/data/optdigits</c> of a checkout).
    /// A folder counts only if it contains <see cref="TrainFileName"/> or <see cref="TestFileName"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such folder; the message lists every path searched.</exception>
    public static string FindDataDirectory() => FindDataDirectory([AppContext.BaseDirectory, Directory.GetCurrentDirectory()]);

    /// <summary><see cref="FindDataDirectory()"/> walking up from <paramref name="starts"/> instead.</summary>
    internal static string FindDataDirectory(IEnumerable<string> starts)
    {
        var ancestors = new List<string>();
        foreach (var start in starts)
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (!ancestors.Contains(dir.FullName)) ancestors.Add(dir.FullName);

        var searched = new List<string>();
        foreach (var rel in new[] { Path.Combine("data", "optdigits"), Path.Combine("shared", "data", "optdigits") })
            foreach (var a in ancestors)
            {
                var candidate = Path.Combine(a, rel);
                searched.Add(candidate);
                if (File.Exists(Path.Combine(candidate, TrainFileName)) || File.Exists(Path.Combine(candidate, TestFileName)))
                    return candidate;
            }
        throw new FileNotFoundException(
            $"optdigits data folder not found (looking for {TrainFileName} or {TestFileName}); searched:{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", searched));
    }
}
