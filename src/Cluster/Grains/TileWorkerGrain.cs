using NeuralTangents.Cluster.Worker;
using Orleans.Concurrency;

namespace NeuralTangents.Cluster.Grains;

/// <summary>The worker grain of one silo: a thin front of the silo's <see cref="WorkerEngine"/>. Reentrant, so blob
/// uploads and a queued tile are accepted while a tile computes (the engine runs one tile at a time).</summary>
[SiloTargetedPlacement, Reentrant]
internal sealed class TileWorkerGrain(WorkerEngine engine) : Grain, ITileWorkerGrain
{
    public Task<string[]> MissingAsync(string[] hashes) => Task.FromResult(engine.Blobs.Missing(hashes));

    public Task PutAsync(string hash, byte[] data)
    {
        engine.Blobs.Put(hash, data);
        return Task.CompletedTask;
    }

    public Task<TileReply> ComputeAsync(TileWork work) => engine.ComputeAsync(work);
}
