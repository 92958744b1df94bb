namespace NeuralTangents.Cuda;

/// <summary>
/// A CUDA runtime or cuBLAS call returned an error status. The message names the call, the status name, its
/// number and the library's description, e.g.
/// <c>cudaMalloc failed with cudaErrorMemoryAllocation (2): out of memory</c>.
/// </summary>
public sealed class CudaException : Exception
{
    /// <summary>The native function that failed, e.g. <c>cublasSgemm_v2</c>.</summary>
    public string Call { get; }

    /// <summary>The raw status (<c>cudaError_t</c> or <c>cublasStatus_t</c>).</summary>
    public int Status { get; }

    /// <summary>The symbolic status name, e.g. <c>CUBLAS_STATUS_INVALID_VALUE</c>.</summary>
    public string StatusName { get; }

    internal CudaException(string call, int status, string statusName, string description)
        : base(Format(call, status, statusName, description))
    {
        Call = call;
        Status = status;
        StatusName = statusName;
    }

    internal static string Format(string call, int status, string statusName, string description) =>
        string.IsNullOrWhiteSpace(description) || description == statusName
            ? $"{call} failed with {statusName} ({status})"
            : $"{call} failed with {statusName} ({status}): {description}";
}
