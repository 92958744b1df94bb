using NeuralTangents.Cuda;
using Xunit;

namespace NeuralTangents.Tests.Cuda;

public class CudaExceptionTests
{
    [Fact]
    public void Message_names_call_status_name_number_and_description()
    {
        var e = new CudaException("cudaMalloc(64 bytes)", 2, "cudaErrorMemoryAllocation", "out of memory");
        Assert.Equal("cudaMalloc(64 bytes) failed with cudaErrorMemoryAllocation (2): out of memory", e.Message);
        Assert.Equal("cudaMalloc(64 bytes)", e.Call);
        Assert.Equal(2, e.Status);
        Assert.Equal("cudaErrorMemoryAllocation", e.StatusName);
    }

    [Fact]
    public void Empty_or_repeated_description_is_left_out()
    {
        Assert.Equal("cublasSgemm_v2 failed with CUBLAS_STATUS_INVALID_VALUE (7)",
            new CudaException("cublasSgemm_v2", 7, "CUBLAS_STATUS_INVALID_VALUE", "").Message);
        Assert.Equal("cublasCreate_v2 failed with CUBLAS_STATUS_NOT_INITIALIZED (1)",
            new CudaException("cublasCreate_v2", 1, "CUBLAS_STATUS_NOT_INITIALIZED", "CUBLAS_STATUS_NOT_INITIALIZED").Message);
    }

    [Theory]
    [InlineData(0, "CUBLAS_STATUS_SUCCESS")]
    [InlineData(1, "CUBLAS_STATUS_NOT_INITIALIZED")]
    [InlineData(3, "CUBLAS_STATUS_ALLOC_FAILED")]
    [InlineData(7, "CUBLAS_STATUS_INVALID_VALUE")]
    [InlineData(8, "CUBLAS_STATUS_ARCH_MISMATCH")]
    [InlineData(11, "CUBLAS_STATUS_MAPPING_ERROR")]
    [InlineData(13, "CUBLAS_STATUS_EXECUTION_FAILED")]
    [InlineData(14, "CUBLAS_STATUS_INTERNAL_ERROR")]
    [InlineData(15, "CUBLAS_STATUS_NOT_SUPPORTED")]
    [InlineData(16, "CUBLAS_STATUS_LICENSE_ERROR")]
    [InlineData(42, "cublasStatus 42")]
    public void Cublas_status_names_match_cublas_api_h(int status, string name) =>
        Assert.Equal(name, CublasApi.StatusName(status));
}
