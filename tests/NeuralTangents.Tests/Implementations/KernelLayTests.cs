using NeuralTangents.Implementations;

namespace NeuralTangents.Tests.Implementations;

/// <summary>
/// <c>KernelAxes.Lay</c> (the last step of the NNGP and of JacobianContraction) lays out and divides by |T| with at most
/// one kernel-sized copy: it scaled a transposed view by copying it contiguous and then scaling that copy, three
/// kernel-sized arrays at once (6 GB peak for a 1.6 GB kernel). Values are checked against an index-by-index slow path.
/// </summary>
public class KernelLayTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LaysOutAndScalesWithOneKernelSizedCopy(bool f64)
    {
        // f(x): (N = 6, H = 40, C = 3), trace [-1] (|T| = 3): dot_general result [N1, H1, N2, H2] → kernel [N1, N2, H1, H2].
        int n = 6, h = 40;
        var ax = KernelAxes.Canonicalize([-1], [], 3);
        var fx = new Shape(n, h, 3);
        var k = Tensor.RandomNormal(new Random(3), new Shape(n, h, n, h)).AsType(f64 ? DType.Float64 : DType.Float32);
        var before = k.ToDoubleArray();
        long kernelBytes = k.Size * (long)k.DType.SizeOf();

        long a0 = GC.GetAllocatedBytesForCurrentThread();
        var laid = ax.Lay(k, fx, fx);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - a0;

        Assert.Equal(new Shape(n, n, h, h), laid.Shape);
        Assert.InRange(allocated, kernelBytes, kernelBytes + kernelBytes / 2);   // the layout copy only (the old code: 2 kernels)
        var got = laid.ToDoubleArray();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int a = 0; a < h; a++)
                    for (int b = 0; b < h; b++)
                    {
                        double v = before[((i * h + a) * n + j) * h + b];
                        double want = f64 ? v * (1.0 / 3) : (float)v * (float)(1.0 / 3);   // the scale as the library rounds it
                        Assert.Equal(want, got[((i * n + j) * h + a) * h + b]);
                    }
    }

    [Fact]
    public void AnIdentityLayoutIsScaledInPlaceWithoutACopy()
    {
        // f(x): (N = 50, C = 4), trace [-1]: the dot_general result [N1, N2] is already the kernel layout.
        var ax = KernelAxes.Canonicalize([-1], [], 2);
        var fx = new Shape(50, 4);
        var k = Tensor.RandomNormal(new Random(4), new Shape(50, 50));
        var before = k.ToDoubleArray();
        var laid = ax.Lay(k, fx, fx);
        Assert.Same(k.Storage, laid.Storage);
        var got = laid.ToDoubleArray();
        for (int i = 0; i < got.Length; i++) Assert.Equal(before[i] * (1.0 / 4), got[i]);
    }
}
