using System.Runtime.InteropServices;

namespace NeuralTangents.Cuda;

/// <summary>
/// Function pointers into cuBLAS (<c>libcublas</c>, v2 API). All functions return <c>cublasStatus_t</c>
/// (0 = CUBLAS_STATUS_SUCCESS). Scalars (alpha, beta) are passed by host pointer (the default pointer mode).
/// </summary>
internal sealed unsafe class CublasApi
{
    private static readonly string[] Names = OperatingSystem.IsWindows()
        ? ["cublas64_12.dll", "cublas64_13.dll", "cublas64_11.dll"]
        : OperatingSystem.IsLinux()
            ? ["libcublas.so.12", "libcublas.so.13", "libcublas.so.11", "libcublas.so"]
            : [];

    /// <summary>Where the library was loaded from.</summary>
    public string Library { get; }

    public readonly delegate* unmanaged<IntPtr*, int> Create;                      // cublasCreate_v2(cublasHandle_t*)
    public readonly delegate* unmanaged<IntPtr, int> Destroy;                      // cublasDestroy_v2
    public readonly delegate* unmanaged<IntPtr, int, int> SetMathMode;             // (handle, cublasMath_t)
    public readonly delegate* unmanaged<IntPtr, IntPtr, int> SetStream;            // cublasSetStream_v2; may be null
    public readonly delegate* unmanaged<int, byte*> GetStatusName;                 // may be null (CUDA < 11.4)
    public readonly delegate* unmanaged<int, byte*> GetStatusString;               // may be null (CUDA < 11.4)

    // (handle, transa, transb, m, n, k, alpha*, A, lda, B, ldb, beta*, C, ldc)
    public readonly delegate* unmanaged<IntPtr, int, int, int, int, int, float*, float*, int, float*, int, float*, float*, int, int> Sgemm;
    public readonly delegate* unmanaged<IntPtr, int, int, int, int, int, double*, double*, int, double*, int, double*, double*, int, int> Dgemm;

    // (handle, transa, transb, m, n, k, alpha*, A, lda, strideA, B, ldb, strideB, beta*, C, ldc, strideC, batchCount)
    public readonly delegate* unmanaged<IntPtr, int, int, int, int, int, float*, float*, int, long, float*, int, long, float*, float*, int, long, int, int> SgemmStridedBatched;
    public readonly delegate* unmanaged<IntPtr, int, int, int, int, int, double*, double*, int, long, double*, int, long, double*, double*, int, long, int, int> DgemmStridedBatched;

    private CublasApi(IntPtr lib, string library, List<string> missing)
    {
        Library = library;
        IntPtr Req(string name)
        {
            var p = NativeLibraryProbe.Export(lib, name);
            if (p == IntPtr.Zero) missing.Add(name);
            return p;
        }
        Create = (delegate* unmanaged<IntPtr*, int>)Req("cublasCreate_v2");
        Destroy = (delegate* unmanaged<IntPtr, int>)Req("cublasDestroy_v2");
        SetMathMode = (delegate* unmanaged<IntPtr, int, int>)Req("cublasSetMathMode");
        Sgemm = (delegate* unmanaged<IntPtr, int, int, int, int, int, float*, float*, int, float*, int, float*, float*, int, int>)Req("cublasSgemm_v2");
        Dgemm = (delegate* unmanaged<IntPtr, int, int, int, int, int, double*, double*, int, double*, int, double*, double*, int, int>)Req("cublasDgemm_v2");
        SgemmStridedBatched = (delegate* unmanaged<IntPtr, int, int, int, int, int, float*, float*, int, long, float*, int, long, float*, float*, int, long, int, int>)Req("cublasSgemmStridedBatched");
        DgemmStridedBatched = (delegate* unmanaged<IntPtr, int, int, int, int, int, double*, double*, int, long, double*, int, long, double*, double*, int, long, int, int>)Req("cublasDgemmStridedBatched");
        SetStream = (delegate* unmanaged<IntPtr, IntPtr, int>)NativeLibraryProbe.Export(lib, "cublasSetStream_v2");
        GetStatusName = (delegate* unmanaged<int, byte*>)NativeLibraryProbe.Export(lib, "cublasGetStatusName");
        GetStatusString = (delegate* unmanaged<int, byte*>)NativeLibraryProbe.Export(lib, "cublasGetStatusString");
    }

    /// <summary>Loads cuBLAS, preferring the major version of the loaded runtime (mixing majors does not work).</summary>
    internal static CublasApi? TryLoad(int runtimeMajor, out string? reason)
    {
        var names = NativeLibraryProbe.Prefer(Names, OperatingSystem.IsWindows() ? $"_{runtimeMajor}." : $".so.{runtimeMajor}");
        // cuBLAS needs cublasLt; loading it first from the same places makes a cuBLAS found by full path link to it.
        NativeLibraryProbe.TryLoad(names.Select(n => n.Replace("cublas", "cublasLt", StringComparison.Ordinal)).ToArray(), out _, out _);
        if (!NativeLibraryProbe.TryLoad(names, out var lib, out var from))
        {
            reason = $"cuBLAS library not found (tried {string.Join(", ", names)}; set {NativeLibraryProbe.PathVariable} to the folder holding it)";
            return null;
        }
        var missing = new List<string>();
        var api = new CublasApi(lib, from, missing);
        if (missing.Count > 0) { reason = $"{from} lacks export(s) {string.Join(", ", missing)}"; return null; }
        reason = null;
        return api;
    }

    /// <summary>Throws <see cref="CudaException"/> unless <paramref name="status"/> is CUBLAS_STATUS_SUCCESS.</summary>
    public void Check(int status, string call)
    {
        if (status == 0) return;
        var name = GetStatusName != null ? Marshal.PtrToStringUTF8((IntPtr)GetStatusName(status)) ?? StatusName(status) : StatusName(status);
        var text = GetStatusString != null ? Marshal.PtrToStringUTF8((IntPtr)GetStatusString(status)) ?? "" : "";
        throw new CudaException(call, status, name, text);
    }

    /// <summary>Names of <c>cublasStatus_t</c> values (fallback when the library has no cublasGetStatusName).</summary>
    internal static string StatusName(int status) => status switch
    {
        0 => "CUBLAS_STATUS_SUCCESS",
        1 => "CUBLAS_STATUS_NOT_INITIALIZED",
        3 => "CUBLAS_STATUS_ALLOC_FAILED",
        7 => "CUBLAS_STATUS_INVALID_VALUE",
        8 => "CUBLAS_STATUS_ARCH_MISMATCH",
        11 => "CUBLAS_STATUS_MAPPING_ERROR",
        13 => "CUBLAS_STATUS_EXECUTION_FAILED",
        14 => "CUBLAS_STATUS_INTERNAL_ERROR",
        15 => "CUBLAS_STATUS_NOT_SUPPORTED",
        16 => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => $"cublasStatus {status}",
    };
}
