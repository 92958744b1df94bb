using NeuralTangents.Tests.Cli;
using NeuralTangents.Cli;
using NeuralTangents.Cuda;
using NeuralTangents.Interop;

namespace NeuralTangents.Tests.Cuda;

/// <summary>Device.Use/Backend, CudaBackend construction and <c>nt kernel --device</c>, with and without CUDA.</summary>
public sealed class DeviceSelectionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-device-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Unavailable => $"CUDA is unavailable: {CudaRuntime.UnavailableReason}";

    [Fact]
    public void Cpu_device_uses_the_cpu_backend()
    {
        Assert.Same(ComputeBackend.Cpu, Device.Cpu.Backend);
        var outer = new CountingBackend();
        using (ComputeBackend.Use(outer))
        {
            using (Device.Cpu.Use()) Assert.Same(ComputeBackend.Cpu, ComputeBackend.Current);
            Assert.Same(outer, ComputeBackend.Current);
        }
        Assert.Same(ComputeBackend.Cpu, ComputeBackend.Current);
    }

    [NoGpuFact]
    public void Without_cuda_constructing_the_backend_fails_with_the_reason()
    {
        Assert.Equal(Unavailable, Assert.Throws<InvalidOperationException>(() => new CudaBackend()).Message);
        Assert.Equal(Unavailable, Assert.Throws<InvalidOperationException>(() => new CudaBackend(3, allowTf32: true)).Message);
        Assert.Equal(Unavailable, Assert.Throws<InvalidOperationException>(() => Device.Cuda(0).Backend).Message);
        Assert.Equal(Unavailable, Assert.Throws<InvalidOperationException>(() => Device.Cuda(1).Use()).Message);
        Assert.Same(ComputeBackend.Cpu, ComputeBackend.Current);   // a failed Use leaves no scope behind
        Assert.Throws<ArgumentOutOfRangeException>(() => new CudaBackend(0, minGpuFlops: -1));
    }

    [GpuFact]
    [Trait("Category", "Gpu")]
    public void With_cuda_each_ordinal_has_one_shared_backend()
    {
        var b = Assert.IsType<CudaBackend>(Device.Cuda(0).Backend);
        Assert.Same(b, Device.Parse("cuda").Backend);
        Assert.Equal("cuda:0", b.Name);
        Assert.False(b.AllowTf32);
        Assert.Equal(CudaBackend.DefaultMinGpuFlops, b.MinGpuFlops);
        var all = new ComputeBackend[8];
        Parallel.For(0, all.Length, i => all[i] = Device.Cuda(0).Backend);
        Assert.All(all, x => Assert.Same(b, x));
        using (Device.Cuda(0).Use()) Assert.Same(b, ComputeBackend.Current);
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Cuda(CudaRuntime.DeviceCount).Backend);
    }


    private string[] KernelArgs(string device, string outName)
    {
        var x = Path.Combine(_dir, "x.npy");
        if (!File.Exists(x)) Npy.Write(x, Tensor.RandomNormal(new Random(3), new Shape(3, 4)));
        return ["kernel", "--net", "Dense(5),Relu,Dense(2)", "--seed", "1", "--x1", x, "--out", Path.Combine(_dir, outName), "--device", device];
    }

    [NoGpuFact]
    public void Nt_kernel_on_cuda_without_cuda_is_a_one_line_user_error()
    {
        foreach (var device in new[] { "cuda", "cuda:0", "CUDA:1" })
        {
            var r = CliRunner.Run(KernelArgs(device, "k.npy"));
            Assert.Equal(2, r.Code);
            Assert.Equal($"nt: error: --device: {device} needs CUDA, but {Unavailable}{Environment.NewLine}", r.Err);
            Assert.Equal("", r.Out);
            Assert.False(File.Exists(Path.Combine(_dir, "k.npy")));
        }
    }

    [Fact]
    public void Nt_kernel_rejects_unknown_devices()
    {
        var r = CliRunner.Run(KernelArgs("gpu", "k.npy"));
        Assert.Equal(2, r.Code);
        Assert.Equal($"nt: error: --device: expected cpu, cuda or cuda:N, got 'gpu'{Environment.NewLine}", r.Err);
    }

    [Fact]
    public void Nt_kernel_on_cpu_is_the_default_and_gives_the_same_file()
    {
        var a = CliRunner.Run(KernelArgs("cpu", "a.npy"));
        Assert.True(a.Code == 0, a.Err);
        Assert.Contains(", cpu)", a.Err);
        var args = KernelArgs("cpu", "b.npy");
        var b = CliRunner.Run(args[..^2]);   // without --device
        Assert.True(b.Code == 0, b.Err);
        Assert.Equal(Npy.Read(Path.Combine(_dir, "a.npy")).ToDoubleArray(), Npy.Read(Path.Combine(_dir, "b.npy")).ToDoubleArray());
    }

    [GpuFact]
    [Trait("Category", "Gpu")]
    public void Nt_kernel_on_cuda_matches_cpu()
    {
        var a = CliRunner.Run(KernelArgs("cpu", "a.npy"));
        var g = CliRunner.Run(KernelArgs("cuda:0", "g.npy"));
        Assert.True(g.Code == 0, g.Err);
        Assert.Contains(", cuda:0)", g.Err);
        var ka = Npy.Read(Path.Combine(_dir, "a.npy")).ToDoubleArray();
        var kg = Npy.Read(Path.Combine(_dir, "g.npy")).ToDoubleArray();
        for (int i = 0; i < ka.Length; i++) Assert.True(Math.Abs(ka[i] - kg[i]) <= 1e-12 * (1 + Math.Abs(ka[i])));
    }
}
