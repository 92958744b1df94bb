using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace NeuralTangents.Cluster.Grains;

/// <summary>Places a grain on the silo whose address (<see cref="SiloAddress.ToParsableString"/>) is its string key,
/// so the client can address the worker of each silo; fails when that silo is not (or no longer) in the cluster.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
internal sealed class SiloTargetedPlacement : PlacementStrategy
{
    public static readonly SiloTargetedPlacement Instance = new();
}

/// <summary>Marks a grain class for <see cref="SiloTargetedPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class SiloTargetedPlacementAttribute() : PlacementAttribute(SiloTargetedPlacement.Instance);

internal sealed class SiloTargetedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString();
        foreach (var silo in context.GetCompatibleSilos(target))
            if (silo.ToParsableString() == key) return Task.FromResult(silo);
        throw new WorkerUnavailableException($"worker silo {key} is not in the cluster");
    }
}

/// <summary>The silo a worker grain is keyed to has left the cluster.</summary>

public sealed class WorkerUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WorkerUnavailableException(string message) : base(message) { }
}
