namespace NeuralTangents.Cuda;

/// <summary>
/// Everything learned when CUDA is first touched: the loaded APIs (or why they could not be loaded), the device
/// count, and per-device memory and cuBLAS-handle pools. Built once by <see cref="CudaRuntime"/>'s lazy value.
/// </summary>
internal sealed unsafe class CudaState
{
    public CudartApi? Runtime { get; }
    public CublasApi? Blas { get; }
    public int DeviceCount { get; }
    public int RuntimeVersion { get; }
    public int DriverVersion { get; }
    /// <summary>cuDNN version (e.g. 90100) when the optional library loads, else 0.</summary>
    public long CudnnVersion { get; }
    public string? UnavailableReason { get; }

    private readonly DeviceMemoryPool[] _memory;
    private readonly CublasHandlePool[] _handles;

    private CudaState(string reason, CudartApi? rt = null, int devices = 0, int runtimeVersion = 0, int driverVersion = 0)
    {
        UnavailableReason = reason;
        Runtime = rt;
        DeviceCount = devices;
        RuntimeVersion = runtimeVersion;
        DriverVersion = driverVersion;
        _memory = [];
        _handles = [];
    }

    private CudaState(CudartApi rt, CublasApi blas, int devices, int runtimeVersion, int driverVersion, long cudnn)
    {
        Runtime = rt;
        Blas = blas;
        DeviceCount = devices;
        RuntimeVersion = runtimeVersion;
        DriverVersion = driverVersion;
        CudnnVersion = cudnn;
        _memory = Enumerable.Range(0, devices).Select(d => new DeviceMemoryPool(rt, d)).ToArray();
        _handles = Enumerable.Range(0, devices).Select(d => new CublasHandlePool(rt, blas, d)).ToArray();
    }

    /// <summary>Never throws: every failure becomes <see cref="UnavailableReason"/>.</summary>
    internal static CudaState Load()
    {
        try
        {
            var rt = CudartApi.TryLoad(out var reason);
            if (rt is null) return new CudaState(reason!);
            int version = 0, driver = 0, count = 0;
            rt.RuntimeGetVersion(&version);
            rt.DriverGetVersion(&driver);
            int status = rt.GetDeviceCount(&count);
            if (status != 0)
                return new CudaState($"no usable CUDA device: cudaGetDeviceCount returned {rt.Describe(status)}", rt, 0, version, driver);
            if (count == 0) return new CudaState("no CUDA device", rt, 0, version, driver);
            var blas = CublasApi.TryLoad(version / 1000, out reason);
            if (blas is null) return new CudaState(reason!, rt, count, version, driver);
            return new CudaState(rt, blas, count, version, driver, TryCudnnVersion());
        }
        catch (Exception e)
        {
            return new CudaState($"CUDA initialisation failed: {e.GetType().Name}: {e.Message}");
        }
    }

    private static long TryCudnnVersion()
    {
        string[] names = OperatingSystem.IsWindows() ? ["cudnn64_9.dll", "cudnn64_8.dll"] : ["libcudnn.so.9", "libcudnn.so.8", "libcudnn.so"];
        if (!NativeLibraryProbe.TryLoad(names, out var lib, out _)) return 0;
        var p = NativeLibraryProbe.Export(lib, "cudnnGetVersion");
        return p == IntPtr.Zero ? 0 : (long)((delegate* unmanaged<nuint>)p)();
    }

    /// <summary>Throws unless CUDA is usable; returns the loaded APIs.</summary>
    internal (CudartApi Runtime, CublasApi Blas) Require()
    {
        if (UnavailableReason is not null) throw new InvalidOperationException($"CUDA is unavailable: {UnavailableReason}");
        return (Runtime!, Blas!);
    }

    internal DeviceMemoryPool Memory(int device) { Require(); return _memory[CheckOrdinal(device)]; }

    internal CublasHandlePool Handles(int device) { Require(); return _handles[CheckOrdinal(device)]; }

    internal int CheckOrdinal(int device)
    {
        if ((uint)device >= (uint)DeviceCount)
            throw new ArgumentOutOfRangeException(nameof(device), device, $"CUDA device ordinal must be in [0, {DeviceCount}), got {device}");
        return device;
    }

    /// <summary>The device's marketing name, from cudaGetDeviceProperties (name is the struct's first field, char[256]).</summary>
    internal string DeviceName(int device)
    {
        var (rt, _) = Require();
        CheckOrdinal(device);
        if (rt.GetDeviceProperties == null) return $"CUDA device {device}";
        // The struct is ~1 KiB in CUDA 12; over-allocate so a newer, larger layout cannot overrun.
        var buf = new byte[16384];
        fixed (byte* p = buf) rt.Check(rt.GetDeviceProperties(p, device), "cudaGetDeviceProperties");
        int len = Array.IndexOf(buf, (byte)0, 0, 256);
        return System.Text.Encoding.UTF8.GetString(buf, 0, len < 0 ? 256 : len);
    }

    internal int Attribute(int device, CudaDeviceAttribute attribute)
    {
        var (rt, _) = Require();
        CheckOrdinal(device);
        int v;
        rt.Check(rt.DeviceGetAttribute(&v, (int)attribute, device), "cudaDeviceGetAttribute");
        return v;
    }

    internal (long Free, long Total) MemoryInfo(int device)
    {
        var (rt, _) = Require();
        rt.Check(rt.SetDevice(CheckOrdinal(device)), "cudaSetDevice");
        nuint free, total;
        rt.Check(rt.MemGetInfo(&free, &total), "cudaMemGetInfo");
        return ((long)free, (long)total);
    }

    internal void Synchronize(int device)
    {
        var (rt, _) = Require();
        rt.Check(rt.SetDevice(CheckOrdinal(device)), "cudaSetDevice");
        rt.Check(rt.DeviceSynchronize(), "cudaDeviceSynchronize");
    }

    /// <summary>Version number as "major.minor" (CUDA encodes 1000·major + 10·minor).</summary>
    internal static string FormatVersion(int v) => v <= 0 ? "none" : $"{v / 1000}.{v % 1000 / 10}";
}
