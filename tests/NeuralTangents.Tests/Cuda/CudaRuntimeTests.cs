using NeuralTangents.Cuda;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Cuda;

public class CudaRuntimeTests
{
    [Fact]
    public void Availability_is_consistent_and_never_throws()
    {
        var seen = new bool[8];
        Parallel.For(0, seen.Length, i => seen[i] = CudaRuntime.IsAvailable);
        Assert.All(seen, s => Assert.Equal(CudaRuntime.IsAvailable, s));
        if (CudaRuntime.IsAvailable)
        {
            Assert.Null(CudaRuntime.UnavailableReason);
            Assert.True(CudaRuntime.DeviceCount > 0);
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(CudaRuntime.UnavailableReason));
        }
    }

    [Fact]
    public void Skip_attribute_carries_the_reason()
    {
        var skip = new GpuFactAttribute().Skip;
        if (CudaRuntime.IsAvailable) Assert.Null(skip);
        else Assert.Equal($"CUDA unavailable: {CudaRuntime.UnavailableReason}", skip);
    }

    [NoGpuFact]
    public void Without_cuda_the_reason_names_what_is_missing()
    {
        var reason = CudaRuntime.UnavailableReason!;
        Assert.True(reason.Contains("not found") || reason.Contains("device") || reason.Contains("not supported"), reason);
        Assert.Equal($"CUDA unavailable: {reason}", CudaRuntime.Describe());
    }

    [NoGpuFact]
    public void Without_cuda_operations_throw_invalid_operation_with_the_reason()
    {
        var expected = $"CUDA is unavailable: {CudaRuntime.UnavailableReason}";
        Assert.Equal(expected, Assert.Throws<InvalidOperationException>(() => DeviceBuffer.Allocate(16)).Message);
        Assert.Equal(expected, Assert.Throws<InvalidOperationException>(() => CudaRuntime.GetDeviceName()).Message);
        Assert.Equal(expected, Assert.Throws<InvalidOperationException>(() =>
            CudaBlas.Gemm<double>(1, 1, 1, [2.0], 1, false, [3.0], 1, false, new double[1], 1)).Message);
        var x = Tensor.FromArray([1.0, 2, 3, 4], new Shape(2, 2));
        Assert.Equal(expected, Assert.Throws<InvalidOperationException>(() =>
            CudaKernels.DotGeneral(x, x, [1], [0], [], [])).Message);
    }

    [Fact]
    public void Host_gemm_with_empty_sum_writes_zeros_without_a_gpu()
    {
        // k = 0: C is an empty sum. The padding column (ldc = 3 > n = 2) must keep its value.
        var c = new double[] { 7, 7, -1, 7, 7, -1 };
        CudaBlas.Gemm<double>(2, 2, 0, [], 1, false, [], 2, false, c, 3);
        Assert.Equal(new double[] { 0, 0, -1, 0, 0, -1 }, c);
        var f = new float[] { 5 };
        CudaBlas.Gemm<float>(0, 1, 3, [], 3, false, [1f, 2f, 3f], 1, false, f, 1);
        Assert.Equal(5f, f[0]);
    }

    [Fact]
    public void Host_gemm_validates_lengths_before_touching_cuda()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            CudaBlas.Gemm<double>(2, 2, 2, new double[3], 2, false, new double[4], 2, false, new double[4], 2));
        Assert.Equal("a", e.ParamName);
        Assert.Contains("needs at least 4 elements", e.Message);
        Assert.Contains("got 3", e.Message);
        e = Assert.Throws<ArgumentException>(() =>
            CudaBlas.Gemm<float>(2, 3, 2, new float[4], 2, false, new float[6], 3, false, new float[6], 2));
        Assert.Equal("ldc", e.ParamName);
    }

    [Fact]
    public void Dot_general_rejects_bad_dimension_numbers_before_touching_cuda()
    {
        var a = Tensor.Zeros(new Shape(2, 3, 4));
        var b = Tensor.Zeros(new Shape(2, 4, 5));
        var e = Assert.Throws<ArgumentException>(() => CudaKernels.DotGeneral(a, b, [1], [1], [0], [0]));
        Assert.Contains("size 3", e.Message);
        Assert.Contains("size 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => CudaKernels.DotGeneral(a, b, [2], [1, 2], [], []));
        Assert.Equal("rhsContract", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => CudaKernels.DotGeneral(a, b, [2], [1], [0], []));
        Assert.Equal("rhsBatch", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => CudaKernels.DotGeneral(a, b, [0], [0], [0], [0]));
        Assert.Contains("more than once", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaKernels.DotGeneral(a, b, [3], [1], [], []));
    }
}
