using NeuralTangents.Tensors.Kernels;
using System.Runtime.CompilerServices;
using System.Numerics;
using System.Numerics.Tensors;

namespace NeuralTangents.Tensors.Ops;

/// <summary>
/// Deterministic reductions (<c>reduce_sum</c>, <c>reduce_max</c>). Sums accumulate in double (float32 input is
/// widened), so float32 sums are accurate to float64 level before the final rounding; the summation order depends
/// only on shape and axes, never on strides or threads.
/// </summary>
internal static class Reductions
{
    internal const int Block = 512;

    /// <summary>Sums over <paramref name="axes"/> (distinct, any order, negative allowed); the result drops those axes.</summary>
    public static Tensor Sum(Tensor x, int[] axes) => Reduce(x, axes, "reduce_sum", max: false);

    /// <summary>Maximum over <paramref name="axes"/>, NaN-propagating; −∞ where the reduced extent is empty.</summary>
    public static Tensor Max(Tensor x, int[] axes) => Reduce(x, axes, "reduce_max", max: true);

    /// <summary>Sum of all elements in double.</summary>
    public static double SumAll(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return x.DType == DType.Float32 ? SumRow(OpChecks.Elements<float>(x)) : SumRow(OpChecks.Elements<double>(x));
    }

    /// <summary>⟨a, b⟩ over all elements (equal shapes and dtypes), products and sums in double.</summary>
    public static double Dot(Tensor a, Tensor b)
    {
        OpChecks.SameShapeAndDType("dot", a, b);
        double acc = 0;
        if (a.DType == DType.Float64)
        {
            ReadOnlySpan<double> x = OpChecks.Elements<double>(a), y = OpChecks.Elements<double>(b);
            for (int i = 0; i < x.Length; i += Block)
            {
                int n = Math.Min(Block, x.Length - i);
                acc += TensorPrimitives.Dot(x.Slice(i, n), y.Slice(i, n));
            }
        }
        else
        {
            ReadOnlySpan<float> x = OpChecks.Elements<float>(a), y = OpChecks.Elements<float>(b);
            Span<double> dx = stackalloc double[Block], dy = stackalloc double[Block];
            for (int i = 0; i < x.Length; i += Block)
            {
                int n = Math.Min(Block, x.Length - i);
                SimdSpan.Widen(x.Slice(i, n), dx[..n]);
                SimdSpan.Widen(y.Slice(i, n), dy[..n]);
                acc += TensorPrimitives.Dot(dx[..n], dy[..n]);
            }
        }
        return acc;
    }

    /// <summary>Output shape of a reduction of <paramref name="x"/> over <paramref name="axes"/>.</summary>
    public static Shape ReduceShape(Shape x, int[] axes, string op = "reduce_sum")
    {
        var ax = OpChecks.Axes(op, x, axes);
        return new Shape(x.Dims.Where((_, i) => Array.IndexOf(ax, i) < 0));
    }

    /// <summary>
    /// Bytes a reduction of <paramref name="x"/> over <paramref name="axes"/> allocates besides its result, read from
    /// shapes and strides only (memory estimates pass a tensor over empty storage laid out as the real one will be): the
    /// contiguous or permuted copy of the operand it reduces rows of, and the float64 accumulator of a sum over leading
    /// axes. Mirrors the branches of <see cref="Reduce{T}"/>. (A JacobianContraction graph without vmap reduces its
    /// (basis, examples, features) products over the examples, the middle axis: a copy as large as the operand that
    /// its estimate did not count.)
    /// </summary>
    internal static double ScratchBytes(Tensor x, int[] axes, bool max)
    {
        var ax = OpChecks.Axes(max ? "reduce_max" : "reduce_sum", x.Shape, axes);
        var reduced = new bool[x.Rank];
        foreach (var a in ax) reduced[a] = true;
        int k = 1;
        for (int i = 0; i < x.Rank; i++) if (!reduced[i]) k *= x.Shape[i];
        if (ax.Length == 0) return 0;   // a copy, which is the result
        if (k == 0 || x.Size == 0) return 0;
        int lastKept = -1, firstReduced = int.MaxValue, lastReduced = -1, firstKept = int.MaxValue;
        for (int i = 0; i < x.Rank; i++)
        {
            if (x.Shape[i] == 1) continue;
            if (reduced[i]) { firstReduced = Math.Min(firstReduced, i); lastReduced = i; }
            else { firstKept = Math.Min(firstKept, i); lastKept = i; }
        }
        double operand = (double)x.Size * x.DType.SizeOf();
        if (lastReduced < firstKept && k >= 32)
            return (x.IsContiguous ? 0 : operand) + (max ? 0 : k * (double)sizeof(double));
        if (lastKept < firstReduced) return x.IsContiguous ? 0 : operand;
        var perm = Enumerable.Range(0, x.Rank).Where(i => !reduced[i]).Concat(Enumerable.Range(0, x.Rank).Where(i => reduced[i])).ToArray();
        return x.Transpose(perm).IsContiguous ? 0 : operand;
    }

