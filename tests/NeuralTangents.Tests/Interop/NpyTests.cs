using System.Buffers.Binary;
using System.Text;
using FsCheck.Xunit;
using NeuralTangents.Interop;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Interop;

public sealed class NpyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-npy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Tensor Arange(Shape shape, DType dtype)
    {
        var d = Enumerable.Range(0, shape.Size).Select(i => i * 0.5 - 3).ToArray();
        return Make(d, shape, dtype);
    }

    // Builds float32 directly rather than via AsType, which trips Tensor's IsContiguous assert on size-0 shapes.
    private static Tensor Make(double[] d, Shape shape, DType dtype) =>
        dtype == DType.Float64 ? Tensor.FromArray(d, shape) : Tensor.FromArray(d.Select(x => (float)x).ToArray(), shape);

    private static byte[] ToBytes(Tensor t)
    {
        using var ms = new MemoryStream();
        Npy.Write(ms, t);
        return ms.ToArray();
    }

    private static Tensor FromBytes(byte[] b) => Npy.Read(new MemoryStream(b));

    private static void AssertBitwiseEqual(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.DType, actual.DType);
        Assert.Equal(expected.Shape, actual.Shape);
        if (expected.Size == 0) return; // Tensor.ToArray asserts IsContiguous, which is false for size-0 shapes
        if (expected.DType == DType.Float32)
            Assert.Equal(expected.ToArray<float>().Select(BitConverter.SingleToInt32Bits), actual.ToArray<float>().Select(BitConverter.SingleToInt32Bits));
        else
            Assert.Equal(expected.ToDoubleArray().Select(BitConverter.DoubleToInt64Bits), actual.ToDoubleArray().Select(BitConverter.DoubleToInt64Bits));
    }

    /// <summary>Header exactly as numpy.lib.format writes it: dict repr, 21-digit growth padding, spaces to a
    /// multiple of 64 bytes, '\n'.</summary>
    private static byte[] NumpyStyleHeader(string dict, int major = 1, int firstDim = -1)
    {
        var text = dict + (firstDim >= 0 ? new string(' ', 21 - firstDim.ToString().Length) : "");
        int prefix = major == 1 ? 10 : 12;
        int total = (prefix + text.Length + 1 + 63) / 64 * 64;
        if ((prefix + text.Length + 1) % 64 == 0) total += 64;
        var b = new byte[total];
        b[0] = 0x93; "NUMPY"u8.CopyTo(b.AsSpan(1));
        b[6] = (byte)major;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), (ushort)(total - prefix));
        else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), (uint)(total - prefix));
        Encoding.ASCII.GetBytes(text).CopyTo(b, prefix);
        b.AsSpan(prefix + text.Length).Fill((byte)' ');
        b[^1] = (byte)'\n';
        return b;
    }

    [Fact]
    public void Header_of_arange6_reshaped_2x3_is_byte_identical_to_numpy_save()
    {
        // np.save(f, np.arange(6.0).reshape(2, 3)): 128-byte preamble, header length 118 = 0x76.
        var expectedHeader = Encoding.Latin1.GetBytes(
            "\x93NUMPY\x01\x00\x76\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"
            + new string(' ', 128 - 10 - 59 - 1) + "\n");
        Assert.Equal(128, expectedHeader.Length);
        var expected = expectedHeader.Concat(Enumerable.Range(0, 6).SelectMany(i => BitConverter.GetBytes((double)i))).ToArray();

        var actual = ToBytes(Tensor.FromArray([0.0, 1, 2, 3, 4, 5], new Shape(2, 3)));
        Assert.Equal(expected, actual);
        AssertBitwiseEqual(Tensor.FromArray([0.0, 1, 2, 3, 4, 5], new Shape(2, 3)), FromBytes(expected));
    }

    [Theory]
    [InlineData(DType.Float32, new int[0], "()")]
    [InlineData(DType.Float64, new[] { 5 }, "(5,)")]
    [InlineData(DType.Float32, new[] { 2, 0, 3 }, "(2, 0, 3)")]
    [InlineData(DType.Float64, new[] { 123456, 0 }, "(123456, 0)")]
    public void Headers_match_numpy_layout(DType dtype, int[] dims, string repr)
    {
        var shape = new Shape(dims);
        var descr = dtype == DType.Float32 ? "<f4" : "<f8";
        var expected = NumpyStyleHeader($"{{'descr': '{descr}', 'fortran_order': False, 'shape': {repr}, }}",
            firstDim: dims.Length > 0 ? dims[0] : -1);
        var actual = ToBytes(Tensor.Zeros(shape, dtype));
        Assert.Equal(expected.Length + shape.Size * dtype.SizeOf(), actual.Length);
        Assert.Equal(expected, actual[..expected.Length]);
        Assert.Equal(0, expected.Length % 64);
    }

    public static TheoryData<DType, int[]> RoundTripCases()
    {
        var d = new TheoryData<DType, int[]>();
        foreach (var t in new[] { DType.Float32, DType.Float64 })
            foreach (var s in new[] { Array.Empty<int>(), [5], [2, 3], [2, 0, 3], [0], [1, 1, 1, 7] })
                d.Add(t, s);
        return d;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void Round_trips_through_a_file(DType dtype, int[] dims)
    {
        var t = Arange(new Shape(dims), dtype);
        var path = Path.Combine(_dir, "a.npy");
        Npy.Write(path, t);
        var back = Npy.Read(path);
        AssertBitwiseEqual(t, back);
        if (t.Size > 0) Assert.True(back.IsContiguous);
    }

    [Fact]
    public void Special_values_round_trip_bitwise()
    {
        double[] v = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, double.Epsilon, double.MaxValue, 1e-310, Math.PI];
        AssertBitwiseEqual(Tensor.FromArray(v), FromBytes(ToBytes(Tensor.FromArray(v))));
        var f = v.Select(x => (float)x).ToArray();
        AssertBitwiseEqual(Tensor.FromArray(f, new Shape(f.Length)), FromBytes(ToBytes(Tensor.FromArray(f, new Shape(f.Length)))));
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Strided_views_are_written_in_logical_C_order(DType dtype)
    {
        var baseT = Arange(new Shape(4, 3, 2), dtype);
        var views = new[]
        {
            baseT.Transpose(2, 1, 0),                                  // (2, 3, 4), transposed
            baseT.Transpose(1, 0, 2).Rev(0),                           // negative strides
            baseT.Slice([0, 0, 0], [4, 3, 2], [2, 2, 1]),              // step-2 slice
            Arange(new Shape(3, 1), dtype).BroadcastTo(new Shape(2, 3, 4)), // zero strides
        };
        foreach (var v in views)
        {
            Assert.False(v.IsContiguous);
            var bytes = ToBytes(v);
            var back = FromBytes(bytes);
            Assert.Equal(v.Shape, back.Shape);
            // Expected data: the view's elements enumerated by the indexer in C order.
            var expected = new List<double>();
            Enumerate(v, new int[v.Rank], 0, expected);
            Assert.Equal(expected, back.ToDoubleArray());
            int headerLen = bytes.Length - v.Size * dtype.SizeOf();
            var raw = bytes[headerLen..];
            var decoded = dtype == DType.Float32
                ? Enumerable.Range(0, v.Size).Select(i => (double)BitConverter.ToSingle(raw, 4 * i))
                : Enumerable.Range(0, v.Size).Select(i => BitConverter.ToDouble(raw, 8 * i));
            Assert.Equal(expected, decoded);
        }
        Assert.Equal(new Shape(2, 3, 4), views[0].Shape);
    }

    private static void Enumerate(Tensor t, int[] idx, int axis, List<double> into)
    {
        if (axis == t.Rank) { into.Add(t[idx]); return; }
        for (int i = 0; i < t.Shape[axis]; i++) { idx[axis] = i; Enumerate(t, idx, axis + 1, into); }
    }

    [Property(MaxTest = 60)]
    public void Random_shapes_round_trip(int seed, bool f32)
    {
        var rng = new Random(seed);
        var dims = Enumerable.Range(0, rng.Next(0, 5)).Select(_ => rng.Next(0, 5)).ToArray();
        var dtype = f32 ? DType.Float32 : DType.Float64;
        var shape = new Shape(dims);
        var t = Make(Enumerable.Range(0, shape.Size).Select(_ => rng.NextDouble() * 8 - 4).ToArray(), shape, dtype);
        var bytes = ToBytes(t);
        int headerLen = bytes.Length - t.Size * dtype.SizeOf();
        Assert.Equal(0, headerLen % 64);
        Assert.Equal((byte)'\n', bytes[headerLen - 1]);
        AssertBitwiseEqual(t, FromBytes(bytes));
    }

    [Fact]
    public void Huge_header_switches_to_version_2_and_reads_back()
    {
        var dims = Enumerable.Repeat(1, 23000).ToArray(); // "1, " x 23000 > 65535 header bytes
        var t = Tensor.Full(new Shape(dims), 2.5);
        var bytes = ToBytes(t);
        Assert.Equal(2, bytes[6]);
        Assert.Equal(0, bytes[7]);
        uint hlen = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        Assert.Equal(bytes.Length - 8, 12 + (int)hlen);
        Assert.Equal(0u, (12 + hlen) % 64);
        var back = FromBytes(bytes);
        Assert.Equal(t.Shape, back.Shape);
        Assert.Equal(2.5, back.ToScalar());
        // Small headers stay at version 1.0.
        Assert.Equal(1, ToBytes(Tensor.Scalar(1))[6]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Reads_versions_2_and_3(int major)
    {
        var header = NumpyStyleHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", major, firstDim: 3);
        var data = new[] { 1.5f, -2f, 7f }.SelectMany(BitConverter.GetBytes);
        header[6] = (byte)major;
        var t = FromBytes(header.Concat(data).ToArray());
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal(new[] { 1.5f, -2f, 7f }, t.ToArray<float>());
    }

    [Fact]
    public void Reads_headers_written_by_older_tools()
    {
        // No growth padding, double quotes, other key order, Python 2 long suffixes, no trailing comma.
        var header = NumpyStyleHeader("{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"<f8\"}");
        var t = FromBytes(header.Concat(new[] { 4.0, 5.0 }.SelectMany(BitConverter.GetBytes)).ToArray());
        Assert.Equal(new Shape(2, 1), t.Shape);
        Assert.Equal(new[] { 4.0, 5.0 }, t.ToDoubleArray());
    }

    [Fact]
    public void Read_leaves_the_stream_after_the_data()
    {
        using var ms = new MemoryStream();
        Npy.Write(ms, Tensor.FromArray(1.0, 2.0));
        Npy.Write(ms, Tensor.Scalar(3, DType.Float32));
        ms.Position = 0;
        Assert.Equal(new[] { 1.0, 2.0 }, Npy.Read(ms).ToDoubleArray());
        Assert.Equal(3.0, Npy.Read(ms).ToScalar());
        Assert.Equal(ms.Length, ms.Position);
    }

    private string WriteRaw(string dict, byte[] data, int major = 1)
    {
        var path = Path.Combine(_dir, $"raw{Guid.NewGuid():N}.npy");
        File.WriteAllBytes(path, NumpyStyleHeader(dict, major).Concat(data).ToArray());
        return path;
    }

    [Theory]
    [InlineData("<i8")]
    [InlineData(">f8")]
    [InlineData("|f4")]
    [InlineData("<f2")]
    [InlineData("<c16")]
    public void Unsupported_descr_is_rejected_naming_file_and_descr(string descr)
    {
        var path = WriteRaw($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}", new byte[16]);
        var e = Assert.Throws<NotSupportedException>(() => Npy.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains($"'{descr}'", e.Message);
    }

    [Fact]
    public void Structured_dtype_is_rejected_by_name()
    {
        var path = WriteRaw("{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", new byte[12]);
        var e = Assert.Throws<NotSupportedException>(() => Npy.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("('a', '<f8')", e.Message);
    }

    [Fact]
    public void Fortran_order_is_rejected()
    {
        var path = WriteRaw("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", new byte[48]);
        var e = Assert.Throws<NotSupportedException>(() => Npy.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("fortran_order True", e.Message);
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, }", "exactly the keys")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'x': 1, }", "exactly the keys")]
    [InlineData("{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 3), }", "fortran_order")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3), }", "size -3")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 'a'), }", "tuple of integers")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)", "malformed npy header")]
    [InlineData("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2, 3), }", "unknown name 'Maybe'")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536, 65536), }", "more elements")]
    [InlineData("[1, 2]", "not a dictionary")]
    public void Malformed_headers_are_rejected(string dict, string fragment)
    {
        var path = WriteRaw(dict, new byte[48]);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void Truncated_data_and_bad_magic_are_rejected()
    {
        var path = WriteRaw("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", new byte[47]);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("needs 48 bytes, found 47", e.Message);

        var notNpy = Path.Combine(_dir, "x.npy");
        File.WriteAllText(notNpy, "hello world, this is not numpy");
        e = Assert.Throws<InvalidDataException>(() => Npy.Read(notNpy));
        Assert.Contains(notNpy, e.Message);
        Assert.Contains("magic", e.Message);

        var bytes = ToBytes(Tensor.Scalar(1));
        Assert.Throws<InvalidDataException>(() => FromBytes(bytes[..20]));
        Assert.Throws<InvalidDataException>(() => FromBytes(bytes[..5]));
    }

    [Fact]
    public void Unknown_version_is_rejected()
    {
        var bytes = ToBytes(Tensor.Scalar(1));
        bytes[6] = 4;
        var e = Assert.Throws<NotSupportedException>(() => FromBytes(bytes));
        Assert.Contains("4.0", e.Message);
    }

    [Fact]
    public void Null_arguments_throw()
    {
        Assert.Throws<ArgumentNullException>(() => Npy.Write((Stream)null!, Tensor.Scalar(1)));
        Assert.Throws<ArgumentNullException>(() => Npy.Write(new MemoryStream(), null!));
        Assert.Throws<ArgumentNullException>(() => Npy.Read((string)null!));
    }
}
