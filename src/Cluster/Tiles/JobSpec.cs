using System.Text.Json;
using System.Text.Json.Serialization;

namespace NeuralTangents.Cluster.Tiles;

/// <summary>
/// What a worker needs besides the input blocks to compute any tile of a job: the network, the kernel options with
/// AUTO already resolved, the tile size and budget, and the content hash of the parameter blob. Serialized as JSON;
/// the SHA-256 of those bytes is the job's identity.
/// </summary>
internal sealed record JobSpec(
    string NetSpec,
    KernelKind[] Kinds,
    int[] TraceAxes,
    int[] DiagonalAxes,
    int? VmapAxis,
    NtkImplementation Implementation,
    int BatchSize,
    long MemoryBudget,
    string ParamsHash)
{
    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static JobSpec FromBytes(byte[] bytes) =>
        JsonSerializer.Deserialize<JobSpec>(bytes, Json) ?? throw new InvalidDataException("empty job description");
}
