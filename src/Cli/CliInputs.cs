using System.Globalization;
using NeuralTangents.Interop;

namespace NeuralTangents.Cli;

/// <summary>
/// Reading the user's files and checking <c>--out</c> for the commands: every error names the option, the file and
/// what was expected, before any work. NaN/Inf in inputs, parameters and cotangents are refused unless
/// <c>--allow-nonfinite</c>; non-finite results are a warning.
/// </summary>
internal static class CliInputs
{
    public const string AllowNonFiniteOption = "--allow-nonfinite";

    /// <summary>The .npy array at <paramref name="path"/> given for <paramref name="option"/>; with
    /// <paramref name="batched"/>, it must have a batch axis (rank ≥ 1).</summary>
    public static Tensor ReadNpy(string path, string option, bool allowNonFinite, bool batched = false)
    {
        CheckReadable(path, option, ".npy");
        Tensor t;
        try { t = Npy.Read(path); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{option}: {e.Message}", e); }
        catch (NotSupportedException e) { throw new NotSupportedException($"{option}: {e.Message}", e); }
        if (batched && t.Rank == 0)
            throw new ArgumentException($"{option} {path}: expected an array with the batch axis first, got a scalar (shape ())");
        if (!allowNonFinite && FiniteChecks.FindNonFinite(t) is { } bad)
            throw new NonFiniteInputException($"{option} {path}: the array {Describe(bad)}");
        return t;
    }

    /// <summary>The .npz archive at <paramref name="path"/> given for <paramref name="option"/>.</summary>
    public static IReadOnlyDictionary<string, Tensor> ReadNpz(string path, string option, bool allowNonFinite)
    {
        CheckReadable(path, option, ".npz");
        IReadOnlyDictionary<string, Tensor> file;
        try { file = Npz.Read(path); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{option}: {e.Message}", e); }
        catch (NotSupportedException e) { throw new NotSupportedException($"{option}: {e.Message}", e); }
        if (!allowNonFinite)
            foreach (var (name, t) in file)
                if (FiniteChecks.FindNonFinite(t) is { } bad)
                    throw new NonFiniteInputException($"{option} {path}: array '{name}' {Describe(bad)}");
        return file;
    }

    private static string Describe((int[] Index, double Value, long Count) bad) =>
        $"has {NonFiniteException.Spell(bad.Value)} at index {NonFiniteException.FormatIndex(bad.Index)}" +
        (bad.Count > 1 ? $" ({bad.Count.ToString("N0", CultureInfo.InvariantCulture)} non-finite values in all)" : "") +
        $"; NaN/Inf give a NaN kernel ({AllowNonFiniteOption} to compute anyway)";

    internal static void CheckReadable(string path, string option, string kind)
    {
        if (path.Length == 0) throw new ArgumentException($"{option}: expected a {kind} file, got an empty path");
        if (Directory.Exists(path)) throw new ArgumentException($"{option}: '{path}' is a folder; expected a {kind} file");
        if (!File.Exists(path)) throw new FileNotFoundException($"{option}: file '{path}' not found");
    }

    /// <summary>
    /// Checks <c>--out</c> before any work: one of <paramref name="extensions"/>, not a folder, in an existing folder.
    /// Returns the extension found (lower case).
    /// </summary>
    public static string CheckOut(string outPath, params string[] extensions)
    {
        var ext = extensions.FirstOrDefault(e => outPath.EndsWith(e, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"--out: expected a {string.Join(" or ", extensions)} file, got '{outPath}'");
        if (Path.GetFileName(outPath).Length == ext.Length)
            throw new ArgumentException($"--out: '{outPath}' has no file name before {ext}");
        if (Directory.Exists(outPath)) throw new ArgumentException($"--out: '{outPath}' is a folder; expected a {ext} file");
        var outDir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (outDir is not null && !Directory.Exists(outDir))
            throw new DirectoryNotFoundException($"--out: folder '{outDir}' does not exist");
        return ext;
    }

    /// <summary>Warns on <paramref name="stderr"/> when the .npy file at <paramref name="path"/> (a kernel written in tiles)
    /// has NaN/Inf, reading it in chunks; returns whether it did.</summary>
    public static bool WarnNonFinite(TextWriter stderr, string path, string name, string? hint = null)
    {
        if (Npy.ScanNonFinite(path) is not { } bad) return false;
        var index = new int[bad.Shape.Rank];
        long rest = bad.First;
        for (int a = index.Length - 1; a >= 0; a--) { index[a] = (int)(rest % bad.Shape[a]); rest /= bad.Shape[a]; }
        Warn(stderr, name, bad.Count, bad.Shape.LongSize, bad.Value, index, hint);
        return true;
    }

    private static void Warn(TextWriter stderr, string name, long count, long size, double value, int[] index, string? hint) =>
        stderr.WriteLine($"nt: warning: {name} has {count.ToString("N0", CultureInfo.InvariantCulture)} non-finite " +
            $"value{(count == 1 ? "" : "s")} of {size.ToString("N0", CultureInfo.InvariantCulture)} (first: {NonFiniteException.Spell(value)} " +
            $"at index {NonFiniteException.FormatIndex(index)}){(hint is null ? "" : "; " + hint)}");

    /// <summary>Warns on <paramref name="stderr"/> when <paramref name="t"/> has NaN/Inf; returns whether it did.</summary>
    public static bool WarnNonFinite(TextWriter stderr, Tensor t, string name, string? hint = null)
    {
        if (FiniteChecks.FindNonFinite(t) is not { } bad) return false;
        Warn(stderr, name, bad.Count, t.Size, bad.Value, bad.Index, hint);
        return true;
    }
}

/// <summary>A NaN or Inf in an input file (a user error; <c>--allow-nonfinite</c> turns the check off).</summary>
internal sealed class NonFiniteInputException(string message) : ArgumentException(message);
