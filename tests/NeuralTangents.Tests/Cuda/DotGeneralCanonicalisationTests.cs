using FsCheck.Xunit;
using NeuralTangents.Cuda;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Cuda;

/// <summary>CudaKernels.DotGeneral with cuBLAS replaced by the column-major emulator: checks everything but the GPU.</summary>
public class DotGeneralCanonicalisationTests
{
    private static void AssertClose(double[] expected, Tensor actual, double tol)
    {
        if (actual.Size == 0) { Assert.Empty(expected); return; }   // ToDoubleArray trips a debug assert on zero-size tensors
        var got = actual.ToDoubleArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(expected[i] - got[i]) <= tol * (1 + Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {got[i]}");
    }

    [Fact]
    public void Matrix_product_has_jax_output_shape_and_values()
    {
        var a = Tensor.FromRows([[1, 2, 3], [4, 5, 6]]);
        var b = Tensor.FromRows([[1, 0], [0, 1], [2, -1]]);
        var ex = new ColumnMajorBlas.Executor();
        var c = CudaKernels.DotGeneral(a, b, [1], [0], [], [], ex);
        Assert.Equal(new Shape(2, 2), c.Shape);
        Assert.Equal(new double[] { 7, -1, 16, -1 }, c.ToDoubleArray());
        Assert.Equal(1, ex.Calls);
        Assert.Equal((false, false), ex.Transposes[0]);
    }

    [Fact]
    public void Transposed_views_are_used_without_copying_via_trans_flags()
    {
        var rng = new Random(1);
        var x = Tensor.RandomNormal(rng, new Shape(4, 3));          // lhs = xᵀ (3×4), contract its axis 1
        var y = Tensor.RandomNormal(rng, new Shape(5, 4));          // rhs = yᵀ (4×5), contract its axis 0
        var lhs = x.Transpose(1, 0);
        var rhs = y.Transpose(1, 0);
        var ex = new ColumnMajorBlas.Executor();
        var c = CudaKernels.DotGeneral(lhs, rhs, [1], [0], [], [], ex);
        Assert.Equal((true, true), ex.Transposes[0]);
        AssertClose(Reference.DotGeneral(lhs, rhs, [1], [0], [], [], out var shape), c, 1e-12);
        Assert.Equal(shape, c.Shape);
    }

    [Fact]
    public void Batch_dims_anywhere_and_negative_axes()
    {
        var rng = new Random(2);
        var lhs = Tensor.RandomNormal(rng, new Shape(3, 2, 4, 5));   // batch axis 1, contract axes 3 and 0
        var rhs = Tensor.RandomNormal(rng, new Shape(5, 6, 3, 2));   // batch axis 3, contract axes 0 and 2
        var c = CudaKernels.DotGeneral(lhs, rhs, [-1, 0], [0, 2], [1], [-1], new ColumnMajorBlas.Executor());
        var expected = Reference.DotGeneral(lhs, rhs, [3, 0], [0, 2], [1], [3], out var shape);
        Assert.Equal(new Shape(2, 4, 6), shape);
        Assert.Equal(shape, c.Shape);
        AssertClose(expected, c, 1e-12);
    }

    [Fact]
    public void Empty_outputs_and_empty_sums()
    {
        var ex = new ColumnMajorBlas.Executor();
        var empty = CudaKernels.DotGeneral(Tensor.Zeros(new Shape(0, 3)), Tensor.Zeros(new Shape(3, 2)), [1], [0], [], [], ex);
        Assert.Equal(new Shape(0, 2), empty.Shape);
        var zeros = CudaKernels.DotGeneral(Tensor.Full(new Shape(2, 0), 1), Tensor.Full(new Shape(0, 3), 1), [1], [0], [], [], ex);
        Assert.Equal(new Shape(2, 3), zeros.Shape);
        Assert.All(zeros.ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.Equal(0, ex.Calls);
        var outer = CudaKernels.DotGeneral(Tensor.FromArray(1.0, 2), Tensor.FromArray(3.0, 4, 5), [], [], [], [], ex);
        Assert.Equal(new double[] { 3, 4, 5, 6, 8, 10 }, outer.ToDoubleArray());
    }

    [Fact]
    public void Mixed_dtypes_compute_in_float64_and_float32_stays_float32()
    {
        var a32 = Tensor.FromArray([1f, 2f], new Shape(2));
        var b64 = Tensor.FromArray(3.0, 4.0);
        Assert.Equal(DType.Float64, CudaKernels.DotGeneral(a32, b64, [0], [0], [], [], new ColumnMajorBlas.Executor()).DType);
        var c = CudaKernels.DotGeneral(a32, a32, [0], [0], [], [], new ColumnMajorBlas.Executor());
        Assert.Equal(DType.Float32, c.DType);
        Assert.Equal(5.0, c.ToScalar());
    }

    /// <summary>Random ranks, role assignments, sizes (including 1 and 0), strided views and dtypes.</summary>
    [Property(MaxTest = 150)]
    public void Random_dimension_numbers_match_the_naive_reference(int seed)
    {
        var rng = new Random(seed);
        int nb = rng.Next(0, 3), nc = rng.Next(0, 3), nlf = rng.Next(0, 3), nrf = rng.Next(0, 3);
        int Size() => rng.Next(8) == 0 ? (rng.Next(3) == 0 ? 0 : 1) : rng.Next(2, 4);
        var bSizes = Enumerable.Range(0, nb).Select(_ => Size()).ToArray();
        var cSizes = Enumerable.Range(0, nc).Select(_ => Size()).ToArray();
        // Roles laid out in a random axis order on each side.
        var lRoles = Shuffle(rng, Enumerable.Range(0, nb).Select(i => ('b', i)).Concat(Enumerable.Range(0, nc).Select(i => ('c', i)))
                                            .Concat(Enumerable.Range(0, nlf).Select(i => ('f', i))).ToArray());
        var rRoles = Shuffle(rng, Enumerable.Range(0, nb).Select(i => ('b', i)).Concat(Enumerable.Range(0, nc).Select(i => ('c', i)))
                                            .Concat(Enumerable.Range(0, nrf).Select(i => ('f', i))).ToArray());
        var lfSizes = Enumerable.Range(0, nlf).Select(_ => Size()).ToArray();
        var rfSizes = Enumerable.Range(0, nrf).Select(_ => Size()).ToArray();
        int Dim((char R, int I) r, int[] f) => r.R == 'b' ? bSizes[r.I] : r.R == 'c' ? cSizes[r.I] : f[r.I];
        var dtype = rng.Next(2) == 0 ? DType.Float32 : DType.Float64;
        var lhs = RandomView(rng, lRoles.Select(r => Dim(r, lfSizes)).ToArray(), dtype);
        var rhs = RandomView(rng, rRoles.Select(r => Dim(r, rfSizes)).ToArray(), dtype);
        int[] Axes((char, int)[] roles, char role, int count) =>
            Enumerable.Range(0, count).Select(i => Array.IndexOf(roles, (role, i))).ToArray();
        int[] lb = Axes(lRoles, 'b', nb), lc = Axes(lRoles, 'c', nc), rb = Axes(rRoles, 'b', nb), rc = Axes(rRoles, 'c', nc);

        var c = CudaKernels.DotGeneral(lhs, rhs, lc, rc, lb, rb, new ColumnMajorBlas.Executor());
        var expected = Reference.DotGeneral(lhs, rhs, lc, rc, lb, rb, out var shape);
        Assert.Equal(shape, c.Shape);
        Assert.Equal(dtype, c.DType);
        AssertClose(expected, c, dtype == DType.Float32 ? 1e-5 : 1e-12);
    }

    private static T[] Shuffle<T>(Random rng, T[] a)
    {
        for (int i = a.Length - 1; i > 0; i--) { int j = rng.Next(i + 1); (a[i], a[j]) = (a[j], a[i]); }
        return a;
    }

    /// <summary>A tensor of the given shape that is sometimes a transposed or reversed view.</summary>
    private static Tensor RandomView(Random rng, int[] dims, DType dtype)
    {
        int kind = rng.Next(3);
        // Zero-size tensors: Tensor.IsContiguous is false for them (Shape.ContiguousStrides clamps sizes to 1),
        // which trips Span's debug assert inside RandomNormal/AsType; plain zeros avoid that path.
        if (dims.Contains(0)) return Tensor.Zeros(new Shape(dims), dtype);
        if (kind == 0 || dims.Length < 2) return Tensor.RandomNormal(rng, new Shape(dims), dtype);
        if (kind == 1)
        {
            var perm = Shuffle(rng, Enumerable.Range(0, dims.Length).ToArray());
            var inv = new int[perm.Length];
            for (int i = 0; i < perm.Length; i++) inv[perm[i]] = i;
            var baseDims = perm.Select(p => dims[p]).ToArray();    // base axis i has size dims[perm[i]]
            return Tensor.RandomNormal(rng, new Shape(baseDims), dtype).Transpose(inv);
        }
        return Tensor.RandomNormal(rng, new Shape(dims), dtype).Rev(0);
    }
}
