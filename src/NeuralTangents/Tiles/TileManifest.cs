using System.Text.Json;

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
    public string DType { get; set; } = "";
    public int[] Shape { get; set; } = Array.Empty<int>();
    public int Tiles { get; set; }
    public int BlockSize { get; set; }
    public List<int> Done { get; set; } = new();

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static TileManifest Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<TileManifest>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: empty tile manifest");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a tile manifest ({e.Message})", e);
        }
    }

    public void Save(string path)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, Json));
        File.Move(tmp, path, overwrite: true);
    }
}
