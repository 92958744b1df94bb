using System.Text.Json;
using System.Text.Json.Serialization;

namespace NeuralTangents.Tiles;

/// <summary>
/// The sidecar <c>&lt;out&gt;.tiles.json</c> of a tiled kernel being written: the hash of everything that defines the
/// kernel and its tile plan, and the tiles already in <c>&lt;out&gt;.partial</c>. Saved atomically (temporary file,
/// then rename) after each tile, so a crash leaves either the old or the new list.
/// </summary>
internal sealed class TileManifest
{
    public int Version { get; set; } = 1;
    public string Hash { get; set; } = "";
    /// <summary>A short hash per part of <see cref="Hash"/> (network, parameters, x1, …) so a refusal names what changed;
    /// null in manifests written before it existed.</summary>
    public Dictionary<string, string>? Parts { get; set; }
    public string DType { get; set; } = "";
    public int[] Shape { get; set; } = Array.Empty<int>();
    public int Tiles { get; set; }
    public int BlockSize { get; set; }
    public List<int> Done { get; set; } = new();

    public static TileManifest Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), TileManifestJson.Default.TileManifest)
                ?? throw new InvalidDataException($"{path}: empty tile manifest");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a tile manifest ({e.Message})", e);
        }
    }

    /// <summary>Replaces the manifest atomically; on a full disk the previous manifest (and no temporary file) remains.</summary>
    public void Save(string path) =>
        Interop.AtomicFile.Write(path, s => JsonSerializer.Serialize(s, this, TileManifestJson.Default.TileManifest), bufferSize: 4096, flushToDisk: false);
}

/// <summary>Source-generated JSON for <see cref="TileManifest"/>: no reflection, so trimming and Native AOT stay clean.</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(TileManifest))]
internal sealed partial class TileManifestJson : JsonSerializerContext;
