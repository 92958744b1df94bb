using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using NeuralTangents.Tensors;

namespace NeuralTangents.Interop;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format versions 1.0, 2.0 and 3.0) holding little-endian float32
/// (<c>'&lt;f4'</c>) or float64 (<c>'&lt;f8'</c>) arrays in C order. Files written here are byte-identical to
/// <c>numpy.save</c> of the same array.
/// </summary>
public static class Npy
{
    // Elements per read/write chunk: keeps byte counts well inside int range for any array length.
    private const int ChunkElements = 1 << 20;

    /// <summary>Reads the array stored in the <c>.npy</c> file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed <c>.npy</c> file (the message names it), or
    /// it holds more data than its header's shape declares (NumPy ignores the extra bytes; this is stricter).</exception>
    /// <exception cref="NotSupportedException">The dtype is not <c>'&lt;f4'</c>/<c>'&lt;f8'</c>, the array is in Fortran order,
    /// or the format version is unknown.</exception>
    public static Tensor Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var t = Read(fs, path);
        RequireEnd(fs, path, t.Shape);
        return t;
    }

    /// <summary>
    /// Stricter than NumPy, which ignores bytes after the data: a file (or archive entry) whose header declares fewer
    /// elements than it holds is refused, since its shape is then almost certainly wrong (a truncated shape, a
    /// header written for another array) and reading it would silently use part of the data.
    /// </summary>
    internal static void RequireEnd(Stream stream, string source, Shape shape)
    {
        Span<byte> probe = stackalloc byte[1];
        if (ReadFully(stream, probe) == 0) return;
        long extra = 1;
        if (stream.CanSeek) extra = stream.Length - stream.Position + 1;
        else
        {
            var buf = new byte[1 << 16];
            for (int n; (n = stream.Read(buf)) > 0;) extra += n;
        }
        throw new InvalidDataException($"{source}: {extra} bytes follow the data of shape {shape}: the header declares fewer elements than the file holds " +
            "(NumPy ignores them; here it is an error, as the shape is then probably wrong)");
    }

    /// <summary>Reads one <c>.npy</c> array from <paramref name="stream"/>, leaving it positioned after the data.
    /// The stream need not be seekable.</summary>
    /// <exception cref="InvalidDataException">The stream does not hold a well-formed <c>.npy</c> array.</exception>
    /// <exception cref="NotSupportedException">The dtype is not <c>'&lt;f4'</c>/<c>'&lt;f8'</c>, the array is in Fortran order,
    /// or the format version is unknown.</exception>
    public static Tensor Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, stream is FileStream fs ? fs.Name : "<stream>");
    }

    /// <summary>Reads one array; <paramref name="source"/> names the file (or archive entry) in error messages.</summary>
    internal static Tensor Read(Stream stream, string source)
    {
        var (dtype, shape) = ReadHeader(stream, source);
        return dtype == DType.Float32 ? ReadData<float>(stream, shape, source) : ReadData<double>(stream, shape, source);
    }

    /// <summary>Reads the preamble and header, leaving the stream at the first data byte.</summary>
    internal static (DType DType, Shape Shape) ReadHeader(Stream stream, string source)
    {
        Span<byte> pre = stackalloc byte[8];
        if (ReadFully(stream, pre) < 8 || !pre[..6].SequenceEqual(NpyHeader.Magic))
            throw new InvalidDataException($"{source}: not a .npy file (missing the \\x93NUMPY magic string)");
        int major = pre[6], minor = pre[7];
        if (major is < 1 or > 3 || minor != 0)
            throw new NotSupportedException($"{source}: .npy format version {major}.{minor} is not supported (expected 1.0, 2.0 or 3.0)");

        Span<byte> lenBytes = stackalloc byte[major == 1 ? 2 : 4];
        if (ReadFully(stream, lenBytes) < lenBytes.Length)
            throw new InvalidDataException($"{source}: truncated .npy header length");
        long headerLen = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lenBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lenBytes);
        if (headerLen > 1 << 24)
            throw new InvalidDataException($"{source}: .npy header length {headerLen} is implausibly large");
        var headerBytes = new byte[headerLen];
        if (ReadFully(stream, headerBytes) < headerBytes.Length)
            throw new InvalidDataException($"{source}: truncated .npy header (expected {headerLen} bytes)");
        var text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        var h = NpyHeader.Parse(text, source);
        DType dtype = h.Descr switch
        {
            "<f4" => DType.Float32,
            "<f8" => DType.Float64,
            _ => throw new NotSupportedException(
                $"{source}: dtype descr '{h.Descr}' is not supported; only '<f4' (float32) and '<f8' (float64), little-endian, can be read"),
        };
        if (h.FortranOrder)
            throw new NotSupportedException(
                $"{source}: fortran_order True (column-major) arrays are not supported; save a C-ordered array (numpy.ascontiguousarray)");

        return (dtype, h.Shape);
    }

    /// <summary>
    /// The first non-finite value of the .npy file at <paramref name="path"/> (flat C-order index and value) and
    /// how many there are, read in chunks so that a kernel larger than memory can be checked; null when all are finite.
    /// </summary>
    internal static (long First, double Value, long Count, Shape Shape)? ScanNonFinite(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var (dtype, shape) = ReadHeader(fs, path);
        return dtype == DType.Float32 ? Scan<float>(fs, shape) : Scan<double>(fs, shape);
    }

    private static (long, double, long, Shape)? Scan<T>(Stream s, Shape shape) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var buf = new T[ChunkElements];
        long total = shape.LongSize, done = 0, first = -1, count = 0;
        double value = 0;
        while (done < total)
        {
            int n = (int)Math.Min(buf.Length, total - done);
            var bytes = MemoryMarshal.AsBytes(buf.AsSpan(0, n));
            if (ReadFully(s, bytes) < bytes.Length) throw new InvalidDataException($"truncated .npy data in {(s as FileStream)?.Name}");
            if (!BitConverter.IsLittleEndian) ReverseEndianness(buf.AsSpan(0, n));
            for (int i = 0; i < n; i++)
                if (!T.IsFinite(buf[i]))
                {
                    if (first < 0) { first = done + i; value = double.CreateTruncating(buf[i]); }
                    count++;
                }
            done += n;
        }
        return first < 0 ? null : (first, value, count, shape);
    }

    private static Tensor ReadData<T>(Stream stream, Shape shape, string source) where T : unmanaged
    {
        var data = new T[shape.Size];
        int elem = Marshal.SizeOf<T>();
        for (int start = 0; start < data.Length; start += ChunkElements)
        {
            var bytes = MemoryMarshal.AsBytes(data.AsSpan(start, Math.Min(ChunkElements, data.Length - start)));
            int got = ReadFully(stream, bytes);
            if (got < bytes.Length)
                throw new InvalidDataException(
                    $"{source}: truncated .npy data: shape {shape} needs {(long)data.Length * elem} bytes, found {(long)start * elem + got}");
        }
        if (!BitConverter.IsLittleEndian) ReverseEndianness(data);
        return Tensor.Wrap(data, shape);
    }

    /// <summary>Writes <paramref name="tensor"/> to <paramref name="path"/> (created or replaced) as <c>numpy.save</c> would,
    /// atomically (<see cref="AtomicFile"/>): if writing fails, a previous file at <paramref name="path"/> is left untouched.</summary>
    public static void Write(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensor);
        AtomicFile.Write(path, fs => Write(fs, tensor));
    }

    /// <summary>Writes <paramref name="tensor"/> to <paramref name="stream"/> in C order: format 1.0, or 2.0 when the
    /// header does not fit a 16-bit length; dtype <c>'&lt;f4'</c> or <c>'&lt;f8'</c>. Strided views are written in
    /// their logical (C) order.</summary>
    public static void Write(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensor);
        stream.Write(NpyHeader.Encode(tensor.DType, tensor.Shape));
        if (tensor.Size == 0) return; // nothing to write (and Tensor.IsContiguous is false for size-0 shapes)
        var c = tensor.Contiguous();
        if (c.DType == DType.Float32) WriteData(stream, c.Span<float>());
        else WriteData(stream, c.Span<double>());
    }

    private static void WriteData<T>(Stream stream, ReadOnlySpan<T> data) where T : unmanaged
    {
        T[]? swap = BitConverter.IsLittleEndian ? null : new T[Math.Min(ChunkElements, data.Length)];
        for (int start = 0; start < data.Length; start += ChunkElements)
        {
            var chunk = data.Slice(start, Math.Min(ChunkElements, data.Length - start));
            if (swap is not null)
            {
                chunk.CopyTo(swap);
                ReverseEndianness(swap.AsSpan(0, chunk.Length));
                chunk = swap.AsSpan(0, chunk.Length);
            }
            stream.Write(MemoryMarshal.AsBytes(chunk));
        }
    }

    private static void ReverseEndianness<T>(Span<T> data) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<T, int>(data), MemoryMarshal.Cast<T, int>(data));
        else BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<T, long>(data), MemoryMarshal.Cast<T, long>(data));
    }

    private static int ReadFully(Stream s, Span<byte> buf) => s.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
}
