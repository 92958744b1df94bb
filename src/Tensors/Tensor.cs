using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralTangents.Tensors;

/// <summary>
/// A strided n-d array of <see cref="DType.Float32"/> or <see cref="DType.Float64"/> values: storage + shape +
/// element strides + offset. Views (transpose, broadcast, reshape of contiguous data, slicing, reversal) share
/// storage and copy nothing. Tensors are treated as immutable by the library: no kernel writes into an input.
/// </summary>
public sealed partial class Tensor
{
    internal readonly Array Storage;
    internal readonly int[] Strides;
    internal readonly int Offset;

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Shape (row-major sizes).</summary>
    public Shape Shape { get; }

    /// <summary>Number of axes.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Number of elements.</summary>
    public int Size => Shape.Size;

    internal Tensor(Array storage, Shape shape, int[] strides, int offset)
    {
        Storage = storage;
        DType = storage is float[] ? DType.Float32 : storage is double[] ? DType.Float64
            : throw new ArgumentException($"unsupported storage {storage.GetType().Name}", nameof(storage));
        Shape = shape;
        Strides = strides;
        Offset = offset;
    }

    internal Tensor(Array storage, Shape shape) : this(storage, shape, shape.ContiguousStrides(), 0)
    {
        if (storage.Length != shape.Size)
            throw new ArgumentException($"storage has {storage.Length} elements but shape {shape} needs {shape.Size}", nameof(storage));
    }

