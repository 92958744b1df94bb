using System.Security.Cryptography;
using NeuralTangents.Interop;

namespace NeuralTangents.Cluster.Tiles;

/// <summary>Content hashes and byte encodings of what travels to workers: tensors as .npy, parameters as named .npy.</summary>
internal static class Blobs
{
    /// <summary>Lower-case hex SHA-256 of <paramref name="data"/>.</summary>
    public static string Hash(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static byte[] EncodeTensor(Tensor t)
    {
        using var ms = new MemoryStream();
        Npy.Write(ms, t);
        return ms.ToArray();
    }

    public static Tensor DecodeTensor(byte[] data)
    {
        using var ms = new MemoryStream(data, writable: false);
        return Npy.Read(ms);
    }

    public static byte[] EncodeParams(Params p)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(p.Count);
            foreach (var (name, t) in p)
            {
                var bytes = EncodeTensor(t);
                w.Write(name);
                w.Write(bytes.Length);
                w.Write(bytes);
            }
        }
        return ms.ToArray();
    }

    public static Params DecodeParams(byte[] data)
    {
        using var r = new BinaryReader(new MemoryStream(data, writable: false));
        var p = new Params();
        int n = r.ReadInt32();
        for (int i = 0; i < n; i++)
        {
            var name = r.ReadString();
            p.Add(name, DecodeTensor(r.ReadBytes(r.ReadInt32())));
        }
        return p;
    }
}
