namespace NeuralTangents.Cuda;

/// <summary>
/// Whether CUDA can be used in this process. Nothing native is loaded until a member is first read; then the
/// CUDA runtime and cuBLAS are looked up once (thread-safe) and the answer is fixed for the process. Extra
/// library folders can be given in the <c>NEURALTANGENTS_CUDA_PATH</c> environment variable.
/// </summary>
public static class CudaRuntime
{
    private static readonly Lazy<CudaState> Lazy = new(CudaState.Load, LazyThreadSafetyMode.ExecutionAndPublication);

    internal static CudaState State => Lazy.Value;

    /// <summary>
    /// True when the CUDA runtime and cuBLAS load and at least one device is present. Never throws.
    /// </summary>
    public static bool IsAvailable => State.UnavailableReason is null;

    /// <summary>
    /// Why CUDA is unavailable (e.g. <c>CUDA runtime library not found (tried libcudart.so.12, …)</c> or
    /// <c>no CUDA device</c>); <see langword="null"/> when <see cref="IsAvailable"/>.
    /// </summary>
    public static string? UnavailableReason => State.UnavailableReason;

    /// <summary>Number of devices the runtime reports; 0 when the runtime cannot be loaded.</summary>
    public static int DeviceCount => State.DeviceCount;

    /// <summary>CUDA runtime version as <c>major.minor</c>, or <c>none</c> when it is not loaded.</summary>
    public static string RuntimeVersion => CudaState.FormatVersion(State.RuntimeVersion);

    /// <summary>Name of device <paramref name="ordinal"/>, e.g. <c>NVIDIA H200</c>.</summary>
    /// <exception cref="InvalidOperationException">CUDA is unavailable.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is not a device.</exception>
    /// <exception cref="CudaException">The runtime call failed.</exception>
    public static string GetDeviceName(int ordinal = 0) => State.DeviceName(ordinal);

    /// <summary>One line describing the CUDA setup, for logs (never throws).</summary>
    public static string Describe()
    {
        var s = State;
        if (s.UnavailableReason is not null) return $"CUDA unavailable: {s.UnavailableReason}";
        try
        {
            var names = Enumerable.Range(0, s.DeviceCount).Select(d => $"cuda:{d} {s.DeviceName(d)}");
            return $"CUDA runtime {CudaState.FormatVersion(s.RuntimeVersion)} (driver {CudaState.FormatVersion(s.DriverVersion)}, " +
                   $"{s.Runtime!.Library}, {s.Blas!.Library}" +
                   (s.CudnnVersion > 0 ? $", cuDNN {s.CudnnVersion}" : "") + "): " + string.Join("; ", names);
        }
        catch (Exception e)
        {
            return $"CUDA available but describing it failed: {e.Message}";
        }
    }

    /// <summary>Throws unless available; used by every operation before touching native code.</summary>
    internal static CudaState Require()
    {
        var s = State;
        s.Require();
        return s;
    }
}
