using System.IO.Compression;
using NeuralTangents.Interop;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Interop;

public sealed class NpzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-npz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<KeyValuePair<string, Tensor>> Params() =>
    [
        new("0.W", Tensor.RandomNormal(new Random(1), new Shape(3, 4))),
        new("0.b", Tensor.RandomNormal(new Random(2), new Shape(4), DType.Float32)),
        new("2.W", Tensor.RandomNormal(new Random(3), new Shape(4, 2)).Transpose(1, 0)),
        new("2.b", Tensor.Scalar(0.25)),
        new("empty", Tensor.Zeros(new Shape(0, 5), DType.Float32)),
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Round_trips_with_dotted_keys(bool compressed)
    {
        var path = Path.Combine(_dir, "p.npz");
        var entries = Params();
        Npz.Write(path, entries, compressed);
        var back = Npz.Read(path);
        Assert.Equal(entries.Select(e => e.Key), back.Keys);
        foreach (var (k, t) in entries)
        {
            Assert.Equal(t.DType, back[k].DType);
            Assert.Equal(t.Shape, back[k].Shape);
            if (t.Size > 0) Assert.Equal(t.ToDoubleArray(), back[k].ToDoubleArray());
        }

        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(entries.Select(e => e.Key + ".npy"), zip.Entries.Select(e => e.FullName));
        // Each entry is exactly the .npy bytes Npy.Write produces.
        foreach (var (k, t) in entries)
        {
            using var ms = new MemoryStream();
            Npy.Write(ms, t);
            using var s = zip.GetEntry(k + ".npy")!.Open();
            using var got = new MemoryStream();
            s.CopyTo(got);
            Assert.Equal(ms.ToArray(), got.ToArray());
        }
    }

    [Fact]
    public void Stored_entries_are_uncompressed_and_deflated_ones_compress()
    {
        var big = new KeyValuePair<string, Tensor>[] { new("z", Tensor.Zeros(new Shape(1000))) };
        var stored = Path.Combine(_dir, "s.npz");
        var deflated = Path.Combine(_dir, "d.npz");
        Npz.Write(stored, big);
        Npz.Write(deflated, big, compressed: true);
        using (var z = ZipFile.OpenRead(stored)) Assert.Equal(z.Entries[0].Length, z.Entries[0].CompressedLength);
        using (var z = ZipFile.OpenRead(deflated)) Assert.True(z.Entries[0].CompressedLength < z.Entries[0].Length / 10);
    }

    [Fact]
    public void Reads_archives_mixing_stored_and_deflated_entries_from_other_writers()
    {
        var path = Path.Combine(_dir, "mixed.npz");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, level, value) in new[] { ("a.npy", CompressionLevel.NoCompression, 1.0), ("b.c.npy", CompressionLevel.SmallestSize, 2.0) })
            {
                using var s = zip.CreateEntry(name, level).Open();
                Npy.Write(s, Tensor.Full(new Shape(2, 2), value));
            }
            zip.CreateEntry("dir/"); // a directory record is ignored
        }
        var back = Npz.Read(path);
        Assert.Equal(new[] { "a", "b.c" }, back.Keys.ToArray());
        Assert.Equal(new[] { 1.0, 1, 1, 1 }, back["a"].ToDoubleArray());
        Assert.Equal(new[] { 2.0, 2, 2, 2 }, back["b.c"].ToDoubleArray());
    }

    [Fact]
    public void Output_is_deterministic()
    {
        var a = Path.Combine(_dir, "a.npz");
        var b = Path.Combine(_dir, "b.npz");
        Npz.Write(a, Params(), compressed: true);
        Thread.Sleep(2100); // zip timestamps have 2 s resolution
        Npz.Write(b, Params(), compressed: true);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    [Fact]
    public void Bad_archives_are_rejected_with_the_path()
    {
        var notZip = Path.Combine(_dir, "bad.npz");
        File.WriteAllText(notZip, "not a zip");
        var e = Assert.Throws<InvalidDataException>(() => Npz.Read(notZip));
        Assert.Contains(notZip, e.Message);

        var other = Path.Combine(_dir, "other.npz");
        using (var zip = ZipFile.Open(other, ZipArchiveMode.Create))
        using (var w = new StreamWriter(zip.CreateEntry("readme.txt").Open())) w.Write("hi");
        e = Assert.Throws<InvalidDataException>(() => Npz.Read(other));
        Assert.Contains("readme.txt", e.Message);

        var badEntry = Path.Combine(_dir, "badentry.npz");
        using (var zip = ZipFile.Open(badEntry, ZipArchiveMode.Create))
        using (var w = new StreamWriter(zip.CreateEntry("x.npy").Open())) w.Write("garbage");
        e = Assert.Throws<InvalidDataException>(() => Npz.Read(badEntry));
        Assert.Contains(badEntry + "[x.npy]", e.Message);
    }

    [Fact]
    public void Invalid_entries_are_rejected_before_writing()
    {
        var path = Path.Combine(_dir, "never.npz");
        var dup = new KeyValuePair<string, Tensor>[] { new("a", Tensor.Scalar(1)), new("a", Tensor.Scalar(2)) };
        Assert.Contains("'a'", Assert.Throws<ArgumentException>(() => Npz.Write(path, dup)).Message);
        Assert.Throws<ArgumentException>(() => Npz.Write(path, [new("", Tensor.Scalar(1))]));
        Assert.Throws<ArgumentException>(() => Npz.Write(path, [new("k", null!)]));
        Assert.False(File.Exists(path));
    }
}
