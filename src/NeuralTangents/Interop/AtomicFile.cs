namespace NeuralTangents.Interop;

/// <summary>
/// Writes a file all at once or not at all: the data goes to a temporary file beside the target (same folder, so
/// the same file system) and is renamed over the target only by <see cref="Commit"/>, after it is flushed to disk.
/// Disposing without committing (an exception while writing, a full disk) deletes the temporary file and leaves
/// any previous file at the target untouched. Readers never see a half-written file.
/// <code>
/// using (var w = new AtomicFile(path)) { Npy.Write(w.Stream, tensor); w.Commit(); }
/// AtomicFile.Write(path, s =&gt; Npy.Write(s, tensor));   // the same
/// </code>
/// </summary>
public sealed class AtomicFile : IDisposable
{
    private readonly FileStream _stream;
    private readonly bool _flushToDisk;
    private bool _done;

    /// <summary>The file that <see cref="Commit"/> creates or replaces.</summary>
    public string Path { get; }

    /// <summary>The temporary file being written: <c>&lt;target name&gt;.&lt;random&gt;.tmp</c> in the target's folder.</summary>
    public string TempPath { get; }

    /// <summary>Where to write the contents (a buffered, seekable <see cref="FileStream"/> on <see cref="TempPath"/>).</summary>
    public Stream Stream => _done ? throw new ObjectDisposedException(nameof(AtomicFile)) : _stream;

    /// <summary>Creates the temporary file beside <paramref name="path"/>. With <paramref name="flushToDisk"/> (the default)
    /// <see cref="Commit"/> forces the data to the device before the rename, so the file survives a crash too;
    /// without, it only survives the process (cheaper for small files rewritten often, e.g. progress manifests).</summary>
    /// <exception cref="IOException">The target is a folder, or its folder does not exist or is not writable
    /// (<see cref="DirectoryNotFoundException"/>, <see cref="UnauthorizedAccessException"/>).</exception>
    public AtomicFile(string path, int bufferSize = 1 << 16, bool flushToDisk = true)
    {
        _flushToDisk = flushToDisk;
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(Path)) throw new IOException($"{path} is a folder, not a file");
        var dir = System.IO.Path.GetDirectoryName(Path)!;
        TempPath = System.IO.Path.Combine(dir, $"{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid().ToString("N")[..8]}.tmp");
        _stream = new FileStream(TempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize);
    }

    /// <summary>Flushes the contents to disk and renames the temporary file over the target.</summary>
    /// <exception cref="IOException">Flushing or renaming failed (the temporary file is then deleted, the target untouched).</exception>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        try
        {
            _stream.Flush(flushToDisk: _flushToDisk);
            _stream.Dispose();
            File.Move(TempPath, Path, overwrite: true);
            _done = true;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Without <see cref="Commit"/>: closes and deletes the temporary file; the target is left as it was.</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        try { _stream.Dispose(); }
        catch (IOException) { } // a full disk can fail the final flush; the file is deleted anyway
        try { File.Delete(TempPath); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Writes <paramref name="path"/> atomically with <paramref name="write"/>: all of it or, when
    /// <paramref name="write"/> or the disk fails, nothing (the previous file, if any, is kept).</summary>
    public static void Write(string path, Action<Stream> write, int bufferSize = 1 << 16, bool flushToDisk = true)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var f = new AtomicFile(path, bufferSize, flushToDisk);
        write(f.Stream);
        f.Commit();
    }
}
