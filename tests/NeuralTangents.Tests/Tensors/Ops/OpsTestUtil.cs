using Xunit;
using NeuralTangents.Tensors;

namespace NeuralTangents.Tests.Tensors.Ops;

/// <summary>Random shapes and strided views, and index-by-index references that bypass the kernels under test.</summary>
internal static class OpsTestUtil
{
    public static readonly DType[] AllDTypes = [DType.Float32, DType.Float64];

    /// <summary>Rank 0..maxRank, sizes 0..maxDim (0 and 1 frequent).</summary>
    public static Shape RandomShape(Random rng, int maxRank = 4, int maxDim = 4, bool allowZero = true)
    {
        int rank = rng.Next(maxRank + 1);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int u = rng.Next(10);
            dims[i] = u == 0 && allowZero ? 0 : u <= 2 ? 1 : rng.Next(2, maxDim + 1);
        }
        return new Shape(dims);
    }

    public static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>
    /// A tensor of shape <paramref name="shape"/> as a random kind of view: contiguous, transposed, broadcast,
    /// strided slice, optionally reversed on some axes.
    /// </summary>
    public static Tensor RandomView(Random rng, Shape shape, DType dtype, Func<Random, double>? sample = null)
    {
        sample ??= Normal;
        int r = shape.Rank;
        var s = shape.ToArray();
        Tensor view;
        switch (rng.Next(4))
        {
            case 1:
            {
                var perm = Enumerable.Range(0, r).OrderBy(_ => rng.Next()).ToArray();
                var b = new int[r];
                for (int i = 0; i < r; i++) b[perm[i]] = s[i];
                view = Make(rng, b, dtype, sample).Transpose(perm);
                break;
            }
            case 2:
            {
                var b = s.Select(d => rng.Next(2) == 0 ? 1 : d).ToArray();
                view = Make(rng, b, dtype, sample).BroadcastInDim(shape, Enumerable.Range(0, r).ToArray());
                break;
            }
            case 3:
            {
                var start = s.Select(_ => rng.Next(2)).ToArray();
                var b = s.Select((d, i) => 2 * d + start[i] + 1).ToArray();
                var limit = s.Select((d, i) => d == 0 ? start[i] : start[i] + 2 * d - 1).ToArray();
                view = Make(rng, b, dtype, sample).Slice(start, limit, Enumerable.Repeat(2, r).ToArray());
                break;
            }
            default:
                view = Make(rng, s, dtype, sample);
                break;
        }
        if (r > 0 && rng.Next(2) == 0)
            view = view.Rev(Enumerable.Range(0, r).Where(_ => rng.Next(2) == 0).ToArray());
        Assert.Equal(shape, view.Shape);
        return view;
    }

    private static Tensor Make(Random rng, int[] dims, DType dtype, Func<Random, double> sample)
    {
        var shape = new Shape(dims);
        var d = new double[shape.Size];
        for (int i = 0; i < d.Length; i++) d[i] = sample(rng);
        return dtype == DType.Float64 ? Tensor.FromArray(d, shape) : Tensor.FromArray(d.Select(v => (float)v).ToArray(), shape);
    }

    /// <summary>All multi-indices of <paramref name="shape"/> in C order.</summary>
    public static IEnumerable<int[]> Indices(Shape shape)
    {
        int n = shape.Size;
        var idx = new int[shape.Rank];
        for (int k = 0; k < n; k++)
        {
            yield return (int[])idx.Clone();
            for (int a = shape.Rank - 1; a >= 0; a--)
            {
                if (++idx[a] < shape[a]) break;
                idx[a] = 0;
            }
        }
    }

    /// <summary>Elements in C order read one by one through the indexer (independent of Contiguous()).</summary>
    public static double[] Values(Tensor t) => Indices(t.Shape).Select(i => t[i]).ToArray();

    public static void AssertClose(double expected, double actual, double rtol, double atol, string what)
    {
        if (double.IsNaN(expected)) { Assert.True(double.IsNaN(actual), $"{what}: expected NaN, got {actual:R}"); return; }
        if (double.IsInfinity(expected)) { Assert.True(expected == actual, $"{what}: expected {expected}, got {actual:R}"); return; }
        Assert.True(Math.Abs(expected - actual) <= rtol * Math.Abs(expected) + atol,
            $"{what}: expected {expected:R}, got {actual:R} (diff {Math.Abs(expected - actual):E3})");
    }

    /// <summary>Bitwise equality that treats all NaNs alike.</summary>
    public static void AssertSame(double expected, double actual, string what)
    {
        if (double.IsNaN(expected)) Assert.True(double.IsNaN(actual), $"{what}: expected NaN, got {actual:R}");
        else Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual), $"{what}: expected {expected:R}, got {actual:R}");
    }
}
