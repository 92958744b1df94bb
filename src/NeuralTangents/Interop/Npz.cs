using System.IO.Compression;
using NeuralTangents.Tensors;

namespace NeuralTangents.Interop;

/// <summary>
/// Reads and writes NumPy <c>.npz</c> archives: a zip of <c>&lt;key&gt;.npy</c> entries, as <c>numpy.savez</c>
/// (stored) and <c>numpy.savez_compressed</c> (deflated) write them. Keys may contain dots (<c>"0.W"</c>).
/// </summary>
public static class Npz
{
    // Fixed entry timestamps keep archives byte-identical from run to run (the zip format cannot go below 1980).
    private static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Reads every array of the archive at <paramref name="path"/>, keyed by entry name without <c>.npy</c>,
    /// in archive order.</summary>
    /// <exception cref="InvalidDataException">The file is not a zip archive, an entry is not a <c>.npy</c> file,
    /// two entries share a key, or an entry is malformed (messages name the archive and entry).</exception>
    /// <exception cref="NotSupportedException">An entry has an unsupported dtype or layout (see <see cref="Npy.Read(string)"/>).</exception>
    public static IReadOnlyDictionary<string, Tensor> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        ZipArchive zip;
        try { zip = new ZipArchive(fs, ZipArchiveMode.Read); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not a valid .npz (zip) archive: {e.Message}", e); }
        using (zip)
        {
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                if (entry.FullName.EndsWith('/')) continue; // directory record
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal))
                    throw new InvalidDataException($"{path}: entry '{entry.FullName}' is not a .npy array");
                var key = entry.FullName[..^4];
                var source = $"{path}[{entry.FullName}]";
                if (result.ContainsKey(key))
                    throw new InvalidDataException($"{path}: more than one entry for key '{key}'");
                using var s = entry.Open();
                var t = Npy.Read(s, source);
                Npy.RequireEnd(s, source, t.Shape);
                result.Add(key, t);
            }
            return result;
        }
    }

    /// <summary>Writes <paramref name="entries"/> to <paramref name="path"/> (created or replaced, atomically: see
    /// <see cref="AtomicFile"/>) as entries
    /// <c>&lt;key&gt;.npy</c>; stored like <c>numpy.savez</c>, or deflated like <c>numpy.savez_compressed</c> when
    /// <paramref name="compressed"/>.</summary>
    /// <exception cref="ArgumentException">A key is null or empty, or appears twice, or a tensor is null
    /// (checked before the file is touched).</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> entries, bool compressed = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, tensor) in list)
        {
            if (string.IsNullOrEmpty(key))
                throw new ArgumentException("npz keys must be non-empty strings, got " + (key is null ? "null" : "\"\""), nameof(entries));
            if (!seen.Add(key))
                throw new ArgumentException($"npz key '{key}' appears more than once", nameof(entries));
            if (tensor is null)
                throw new ArgumentException($"npz entry '{key}' has a null tensor", nameof(entries));
        }

        AtomicFile.Write(path, fs =>
        {
            using var zip = new ZipArchive(fs, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (key, tensor) in list)
            {
                var entry = zip.CreateEntry(key + ".npy", compressed ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
                entry.LastWriteTime = EntryTime;
                using var s = entry.Open();
                Npy.Write(s, tensor);
            }
        });
    }
}
