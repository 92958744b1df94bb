using FsCheck.Xunit;
using NeuralTangents.Cuda;
using Xunit;

namespace NeuralTangents.Tests.Cuda;

public class DeviceTests
{
    [Fact]
    public void Cpu_and_cuda_print_like_torch()
    {
        Assert.Equal("cpu", Device.Cpu.ToString());
        Assert.Equal("cuda:0", Device.Cuda().ToString());
        Assert.Equal("cuda:3", Device.Cuda(3).ToString());
    }

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData(" CPU ", "cpu")]
    [InlineData("cuda", "cuda:0")]
    [InlineData("cuda:0", "cuda:0")]
    [InlineData("CUDA:12", "cuda:12")]
    public void Parse_accepts_the_documented_forms(string text, string expected)
    {
        Assert.Equal(expected, Device.Parse(text).ToString());
        Assert.True(Device.TryParse(text, out var d));
        Assert.Equal(expected, d!.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:+1")]
    [InlineData("cuda:x")]
    [InlineData("cuda:1:2")]
    [InlineData("cuda 1")]
    [InlineData("cpu:0")]
    [InlineData("cuda:99999999999")]
    public void Parse_rejects_other_text_naming_it(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => Device.Parse(text));
        Assert.Equal("text", e.ParamName);
        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains("cuda:N", e.Message);
        Assert.False(Device.TryParse(text, out _));
    }

    [Fact]
    public void Parse_null_throws_argument_null() => Assert.Throws<ArgumentNullException>(() => Device.Parse(null!));

    [Fact]
    public void Devices_have_value_equality()
    {
        Assert.Equal(Device.Cuda(1), Device.Parse("cuda:1"));
        Assert.NotEqual<Device>(Device.Cuda(0), Device.Cuda(1));
        Assert.NotEqual(Device.Cpu, Device.Cuda(0));
        Assert.Same(Device.Cpu, Device.Parse("cpu"));
        Assert.Equal(2, Device.Cuda(2).Ordinal);
        Assert.Equal(Device.Cuda(4).GetHashCode(), new CudaDevice(4).GetHashCode());
    }

    [Fact]
    public void Negative_ordinal_is_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Device.Cuda(-1));

    [Property(MaxTest = 200)]
    public bool ToString_then_Parse_round_trips(int n)
    {
        Device d = n % 5 == 0 ? Device.Cpu : Device.Cuda(Math.Abs(n % 100000));
        return Device.Parse(d.ToString()) == d;
    }
}
