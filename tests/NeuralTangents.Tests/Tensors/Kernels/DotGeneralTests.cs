using FsCheck.Xunit;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Tensors.Kernels;

public class DotGeneralTests
{
    /// <summary>Einsum by brute force over output and contraction indices.</summary>
    private static double[] NaiveEinsum(Tensor lhs, Tensor rhs, DotDimensionNumbers d, Shape outShape)
    {
        var lFree = Enumerable.Range(0, lhs.Rank).Where(a => !d.LhsBatch.Contains(a) && !d.LhsContracting.Contains(a)).ToArray();
        var rFree = Enumerable.Range(0, rhs.Rank).Where(a => !d.RhsBatch.Contains(a) && !d.RhsContracting.Contains(a)).ToArray();
        var cSizes = d.LhsContracting.Select(a => lhs.Shape[a]).ToArray();
        var result = new double[outShape.Size];
        var oi = new int[outShape.Rank];
        for (int flat = 0; flat < result.Length; flat++)
        {
            Unravel(flat, outShape.ToArray(), oi);
            var li = new int[lhs.Rank];
            var ri = new int[rhs.Rank];
            int pos = 0;
            for (int i = 0; i < d.LhsBatch.Length; i++, pos++) { li[d.LhsBatch[i]] = oi[pos]; ri[d.RhsBatch[i]] = oi[pos]; }
            foreach (var a in lFree) li[a] = oi[pos++];
            foreach (var a in rFree) ri[a] = oi[pos++];
            int cn = cSizes.Aggregate(1, (x, y) => x * y);
            var ci = new int[cSizes.Length];
            double s = 0;
            for (int c = 0; c < cn; c++)
            {
                Unravel(c, cSizes, ci);
                for (int i = 0; i < ci.Length; i++) { li[d.LhsContracting[i]] = ci[i]; ri[d.RhsContracting[i]] = ci[i]; }
                s += lhs[li] * rhs[ri];
            }
            result[flat] = s;
        }
        return result;
    }

    private static void Unravel(int flat, int[] dims, int[] idx)
    {
        for (int i = dims.Length - 1; i >= 0; i--) { idx[i] = flat % dims[i]; flat /= dims[i]; }
    }

    private static int[] Shuffle(Random rng, int n) => Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();

    /// <summary>A random operand of the given shape, sometimes a non-contiguous view (transpose, step slice, reversal).</summary>
    private static Tensor RandomOperand(Random rng, int[] dims, DType dtype)
    {
        int kind = rng.Next(4);
        if (dims.Contains(0)) return Tensor.Zeros(dims, dtype); // RandomNormal trips on empty float32 shapes
        if (kind == 0 || dims.Length == 0) return Tensor.RandomNormal(rng, dims, dtype);
        if (kind == 1)
        {
            var perm = Shuffle(rng, dims.Length);
            var inv = new int[perm.Length];
            for (int i = 0; i < perm.Length; i++) inv[perm[i]] = i;
            return Tensor.RandomNormal(rng, perm.Select(p => dims[p]).ToArray(), dtype).Transpose(inv);
        }
        if (kind == 2)
        {
            var big = Tensor.RandomNormal(rng, dims.Select(x => 2 * x).ToArray(), dtype);
            return big.Slice(new int[dims.Length], dims.Select(x => 2 * x).ToArray(), Enumerable.Repeat(2, dims.Length).ToArray());
        }
        return Tensor.RandomNormal(rng, dims, dtype).Rev(rng.Next(dims.Length));
    }

