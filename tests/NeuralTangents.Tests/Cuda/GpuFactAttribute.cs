using NeuralTangents.Cuda;
using Xunit;

namespace NeuralTangents.Tests.Cuda;

/// <summary>A fact that needs a CUDA device; skipped, with the reason, where there is none.</summary>
public sealed class GpuFactAttribute : FactAttribute
{
    public GpuFactAttribute()
    {
        if (!CudaRuntime.IsAvailable) Skip = SkipReason;
    }

    internal static string SkipReason => $"CUDA unavailable: {CudaRuntime.UnavailableReason}";
}

/// <summary>A theory that needs a CUDA device; skipped, with the reason, where there is none.</summary>
public sealed class GpuTheoryAttribute : TheoryAttribute
{
    public GpuTheoryAttribute()
    {
        if (!CudaRuntime.IsAvailable) Skip = GpuFactAttribute.SkipReason;
    }
}

/// <summary>A fact about behaviour without CUDA; skipped on machines that have it.</summary>
public sealed class NoGpuFactAttribute : FactAttribute
{
    public NoGpuFactAttribute()
    {
        if (CudaRuntime.IsAvailable) Skip = "CUDA is available here; this checks the unavailable path";
    }
}
