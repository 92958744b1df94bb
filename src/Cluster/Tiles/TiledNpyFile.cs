using System.Runtime.InteropServices;
using System.Text.Json;
using NeuralTangents.Interop;

namespace NeuralTangents.Cluster.Tiles;

/// <summary>
/// A kernel .npy written tile by tile without ever holding the whole kernel: data goes to <c>PATH.partial</c> (header
/// first, then positioned writes), finished tiles are recorded in the manifest <c>PATH.tiles.json</c> together with the
/// kernel's hash; <see cref="Complete"/> renames the file into place and removes the manifest, so an existing output
/// is never clobbered by a failed run and an interrupted one can resume. Thread-safe.
/// </summary>
internal sealed class TiledNpyFile : IDisposable
{
    private sealed record Manifest(int Version, string KernelHash, int[] Shape, string DType, int BatchSize, int TotalTiles, int[] Done);

    private readonly object _lock = new();
    private readonly string _path, _partial, _manifest;
    private readonly FileStream _fs;
    private readonly long _dataOffset;
    private readonly int _elem;
    private readonly Shape _shape;
    private readonly DType _dtype;
    private readonly string _hash;
    private readonly int _batchSize, _totalTiles;
    private readonly SortedSet<int> _done = new();

    public IReadOnlyCollection<int> Done { get { lock (_lock) return _done.ToArray(); } }

    public static string ManifestPath(string path) => path + ".tiles.json";

    public TiledNpyFile(string path, Shape shape, DType dtype, string kernelHash, int batchSize, int totalTiles, bool resume)
    {
        (_path, _partial, _manifest) = (path, path + ".partial", ManifestPath(path));
        (_shape, _dtype, _hash, _batchSize, _totalTiles) = (shape, dtype, kernelHash, batchSize, totalTiles);
        _elem = dtype.SizeOf();
        var header = NpyHeader.Encode(dtype, shape);
        _dataOffset = header.Length;
        long length = _dataOffset + (long)shape.Size * _elem;
        if (resume && File.Exists(_manifest))
        {
            Manifest m;
            try { m = JsonSerializer.Deserialize<Manifest>(File.ReadAllBytes(_manifest)) ?? throw new InvalidDataException("empty"); }
            catch (JsonException e) { throw new InvalidDataException($"--resume: manifest '{_manifest}' is unreadable: {e.Message}"); }
            if (m.KernelHash != kernelHash || m.BatchSize != batchSize || m.TotalTiles != totalTiles)
                throw new InvalidDataException($"--resume: manifest '{_manifest}' belongs to a different kernel (hash, inputs, options or --batch-size differ); remove it or drop --resume");
            if (!File.Exists(_partial) || new FileInfo(_partial).Length != length)
                throw new InvalidDataException($"--resume: '{_partial}' is missing or has the wrong size for the manifest '{_manifest}'");
            foreach (var d in m.Done) _done.Add(d);
            _fs = new FileStream(_partial, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        else
        {
            _fs = new FileStream(_partial, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
            _fs.SetLength(length);
            _fs.Write(header);
            _fs.Flush(true);
            SaveManifest();
        }
    }

    /// <summary>Writes one kernel tile: rows <paramref name="row0"/>… and columns <paramref name="col0"/>… (columns
    /// ignored when <paramref name="rowsOnly"/>: a diagonal-axis-0 kernel whose tiles are whole rows).</summary>
    public void WriteBlock(Tensor tile, int row0, int col0, bool rowsOnly)
    {
        var c = tile.Contiguous();
        var bytes = c.DType == DType.Float32 ? MemoryMarshal.AsBytes(c.Span<float>()) : MemoryMarshal.AsBytes(c.Span<double>());
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        long rest = rowsOnly ? _shape.Size / _shape[0] : _shape.Size / ((long)_shape[0] * _shape[1]);
        int rows = tile.Shape[0];
        long rowBytes = (rowsOnly ? 1 : tile.Shape[1]) * rest * _elem;
        var handle = _fs.SafeFileHandle;
        for (int r = 0; r < rows; r++)
        {
            long elemOffset = rowsOnly ? (long)(row0 + r) * rest : ((long)(row0 + r) * _shape[1] + col0) * rest;
            RandomAccess.Write(handle, bytes.Slice((int)(r * rowBytes), (int)rowBytes), _dataOffset + elemOffset * _elem);
        }
    }

    /// <summary>Records tile <paramref name="index"/> as finished (after its blocks were written).</summary>
    public void MarkDone(int index)
    {
        lock (_lock)
        {
            _fs.Flush(true);
            _done.Add(index);
            SaveManifest();
        }
    }

    private void SaveManifest()
    {
        var m = new Manifest(1, _hash, _shape.ToArray(), _dtype.ToString(), _batchSize, _totalTiles, _done.ToArray());
        var tmp = _manifest + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(m));
        File.Move(tmp, _manifest, overwrite: true);
    }

    /// <summary>All tiles are written: moves the file to its final path and removes the manifest.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _fs.Flush(true);
            _fs.Dispose();
            File.Move(_partial, _path, overwrite: true);
            File.Delete(_manifest);
        }
    }

    public void Dispose() => _fs.Dispose();
}
