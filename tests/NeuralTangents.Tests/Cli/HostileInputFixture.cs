using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using NeuralTangents.Cli;
using NeuralTangents.Interop;

namespace NeuralTangents.Tests.Cli;

/// <summary>
/// The files of <see cref="HostileInputTests"/>, written once into a temporary folder: well-formed inputs and
/// parameters for the tiny test net, and malformed, non-finite or mismatched variants of each.
/// </summary>
public sealed class HostileInputFixture : IDisposable
{
    public const string Net = "Dense(4,b_std=0.5),Relu,Dense(3)";

    public string Dir { get; } = Directory.CreateTempSubdirectory("nt-hostile-").FullName;

    /// <summary>Output files that exist before every case with <see cref="SentinelBytes"/>; a failed run must not touch them.</summary>
    public static readonly string[] Sentinels = ["k.npy", "k.npz", "p_out.npz", "r.npy"];

    public static readonly byte[] SentinelBytes = Encoding.ASCII.GetBytes("previous result: must survive a failed run");

    public string P(string name) => Path.Combine(Dir, name);

    public HostileInputFixture()
    {
        var rng = new Random(7);
        Npy.Write(P("x.npy"), Tensor.RandomNormal(rng, new Shape(3, 5)));
        Npy.Write(P("x2.npy"), Tensor.RandomNormal(rng, new Shape(2, 5)));
        Npy.Write(P("x6.npy"), Tensor.RandomNormal(rng, new Shape(2, 6)));
        Npy.Write(P("xscalar.npy"), Tensor.Scalar(1.0));
        Npy.Write(P("x1feature.npy"), Tensor.RandomNormal(rng, new Shape(3, 1)));
        Npy.Write(P("xvector.npy"), Tensor.RandomNormal(rng, new Shape(5)));
        Npy.Write(P("xlong.npy"), Tensor.Zeros(new Shape(50_000, 1)));
        Npy.Write(P("v.npy"), Tensor.RandomNormal(rng, new Shape(3, 3)));
        Npy.Write(P("v4.npy"), Tensor.RandomNormal(rng, new Shape(3, 4)));
        foreach (var (name, bad) in new[] { ("nan", double.NaN), ("inf", double.PositiveInfinity), ("neginf", double.NegativeInfinity) })
        {
            var d = Tensor.RandomNormal(rng, new Shape(3, 5)).ToDoubleArray();
            d[7] = bad;
            Npy.Write(P($"x{name}.npy"), Tensor.FromArray(d, new Shape(3, 5)));
        }
        var vn = new double[9]; vn[4] = double.NaN;
        Npy.Write(P("vnan.npy"), Tensor.FromArray(vn, new Shape(3, 3)));
        var x2n = new double[10]; x2n[9] = double.PositiveInfinity;
        Npy.Write(P("x2nan.npy"), Tensor.FromArray(x2n, new Shape(2, 5)));

        var net = NetSpec.Parse(Net);
        var p = net.Init(0, new Shape(3, 5)).Params;
        Npz.Write(P("p.npz"), p);
        var pn = p.ToDictionary(kv => kv.Key, kv => kv.Value);
        var w = pn["2.W"].ToDoubleArray(); w[5] = double.NaN;
        pn["2.W"] = Tensor.FromArray(w, pn["2.W"].Shape);
        Npz.Write(P("pnan.npz"), pn);
        Npz.Write(P("pother.npz"), NetSpec.Parse("Dense(4,b_std=0.5),Relu,Dense(2)").Init(0, new Shape(3, 5)).Params);
        Npz.Write(P("pmissing.npz"), p.Where(kv => kv.Key != "2.W"));
        Npz.Write(P("pextra.npz"), p.Append(KeyValuePair.Create("9.W", Tensor.Zeros(new Shape(1)))));
        using (var zip = ZipFile.Open(P("pnotnpy.npz"), ZipArchiveMode.Create))
            using (var s = zip.CreateEntry("0.W.txt").Open()) s.Write("hello"u8);

        // Malformed .npy files.
        File.WriteAllText(P("text.npy"), "this is not numpy\n");
        File.WriteAllBytes(P("empty.npy"), []);
        File.WriteAllText(P("notzip.npz"), "not a zip");
        var good = File.ReadAllBytes(P("x.npy"));
        File.WriteAllBytes(P("trunc.npy"), good[..^17]);
        File.WriteAllBytes(P("extra.npy"), [.. good, .. new byte[16]]);
        File.WriteAllBytes(P("fortran.npy"), Header("{'descr': '<f8', 'fortran_order': True, 'shape': (3, 5), }", 15 * 8));
        File.WriteAllBytes(P("int.npy"), Header("{'descr': '<i8', 'fortran_order': False, 'shape': (3, 5), }", 15 * 8));
        File.WriteAllBytes(P("bigend.npy"), Header("{'descr': '>f8', 'fortran_order': False, 'shape': (3, 5), }", 15 * 8));
        File.WriteAllBytes(P("badheader.npy"), Header("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 5}", 15 * 8));
        File.WriteAllBytes(P("nokeys.npy"), Header("{'descr': '<f8'}", 15 * 8));
        File.WriteAllBytes(P("huge.npy"), Header("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }", 64));
        File.WriteAllBytes(P("negshape.npy"), Header("{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 5), }", 64));
        File.WriteAllBytes(P("floatshape.npy"), Header("{'descr': '<f8', 'fortran_order': False, 'shape': (3.0, 5), }", 15 * 8));
        var v9 = Header("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 5), }", 15 * 8);
        v9[6] = 9;
        File.WriteAllBytes(P("version9.npy"), v9);
        Directory.CreateDirectory(P("folder.npy"));
        Directory.CreateDirectory(P("folder.npz"));
        Directory.CreateDirectory(P("sub"));
    }

    /// <summary>A version-1.0 .npy preamble with <paramref name="header"/> and <paramref name="dataBytes"/> zero bytes.</summary>
    private static byte[] Header(string header, int dataBytes)
    {
        var text = header.PadRight((header.Length + 10 + 1 + 63) / 64 * 64 - 10 - 1) + "\n";
        var bytes = new byte[10 + text.Length + dataBytes];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
        Encoding.Latin1.GetBytes(text).CopyTo(bytes, 10);
        return bytes;
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
