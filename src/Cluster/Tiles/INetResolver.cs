namespace NeuralTangents.Cluster.Tiles;

/// <summary>Turns a net spec string into the network's apply function (the CLI's <c>--net</c> parser on a worker).</summary>
public interface INetResolver
{
    /// <summary>The apply function of <paramref name="netSpec"/>; throws <see cref="FormatException"/> for a bad spec.</summary>
    ApplyFn Resolve(string netSpec);
}
