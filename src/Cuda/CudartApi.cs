using System.Runtime.InteropServices;

namespace NeuralTangents.Cuda;

/// <summary>
/// Function pointers into the CUDA runtime (<c>libcudart</c>), resolved with <see cref="NativeLibrary.GetExport"/>
/// once the library is found. All functions return <c>cudaError_t</c> (an int; 0 = cudaSuccess).
/// </summary>
internal sealed unsafe class CudartApi
{
    internal static readonly string[] LibraryNames = OperatingSystem.IsWindows()
        ? ["cudart64_12.dll", "cudart64_13.dll", "cudart64_110.dll"]
        : OperatingSystem.IsLinux()
            ? ["libcudart.so.12", "libcudart.so.13", "libcudart.so.11.0", "libcudart.so"]
            : [];

    /// <summary>Where the library was loaded from.</summary>
    public string Library { get; }

    public readonly delegate* unmanaged<int*, int> GetDeviceCount;
    public readonly delegate* unmanaged<int, int> SetDevice;
    public readonly delegate* unmanaged<int*, int, int, int> DeviceGetAttribute;   // (int* value, cudaDeviceAttr, int device)
    public readonly delegate* unmanaged<byte*, int, int> GetDeviceProperties;      // (cudaDeviceProp*, int device); may be null
    public readonly delegate* unmanaged<void**, nuint, int> Malloc;
    public readonly delegate* unmanaged<void*, int> Free;
    public readonly delegate* unmanaged<void*, void*, nuint, int, int> Memcpy;     // (dst, src, bytes, cudaMemcpyKind)
    public readonly delegate* unmanaged<void*, int, nuint, int> Memset;
    public readonly delegate* unmanaged<nuint*, nuint*, int> MemGetInfo;          // (free, total)
    public readonly delegate* unmanaged<int> DeviceSynchronize;
    public readonly delegate* unmanaged<int, byte*> GetErrorName;
    public readonly delegate* unmanaged<int, byte*> GetErrorString;
    public readonly delegate* unmanaged<int*, int> RuntimeGetVersion;
    public readonly delegate* unmanaged<int*, int> DriverGetVersion;
    public readonly delegate* unmanaged<IntPtr*, int> StreamCreate;               // may be null
    public readonly delegate* unmanaged<IntPtr, int> StreamDestroy;               // may be null
    public readonly delegate* unmanaged<IntPtr, int> StreamSynchronize;           // may be null

    private CudartApi(IntPtr lib, string library, List<string> missing)
    {
        Library = library;
        IntPtr Req(string name)
        {
            var p = NativeLibraryProbe.Export(lib, name);
            if (p == IntPtr.Zero) missing.Add(name);
            return p;
        }
        GetDeviceCount = (delegate* unmanaged<int*, int>)Req("cudaGetDeviceCount");
        SetDevice = (delegate* unmanaged<int, int>)Req("cudaSetDevice");
        DeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)Req("cudaDeviceGetAttribute");
        Malloc = (delegate* unmanaged<void**, nuint, int>)Req("cudaMalloc");
        Free = (delegate* unmanaged<void*, int>)Req("cudaFree");
        Memcpy = (delegate* unmanaged<void*, void*, nuint, int, int>)Req("cudaMemcpy");
        Memset = (delegate* unmanaged<void*, int, nuint, int>)Req("cudaMemset");
        MemGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)Req("cudaMemGetInfo");
        DeviceSynchronize = (delegate* unmanaged<int>)Req("cudaDeviceSynchronize");
        GetErrorName = (delegate* unmanaged<int, byte*>)Req("cudaGetErrorName");
        GetErrorString = (delegate* unmanaged<int, byte*>)Req("cudaGetErrorString");
        RuntimeGetVersion = (delegate* unmanaged<int*, int>)Req("cudaRuntimeGetVersion");
        DriverGetVersion = (delegate* unmanaged<int*, int>)Req("cudaDriverGetVersion");
        // CUDA 12 headers map cudaGetDeviceProperties to the _v2 symbol (the struct grew); the name field is first in both.
        var props = NativeLibraryProbe.Export(lib, "cudaGetDeviceProperties_v2");
        if (props == IntPtr.Zero) props = NativeLibraryProbe.Export(lib, "cudaGetDeviceProperties");
        GetDeviceProperties = (delegate* unmanaged<byte*, int, int>)props;
        StreamCreate = (delegate* unmanaged<IntPtr*, int>)NativeLibraryProbe.Export(lib, "cudaStreamCreate");
        StreamDestroy = (delegate* unmanaged<IntPtr, int>)NativeLibraryProbe.Export(lib, "cudaStreamDestroy");
        StreamSynchronize = (delegate* unmanaged<IntPtr, int>)NativeLibraryProbe.Export(lib, "cudaStreamSynchronize");
    }

    /// <summary>Loads the runtime; on failure <paramref name="reason"/> says what was missing.</summary>
    internal static CudartApi? TryLoad(out string? reason)
    {
        if (LibraryNames.Length == 0) { reason = $"CUDA is not supported on {RuntimeInformation.OSDescription}"; return null; }
        if (!NativeLibraryProbe.TryLoad(LibraryNames, out var lib, out var from))
        {
            reason = $"CUDA runtime library not found (tried {string.Join(", ", LibraryNames)}; " +
                     $"set {NativeLibraryProbe.PathVariable} to the folder holding it)";
            return null;
        }
        var missing = new List<string>();
        var api = new CudartApi(lib, from, missing);
        if (missing.Count > 0) { reason = $"{from} lacks export(s) {string.Join(", ", missing)}"; return null; }
        reason = null;
        return api;
    }

    /// <summary>Throws <see cref="CudaException"/> unless <paramref name="status"/> is cudaSuccess.</summary>
    public void Check(int status, string call)
    {
        if (status != 0) throw Error(status, call);
    }

    public CudaException Error(int status, string call) => new(call, status, ErrorName(status), ErrorDescription(status));

    public string ErrorName(int status) => Marshal.PtrToStringUTF8((IntPtr)GetErrorName(status)) ?? $"cudaError {status}";

    public string ErrorDescription(int status) => Marshal.PtrToStringUTF8((IntPtr)GetErrorString(status)) ?? "";

    /// <summary>Short form for unavailability reasons: <c>cudaErrorNoDevice (100): no CUDA-capable device is detected</c>.</summary>
    public string Describe(int status) => $"{ErrorName(status)} ({status}): {ErrorDescription(status)}";
}
