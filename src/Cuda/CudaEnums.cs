namespace NeuralTangents.Cuda;

/// <summary><c>cudaMemcpyKind</c> (driver_types.h).</summary>
internal enum CudaMemcpyKind
{
    HostToHost = 0,
    HostToDevice = 1,
    DeviceToHost = 2,
    DeviceToDevice = 3,
    Default = 4,
}

/// <summary>The <c>cudaDeviceAttr</c> values we query.</summary>
internal enum CudaDeviceAttribute
{
    MultiProcessorCount = 16,
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
}

/// <summary><c>cublasOperation_t</c>.</summary>
internal enum CublasOperation
{
    N = 0,
    T = 1,
    C = 2,
}

/// <summary>
/// <c>cublasMath_t</c> values we allow. <see cref="Default"/> never uses TF32 for float32 (CUDA 11+); TF32 is an
/// explicit opt-in because it keeps only 10 mantissa bits of each input.
/// </summary>
internal enum CublasMath
{
    Default = 0,
    Pedantic = 2,
    Tf32TensorOp = 3,
}
