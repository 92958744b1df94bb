using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NeuralTangents.Interop;

namespace NeuralTangents.Tiles;

/// <summary>
/// Writes a kernel into an <c>.npy</c> file tile by tile without holding it: the header first, then each tile's
/// contiguous runs at their positions (positioned writes; nothing is buffered beyond one tile).
/// </summary>
public sealed class NpyTileWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly SafeFileHandle _handle;
    private readonly long _dataStart;

    /// <summary>Kernel shape.</summary>
    public Shape Shape { get; }

    /// <summary>Kernel dtype.</summary>
    public DType DType { get; }

    /// <summary>The file written.</summary>
    public string Path { get; }

    private NpyTileWriter(string path, DType dtype, Shape shape, bool create)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("tiled .npy output needs a little-endian machine");
        Path = path; DType = dtype; Shape = shape;
        var header = NpyHeader.Encode(dtype, shape);
        _dataStart = header.Length;
        // 64-bit: a kernel on disk may exceed 2³¹ elements (no tensor of that size is ever built).
        long total = _dataStart + shape.LongSize * dtype.SizeOf();
        if (create) CheckFreeSpace(path, total);
        _file = new FileStream(path, create ? FileMode.Create : FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.RandomAccess);
        _handle = _file.SafeFileHandle;
        if (create)
        {
            RandomAccess.Write(_handle, header, 0);
            _file.SetLength(total);
        }
        else
        {
            var existing = new byte[header.Length];
            if (_file.Length != total || RandomAccess.Read(_handle, existing, 0) != existing.Length || !existing.AsSpan().SequenceEqual(header))
            {
                _file.Dispose();
                throw new InvalidDataException($"{path}: not the partial kernel expected ({dtype.Name()} {shape}, {total} bytes)");
            }
        }
    }

    /// <summary>Refuses before any work when the file system holding <paramref name="path"/> has less free space than the
    /// kernel needs (a sparse file would otherwise be created and the disk fill up tiles later).</summary>
    private static void CheckFreeSpace(string path, long bytes)
    {
        long free;
        try { free = new DriveInfo(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!).AvailableFreeSpace; }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException) { return; } // unknown: let the writes tell
        if (bytes > free)
            throw new IOException($"{path}: the kernel needs {Size(bytes)} on disk but only {Size(free)} are free there");
    }

    private static string Size(double bytes) => bytes >= 1L << 40 ? $"{bytes / (1L << 40):0.#} TiB" : bytes >= 1 << 30 ? $"{bytes / (1 << 30):0.#} GiB" : $"{bytes / (1 << 20):0.#} MiB";

    /// <summary>Creates (or replaces) <paramref name="path"/>: header written, data zero until tiles arrive.</summary>
    public static NpyTileWriter Create(string path, DType dtype, Shape shape) => new(path, dtype, shape, create: true);

    /// <summary>Opens an existing partial file to continue it.</summary>
    /// <exception cref="InvalidDataException">Its header or length does not match.</exception>
    public static NpyTileWriter Open(string path, DType dtype, Shape shape) => new(path, dtype, shape, create: false);

    /// <summary>Writes <paramref name="tile"/> (same rank and dtype as the kernel) with its first element at <paramref name="offsets"/>.</summary>
    public void Write(Tensor tile, int[] offsets)
    {
        ArgumentNullException.ThrowIfNull(tile);
        if (tile.DType != DType) throw new ArgumentException($"tile is {tile.DType.Name()} but the kernel is {DType.Name()}", nameof(tile));
        var c = tile.Contiguous();
        int size = DType.SizeOf();
        TileRuns.ForEach(Shape, c.Shape, offsets, (dst, src, len) =>
        {
            ReadOnlySpan<byte> bytes = c.DType == DType.Float32
                ? MemoryMarshal.AsBytes(((float[])c.Storage).AsSpan(c.Offset + (int)src, len))
                : MemoryMarshal.AsBytes(((double[])c.Storage).AsSpan(c.Offset + (int)src, len));
            RandomAccess.Write(_handle, bytes, _dataStart + dst * size);
        });
    }

    /// <summary>Flushes written data to the storage device (before a manifest records the tile as done).</summary>
    public void Flush() => _file.Flush(flushToDisk: true);

    /// <summary>Closes the file.</summary>
    public void Dispose() => _file.Dispose();
}
