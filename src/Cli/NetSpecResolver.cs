using NeuralTangents.Cluster.Tiles;

namespace NeuralTangents.Cli;

/// <summary>Resolves a cluster job's net spec with the <c>--net</c> parser (on workers and on the client).</summary>
internal sealed class NetSpecResolver : INetResolver
{
    public static readonly NetSpecResolver Instance = new();

    public ApplyFn Resolve(string netSpec) => NetSpec.Parse(netSpec).Apply;
}