    [Property(MaxTest = 200)]
    public void MatchesNaiveEinsum(int seed, bool f32)
    {
        var rng = new Random(seed);
        int nb = rng.Next(3), nc = rng.Next(3), lf = rng.Next(3), rf = rng.Next(3);
        int Size() => rng.Next(10) == 0 ? 0 : rng.Next(1, 6);
        var bSizes = Enumerable.Range(0, nb).Select(_ => Size()).ToArray();
        var cSizes = Enumerable.Range(0, nc).Select(_ => Size()).ToArray();
        var lfSizes = Enumerable.Range(0, lf).Select(_ => Size()).ToArray();
        var rfSizes = Enumerable.Range(0, rf).Select(_ => Size()).ToArray();
        // Logical axes batch|contract|free placed at random positions on each side.
        var lPos = Shuffle(rng, nb + nc + lf);
        var rPos = Shuffle(rng, nb + nc + rf);
        var lDims = new int[lPos.Length];
        var rDims = new int[rPos.Length];
        var lLogical = bSizes.Concat(cSizes).Concat(lfSizes).ToArray();
        var rLogical = bSizes.Concat(cSizes).Concat(rfSizes).ToArray();
        for (int i = 0; i < lPos.Length; i++) lDims[lPos[i]] = lLogical[i];
        for (int i = 0; i < rPos.Length; i++) rDims[rPos[i]] = rLogical[i];
        var d = new DotDimensionNumbers(
            lPos.Skip(nb).Take(nc).ToArray(), rPos.Skip(nb).Take(nc).ToArray(),
            lPos.Take(nb).ToArray(), rPos.Take(nb).ToArray());
        var dtype = f32 ? DType.Float32 : DType.Float64;
        var lhs = RandomOperand(rng, lDims, dtype);
        var rhs = RandomOperand(rng, rDims, dtype);

        var outShape = DotGeneral.InferShape(lhs.Shape, rhs.Shape, d);
        // Batch, then lhs free (in axis order), then rhs free.
        var lFreeSizes = Enumerable.Range(0, lDims.Length).Where(a => !d.LhsBatch.Contains(a) && !d.LhsContracting.Contains(a)).Select(a => lDims[a]);
        var rFreeSizes = Enumerable.Range(0, rDims.Length).Where(a => !d.RhsBatch.Contains(a) && !d.RhsContracting.Contains(a)).Select(a => rDims[a]);
        Assert.Equal(new Shape(bSizes.Concat(lFreeSizes).Concat(rFreeSizes)), outShape);

        var got = DotGeneral.Compute(lhs, rhs, d);
        Assert.Equal(outShape, got.Shape);
        Assert.Equal(dtype, got.DType);
        if (outShape.Size == 0) return; // (Tensor.IsContiguous misjudges some empty shapes; nothing to compare anyway)
        var want = NaiveEinsum(lhs, rhs, d, outShape);
        var g = got.ToDoubleArray();
        double tol = f32 ? 1e-5 : 1e-12;
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(g[i] - want[i]) <= tol * (1 + Math.Abs(want[i])), $"{d} lhs {lhs.Shape} rhs {rhs.Shape}: [{i}] {g[i]} vs {want[i]}");
    }

    [Fact]
    public void MatmulAndLargeBatchedCase()
    {
        var rng = new Random(1);
        var a = Tensor.RandomNormal(rng, new Shape(3, 40, 70));
        var b = Tensor.RandomNormal(rng, new Shape(70, 3, 50)).Transpose(1, 0, 2); // (3, 70, 50) view
        var d = new DotDimensionNumbers([2], [1], [0], [0]);
        var got = DotGeneral.Compute(a, b, d);
        Assert.Equal(new Shape(3, 40, 50), got.Shape);
        var want = NaiveEinsum(a, b, d, got.Shape);
        Assert.Equal(want, got.ToDoubleArray(), (x, y) => Math.Abs(x - y) < 1e-11);
    }

    /// <summary>
    /// A JacobianContraction leaf laid out (t, b, n, a) in storage and read as (n, t, a, b): the examples n sit between
    /// the contracting axes, so no joint order views it as a matrix. Above 4 MiB the product loops over (t, b) with one
    /// GEMM of depth a each instead of copying the operand: same values as the einsum, with and without
    /// accumulation, Gram (upper triangle) or not, and no copy reported.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Operands_whose_examples_sit_between_contracting_axes_are_split_not_copied(bool gram)
    {
        var rng = new Random(7);
        int t = 4, b = 10, n = 5, a = 3000;   // 600,000 float64 = 4.6 MiB per operand
        Tensor Leaf() => Tensor.RandomNormal(rng, new Shape(t, b, n, a)).Transpose(2, 0, 3, 1);
        var x = Leaf();
        var y = gram ? x : Leaf();
        var d = new DotDimensionNumbers([1, 2, 3], [1, 2, 3], [], []);
        Assert.Equal(0, DotGeneral.OperandCopyBytes(x, y, d));
        var want = NaiveEinsum(x, y, d, new Shape(n, n));
        var c = new double[n * n];
        Array.Fill(c, 1.0);
        DotGeneral.Multiply(x, y, d, c, accumulate: true, upperOnly: gram);
        for (int i = 0; i < n; i++)
            for (int j = gram ? i : 0; j < n; j++)
                Assert.True(Math.Abs(c[i * n + j] - 1 - want[i * n + j]) <= 1e-12 * (1 + Math.Abs(want[i * n + j])), $"[{i},{j}] {c[i * n + j] - 1} vs {want[i * n + j]}");
        var fresh = DotGeneral.Compute(x, y, d).ToDoubleArray();
        for (int i = 0; i < fresh.Length; i++)
            Assert.True(Math.Abs(fresh[i] - want[i]) <= 1e-12 * (1 + Math.Abs(want[i])), $"[{i}] {fresh[i]} vs {want[i]}");
    }

    /// <summary>Small operands, or inner depths below a GEMM's worth, are still copied, and the copy is reported.</summary>
    [Fact]
    public void Small_or_shallow_operands_are_copied_and_the_copy_is_reported()
    {
        var rng = new Random(8);
        var small = Tensor.RandomNormal(rng, new Shape(4, 10, 5, 30)).Transpose(2, 0, 3, 1);
        var d = new DotDimensionNumbers([1, 2, 3], [1, 2, 3], [], []);
        Assert.Equal(small.Shape.Size * 8.0, DotGeneral.OperandCopyBytes(small, small, d));   // one copy serves the Gram
        var shallow = Tensor.RandomNormal(rng, new Shape(3000, 10, 5, 4)).Transpose(2, 0, 3, 1);   // inner depth 4
        Assert.Equal(2 * shallow.Shape.Size * 8.0, DotGeneral.OperandCopyBytes(shallow, Tensor.RandomNormal(rng, new Shape(3000, 10, 5, 4)).Transpose(2, 0, 3, 1), d));
        var want = NaiveEinsum(shallow, shallow, d, new Shape(5, 5));
        Assert.Equal(want, DotGeneral.Compute(shallow, shallow, d).ToDoubleArray(), (p, q) => Math.Abs(p - q) <= 1e-12 * (1 + Math.Abs(q)));
    }

    [Fact]
    public void VectorDotIsScalar()
    {
        var x = Tensor.FromArray(1.0, 2, 3);
        var y = Tensor.FromArray(4.0, 5, 6);
        var r = DotGeneral.Compute(x, y, new DotDimensionNumbers([0], [0]));
        Assert.Equal(0, r.Rank);
        Assert.Equal(32.0, r.ToScalar());
        var outer = DotGeneral.Compute(Tensor.Scalar(2), y, new DotDimensionNumbers([], []));
        Assert.Equal(new double[] { 8, 10, 12 }, outer.ToDoubleArray());
    }

    [Fact]
    public void ZeroSizedContractionGivesZeros()
    {
        var r = DotGeneral.Compute(Tensor.Zeros(new Shape(2, 0)), Tensor.Zeros(new Shape(0, 3)), new DotDimensionNumbers([1], [0]));
        Assert.Equal(new Shape(2, 3), r.Shape);
        Assert.All(r.ToDoubleArray(), v => Assert.Equal(0.0, v));
    }

    private static string Message(Action act) => Assert.Throws<ArgumentException>(act).Message.Split(" (Parameter")[0];

    [Fact]
    public void ErrorMessages()
    {
        Shape l = new(2, 3), r = new(4, 5);
        Assert.Equal("dot_general: contracting dimensions must have equal sizes, got (2, 3) axes [1] and (4, 5) axes [0]",
            Message(() => DotGeneral.InferShape(l, r, new([1], [0]))));
        Assert.Equal("dot_general: batch dimensions must have equal sizes, got (2, 3) axes [0] and (4, 5) axes [0]",
            Message(() => DotGeneral.InferShape(l, r, new([], [], [0], [0]))));
        Assert.Equal("dot_general: lhs and rhs must have the same number of contracting dimensions, got [1] and [0, 1]",
            Message(() => DotGeneral.InferShape(l, r, new([1], [0, 1]))));
        Assert.Equal("dot_general: lhs and rhs must have the same number of batch dimensions, got [0] and []",
            Message(() => DotGeneral.InferShape(l, r, new([], [], [0], []))));
        Assert.Equal("dot_general: rhs contracting axis 2 is out of range for shape (4, 5) of rank 2",
            Message(() => DotGeneral.InferShape(l, r, new([1], [2]))));
        Assert.Equal("dot_general: lhs batch axis -1 is out of range for shape (2, 3) of rank 2",
            Message(() => DotGeneral.InferShape(l, r, new([], [], [-1], [0]))));
        Assert.Equal("dot_general: lhs axes must not repeat, got batch [0] and contracting [0] for shape (2, 3)",
            Message(() => DotGeneral.InferShape(l, new Shape(2, 2), new([0], [1], [0], [0]))));
        Assert.Contains("same dtype", Message(() => DotGeneral.Compute(Tensor.Zeros(l), Tensor.Zeros(new Shape(3), DType.Float32), new([1], [0]))));
    }
}