    // ---------------------------------------------------------------- construction

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape, DType dtype = DType.Float64) =>
        new(dtype == DType.Float32 ? new float[shape.Size] : new double[shape.Size], shape);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float64)
    {
        var t = Zeros(shape, dtype);
        if (dtype == DType.Float32) Array.Fill((float[])t.Storage, (float)value);
        else Array.Fill((double[])t.Storage, value);
        return t;
    }

    /// <summary>A rank-0 tensor.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float64) => Full(Shape.Scalar, value, dtype);

    /// <summary>Copies <paramref name="data"/> (C order) into a new float64 tensor of shape <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The length of <paramref name="data"/> is not the size of <paramref name="shape"/>.</exception>
    public static Tensor FromArray(double[] data, Shape shape) => new((double[])CheckLen(data, shape).Clone(), shape);

    /// <summary>Copies <paramref name="data"/> (C order) into a new float32 tensor of shape <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The length of <paramref name="data"/> is not the size of <paramref name="shape"/>.</exception>
    public static Tensor FromArray(float[] data, Shape shape) => new((float[])CheckLen(data, shape).Clone(), shape);

    /// <summary>A float64 vector.</summary>
    public static Tensor FromArray(params double[] data) => FromArray(data, new Shape(data.Length));

    /// <summary>A float64 matrix from a jagged array (all rows of equal length).</summary>
    /// <exception cref="ArgumentException">Rows differ in length.</exception>
    public static Tensor FromRows(double[][] rows)
    {
        int n = rows.Length, m = n == 0 ? 0 : rows[0].Length;
        var d = new double[n * m];
        for (int i = 0; i < n; i++)
        {
            if (rows[i].Length != m) throw new ArgumentException($"row {i} has length {rows[i].Length}, expected {m}", nameof(rows));
            rows[i].CopyTo(d, i * m);
        }
        return new Tensor(d, new Shape(n, m));
    }

    /// <summary>Wraps <paramref name="data"/> without copying (the caller must not mutate it afterwards).</summary>
    internal static Tensor Wrap<T>(T[] data, Shape shape) => new(CheckLen(data, shape), shape);

    /// <summary>Standard-normal samples from a seeded generator (Box–Muller over <see cref="System.Random"/>).</summary>
    public static Tensor RandomNormal(Random rng, Shape shape, DType dtype = DType.Float64)
    {
        var d = new double[shape.Size];
        for (int i = 0; i < d.Length; i += 2)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            d[i] = r * Math.Cos(2 * Math.PI * u2);
            if (i + 1 < d.Length) d[i + 1] = r * Math.Sin(2 * Math.PI * u2);
        }
        var t = new Tensor(d, shape);
        return dtype == DType.Float64 ? t : t.AsType(dtype);
    }

    private static T[] CheckLen<T>(T[] data, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != shape.Size)
            throw new ArgumentException($"data has {data.Length} elements but shape {shape} needs {shape.Size}", nameof(data));
        return data;
    }

    // ---------------------------------------------------------------- element access

    /// <summary>True when the elements are laid out in C order starting at <see cref="Offset"/>.</summary>
    public bool IsContiguous
    {
        get
        {
            if (Size == 0) return true;
            int acc = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                int d = Shape[i];
                if (d != 1 && Strides[i] != acc) return false;
                acc *= d;
            }
            return true;
        }
    }

    /// <summary>The element at <paramref name="index"/> converted to double.</summary>
    /// <exception cref="ArgumentException">Wrong number of indices.</exception>
    /// <exception cref="IndexOutOfRangeException">An index is out of range.</exception>
    public double this[params int[] index]
    {
        get
        {
            int o = FlatOffset(index);
            return DType == DType.Float32 ? ((float[])Storage)[o] : ((double[])Storage)[o];
        }
    }

    private int FlatOffset(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"expected {Rank} indices for shape {Shape}, got {index.Length}", nameof(index));
        int o = Offset;
        for (int i = 0; i < Rank; i++)
        {
            int ix = index[i] < 0 ? index[i] + Shape[i] : index[i];
            if ((uint)ix >= (uint)Shape[i]) throw new IndexOutOfRangeException($"index {index[i]} out of range for axis {i} of shape {Shape}");
            o += ix * Strides[i];
        }
        return o;
    }

    /// <summary>The value of a size-1 tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public double ToScalar()
    {
        if (Size != 1) throw new InvalidOperationException($"ToScalar() needs a tensor with one element, got shape {Shape}");
        return ToDoubleArray()[0];
    }

    /// <summary>Contiguous span of the elements (the tensor must be contiguous; call <see cref="Contiguous"/>).</summary>
    internal ReadOnlySpan<T> Span<T>()
    {
        Debug.Assert(IsContiguous);
        return new ReadOnlySpan<T>((T[])Storage, Offset, Size);
    }

    /// <summary>Writable span of a freshly allocated contiguous tensor.</summary>
    internal Span<T> MutableSpan<T>() => new((T[])Storage, Offset, Size);

    /// <summary>A C-ordered copy of the elements as <typeparamref name="T"/> (float or double; converts).</summary>
    public T[] ToArray<T>()
    {
        var c = DType == DTypes.Of<T>() ? Contiguous() : AsType(DTypes.Of<T>());
        return c.Span<T>().ToArray();
    }

    /// <summary>A C-ordered copy of the elements as doubles.</summary>
    public double[] ToDoubleArray() => ToArray<double>();

    // ---------------------------------------------------------------- views and copies

    /// <summary>This tensor if contiguous, else a C-ordered copy.</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous) return this;
        return DType == DType.Float32 ? CopyStrided<float>() : CopyStrided<double>();
    }

    private Tensor CopyStrided<T>()
    {
        var dst = BufferPool.Rent<T>(Size);
        StridedCopy.Copy((T[])Storage, Offset, Strides, Shape.Dims, dst);
        return new Tensor(dst, Shape);
    }

    /// <summary>Converts to <paramref name="dtype"/> (a contiguous copy unless already of that type).</summary>
    public Tensor AsType(DType dtype)
    {
        if (dtype == DType) return this;
        var c = Contiguous();
        if (dtype == DType.Float64)
        {
            var dst = BufferPool.Rent<double>(Size);
            TensorPrimitivesCompat.ConvertToDouble(c.Span<float>(), dst);
            return new Tensor(dst, Shape);
        }
        else
        {
            var dst = BufferPool.Rent<float>(Size);
            TensorPrimitivesCompat.ConvertToSingle(c.Span<double>(), dst);
            return new Tensor(dst, Shape);
        }
    }

    /// <summary>Permutes axes (a view): output axis i is input axis <paramref name="perm"/>[i].</summary>
    /// <exception cref="ArgumentException"><paramref name="perm"/> is not a permutation of <c>0..rank-1</c>.</exception>
    public Tensor Transpose(params int[] perm)
    {
        if (perm.Length != Rank || perm.OrderBy(p => p).Where((p, i) => p != i).Any())
            throw new ArgumentException($"transpose: permutation [{string.Join(", ", perm)}] is not a permutation of the {Rank} axes of shape {Shape}", nameof(perm));
        return new Tensor(Storage, new Shape(perm.Select(p => Shape[p])), perm.Select(p => Strides[p]).ToArray(), Offset);
    }

    /// <summary>
    /// Broadcasts into <paramref name="shape"/> (a view with zero strides): input axis i becomes output axis
    /// <paramref name="dims"/>[i]; its size must be 1 or equal to the output size. Mirrors <c>lax.broadcast_in_dim</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Sizes or dims are incompatible.</exception>
    public Tensor BroadcastInDim(Shape shape, int[] dims)
    {
        if (dims.Length != Rank)
            throw new ArgumentException($"broadcast_in_dim: {dims.Length} broadcast dimensions for operand of rank {Rank} {Shape}", nameof(dims));
        var strides = new int[shape.Rank];
        for (int i = 0; i < Rank; i++)
        {
            int d = dims[i];
            if (d < 0 || d >= shape.Rank || (i > 0 && d <= dims[i - 1]))
                throw new ArgumentException($"broadcast_in_dim: dimensions [{string.Join(", ", dims)}] must be strictly increasing and in [0, {shape.Rank})", nameof(dims));
            if (Shape[i] != 1 && Shape[i] != shape[d])
                throw new ArgumentException($"broadcast_in_dim: operand shape {Shape} cannot broadcast to {shape} with dimensions [{string.Join(", ", dims)}]", nameof(shape));
            strides[d] = Shape[i] == 1 ? 0 : Strides[i];
        }
        return new Tensor(Storage, shape, strides, Offset);
    }

    /// <summary>NumPy-style broadcast (align trailing axes) into <paramref name="shape"/>.</summary>
    public Tensor BroadcastTo(Shape shape)
    {
        if (shape.Rank < Rank) throw new ArgumentException($"cannot broadcast shape {Shape} to lower-rank {shape}", nameof(shape));
        return BroadcastInDim(shape, Enumerable.Range(shape.Rank - Rank, Rank).ToArray());
    }

    /// <summary>Reshapes in C order (a view when contiguous, else a copy). One size may be -1.</summary>
    /// <exception cref="ArgumentException">The element counts differ.</exception>
    public Tensor Reshape(params int[] newShape)
    {
        var dims = (int[])newShape.Clone();
        int neg = Array.IndexOf(dims, -1);
        if (neg >= 0)
        {
            int known = 1;
            for (int i = 0; i < dims.Length; i++) if (i != neg) known *= dims[i];
            dims[neg] = known == 0 ? 0 : Size / known;
        }
        var s = new Shape(dims);
        if (s.Size != Size) throw new ArgumentException($"reshape: cannot reshape {Shape} ({Size} elements) into {Shape.Format(newShape)}", nameof(newShape));
        var c = Contiguous();
        return new Tensor(c.Storage, s, s.ContiguousStrides(), c.Offset);
    }

    /// <summary>Reshapes in C order.</summary>
    public Tensor Reshape(Shape shape) => Reshape(shape.ToArray());

    /// <summary>Strided slice (a view), as <c>lax.slice(start, limit, strides)</c>.</summary>
    /// <exception cref="ArgumentException">Bounds are invalid for the shape.</exception>
    public Tensor Slice(int[] start, int[] limit, int[]? strides = null)
    {
        strides ??= Enumerable.Repeat(1, Rank).ToArray();
        if (start.Length != Rank || limit.Length != Rank || strides.Length != Rank)
            throw new ArgumentException($"slice: start/limit/strides must have {Rank} entries for shape {Shape}", nameof(start));
        var dims = new int[Rank];
        var st = new int[Rank];
        int off = Offset;
        for (int i = 0; i < Rank; i++)
        {
            if (start[i] < 0 || limit[i] > Shape[i] || start[i] > limit[i] || strides[i] < 1)
                throw new ArgumentException($"slice: invalid bounds start={start[i]} limit={limit[i]} stride={strides[i]} on axis {i} of shape {Shape}", nameof(start));
            dims[i] = (limit[i] - start[i] + strides[i] - 1) / strides[i];
            st[i] = Strides[i] * strides[i];
            off += start[i] * Strides[i];
        }
        return new Tensor(Storage, new Shape(dims), st, off);
    }

    /// <summary>Reverses the given axes (a view with negative strides), as <c>lax.rev</c>.</summary>
    public Tensor Rev(params int[] axes)
    {
        var st = (int[])Strides.Clone();
        int off = Offset;
        foreach (var a0 in axes)
        {
            int a = Shape.NormalizeAxis(a0, nameof(axes));
            if (Shape[a] > 0) off += (Shape[a] - 1) * st[a];
            st[a] = -st[a];
        }
        return new Tensor(Storage, Shape, st, off);
    }

    /// <summary>Inserts a size-1 axis at <paramref name="axis"/> (a view).</summary>
    public Tensor ExpandDims(int axis)
    {
        if (axis < 0) axis += Rank + 1;
        if (axis < 0 || axis > Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"expand_dims: axis {axis} out of range for shape {Shape}");
        var dims = Shape.Dims.ToList(); dims.Insert(axis, 1);
        var st = Strides.ToList(); st.Insert(axis, 0);
        return new Tensor(Storage, new Shape(dims), st.ToArray(), Offset);
    }

    /// <summary>Removes size-1 axes (a view).</summary>
    /// <exception cref="ArgumentException">An axis does not have size 1.</exception>
    public Tensor Squeeze(params int[] axes)
    {
        var set = axes.Select(a => Shape.NormalizeAxis(a, nameof(axes))).ToHashSet();
        foreach (var a in set)
            if (Shape[a] != 1) throw new ArgumentException($"squeeze: axis {a} of shape {Shape} has size {Shape[a]}, not 1", nameof(axes));
        var keep = Enumerable.Range(0, Rank).Where(i => !set.Contains(i)).ToArray();
        return new Tensor(Storage, new Shape(keep.Select(i => Shape[i])), keep.Select(i => Strides[i]).ToArray(), Offset);
    }

    /// <summary>Short description, e.g. <c>float32(2, 3)</c>, followed by values for small tensors.</summary>
    public override string ToString()
    {
        var head = $"{DType.Name()}{Shape}";
        if (Size > 64) return head;
        return head + " [" + string.Join(", ", ToDoubleArray().Select(v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture))) + "]";
    }
}