    // ------------------------------------------------------------------------------------------------ core

    private static Tensor Reduce(Tensor x, int[] axes, string op, bool max)
    {
        ArgumentNullException.ThrowIfNull(x);
        var ax = OpChecks.Axes(op, x.Shape, axes);
        var reduced = new bool[x.Rank];
        foreach (var a in ax) reduced[a] = true;
        var outShape = new Shape(x.Shape.Dims.Where((_, i) => !reduced[i]));
        if (ax.Length == 0) return Elementwise.Copy(x);
        return x.DType == DType.Float32 ? Reduce<float>(x, reduced, outShape, max) : Reduce<double>(x, reduced, outShape, max);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 (see Blas.Tile)
    private static Tensor Reduce<T>(Tensor x, bool[] reduced, Shape outShape, bool max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = outShape.Size;
        var dst = BufferPool.Rent<T>(k);   // every branch writes every output element
        int r = k == 0 ? 0 : x.Size / k;
        if (k == 0) return Tensor.Wrap(dst, outShape);
        if (r == 0)
        {
            Array.Fill(dst, max ? T.NegativeInfinity : T.Zero);
            return Tensor.Wrap(dst, outShape);
        }

        // Size-1 axes do not affect memory order; classify the others.
        int lastKept = -1, firstReduced = int.MaxValue, lastReduced = -1, firstKept = int.MaxValue;
        for (int i = 0; i < x.Rank; i++)
        {
            if (x.Shape[i] == 1) continue;
            if (reduced[i]) { firstReduced = Math.Min(firstReduced, i); lastReduced = i; }
            else { firstKept = Math.Min(firstKept, i); lastKept = i; }
        }

        if (lastReduced < firstKept && k >= 32)
        {
            // Reduced axes lead: (r, k) in C order, accumulate rows into the output (short rows would be all overhead).
            ReduceLeading(OpChecks.Elements<T>(x), r, dst, max);
        }
        else
        {
            // Reduced axes trail (possibly after a permuted copy): (k, r) rows, one reduction per row.
            Tensor rows;
            if (lastKept < firstReduced) rows = x.Contiguous();
            else
            {
                var perm = Enumerable.Range(0, x.Rank).Where(i => !reduced[i]).Concat(Enumerable.Range(0, x.Rank).Where(i => reduced[i])).ToArray();
                rows = x.Transpose(perm).Contiguous();
            }
            var s = rows.Span<T>();
            for (int i = 0; i < k; i++)
            {
                var row = s.Slice(i * r, r);
                dst[i] = max ? TensorPrimitives.Max(row) : T.CreateTruncating(SumRow(row));
            }
        }
        return Tensor.Wrap(dst, outShape);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 (see Blas.Tile)
    private static void ReduceLeading<T>(ReadOnlySpan<T> s, int r, T[] dst, bool max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = dst.Length;
        if (max)
        {
            s[..k].CopyTo(dst);
            for (int j = 1; j < r; j++) SimdSpan.Max(dst, s.Slice(j * k, k), dst);
            return;
        }
        // Accumulate in double: rows are added one after another, so float32 rounding would otherwise grow with r.
        var acc = new double[k];
        if (typeof(T) == typeof(double))
        {
            var d = System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(s);
            for (int j = 0; j < r; j++) SimdSpan.Add(acc, d.Slice(j * k, k), acc);
            acc.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(dst.AsSpan()));
        }
        else
        {
            var f = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(s);
            var tmp = new double[k];
            for (int j = 0; j < r; j++)
            {
                SimdSpan.Widen(f.Slice(j * k, k), tmp);
                SimdSpan.Add(acc, tmp, acc);
            }
            SimdSpan.Narrow(acc, System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(dst.AsSpan()));
        }
    }

    // Blocks summed with vectorised kernels and combined in double; float32 blocks are widened first, so float32
    // results carry only the final rounding.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 (see Blas.Tile)
    internal static double SumRow<T>(ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double acc = 0;
        if (typeof(T) == typeof(double))
        {
            var d = System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(row);
            for (int i = 0; i < d.Length; i += Block) acc += TensorPrimitives.Sum(d.Slice(i, Math.Min(Block, d.Length - i)));
            return acc;
        }
        var f = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(row);
        Span<double> buf = stackalloc double[Block];
        for (int i = 0; i < f.Length; i += Block)
        {
            int n = Math.Min(Block, f.Length - i);
            SimdSpan.Widen(f.Slice(i, n), buf[..n]);
            acc += TensorPrimitives.Sum(buf[..n]);
        }
        return acc;
    }
}
