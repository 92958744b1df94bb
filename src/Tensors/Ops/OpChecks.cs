namespace NeuralTangents.Tensors.Ops;

/// <summary>Shared argument validation with lax-style messages (<c>op: ...</c>).</summary>
internal static class OpChecks
{
    public static void SameShapeAndDType(string op, Tensor a, Tensor b, string nameA = "a", string nameB = "b")
    {
        ArgumentNullException.ThrowIfNull(a, nameA);
        ArgumentNullException.ThrowIfNull(b, nameB);
        if (a.Shape != b.Shape)
            throw new ArgumentException($"{op}: operands must have equal shapes, got {a.Shape} and {b.Shape}", nameB);
        if (a.DType != b.DType)
            throw new ArgumentException($"{op}: operands must have equal dtypes, got {a.DType.Name()} and {b.DType.Name()}", nameB);
    }

    /// <summary>Normalises <paramref name="axes"/> (negative allowed) against <paramref name="shape"/>; they must be distinct.</summary>
    public static int[] Axes(string op, Shape shape, int[] axes, string param = "axes")
    {
        ArgumentNullException.ThrowIfNull(axes, param);
        var res = new int[axes.Length];
        var seen = new bool[shape.Rank];
        for (int i = 0; i < axes.Length; i++)
        {
            int a = axes[i];
            if (a < -shape.Rank || a >= shape.Rank)
                throw new ArgumentOutOfRangeException(param, $"{op}: axis {a} is out of range for shape {shape} of rank {shape.Rank}");
            if (a < 0) a += shape.Rank;
            if (seen[a])
                throw new ArgumentException($"{op}: axes [{string.Join(", ", axes)}] must be distinct for shape {shape}", param);
            seen[a] = true;
            res[i] = a;
        }
        return res;
    }

    /// <summary>
    /// The elements in C order. Empty tensors get an empty span without touching <see cref="Tensor.Span{T}"/>, whose
    /// contiguity assertion does not hold for shapes with a zero size after the first axis.
    /// </summary>
    public static ReadOnlySpan<T> Elements<T>(Tensor t) => t.Size == 0 ? default : t.Contiguous().Span<T>();

    // A view whose every element is the same storage slot (a broadcast scalar).
    public static bool IsBroadcastScalar(Tensor t)
    {
        if (t.Size == 0) return false;
        for (int i = 0; i < t.Rank; i++)
            if (t.Strides[i] != 0 && t.Shape[i] != 1) return false;
        return true;
    }

    /// <summary>How a broadcast operand repeats: <c>Inner</c> elements per row of the (C-order) result; a repeated
    /// contiguous block of <c>Inner</c> elements (<c>PerRow</c> false), or one value per row, rows contiguous
    /// (<c>PerRow</c> true).</summary>
    public readonly record struct Broadcast(int Inner, bool PerRow);

    /// <summary>Rows at least this long make the row-by-row loop worth it (shorter ones are materialised).</summary>
    private const int MinInner = 64;

    /// <summary>
    /// The layout of a broadcast view that can be read in place: leading axes of stride 0 over a contiguous trailing
    /// block (a bias broadcast over examples), or contiguous leading axes over trailing axes of stride 0 (a value per
    /// example broadcast over features). Null for anything else, including non-broadcast tensors.
    /// </summary>
    public static Broadcast? BroadcastLayout(Tensor t)
    {
        if (t.Size == 0 || IsBroadcastScalar(t)) return null;
        int rank = t.Rank;
        // Split point k: axes [0, k) and [k, rank), size-1 axes are free either way.
        for (int k = 1; k < rank; k++)
        {
            long inner = 1;
            for (int a = k; a < rank; a++) inner *= t.Shape[a];
            if (inner < MinInner || inner > int.MaxValue) continue;
            if (ZeroStrides(t, 0, k) && Standard(t, k, rank)) return new Broadcast((int)inner, PerRow: false);
            if (ZeroStrides(t, k, rank) && Standard(t, 0, k)) return new Broadcast((int)inner, PerRow: true);
        }
        return null;
    }

    /// <summary>Two same-shape operands seen as runs of <see cref="Length"/> elements (the trailing axes from
    /// <see cref="Axis"/> on), each operand contiguous along a run or one value repeated (<c>Scalar</c>); run r starts at
    /// element offset <see cref="OffsetA"/>(r) / <see cref="OffsetB"/>(r) (from the leading axes' strides).</summary>
    public sealed class RunLayout(Tensor a, Tensor b, int axis, int length, bool scalarA, bool scalarB)
    {
        private readonly int[] _outer = a.Shape.Dims[..axis], _sa = a.Strides[..axis], _sb = b.Strides[..axis];
        public int Axis { get; } = axis;
        public int Length { get; } = length;
        public bool ScalarA { get; } = scalarA;
        public bool ScalarB { get; } = scalarB;
        public int OffsetA(int r) => Offset(r, _sa);
        public int OffsetB(int r) => Offset(r, _sb);

        private int Offset(int r, int[] strides)
        {
            int off = 0;
            for (int i = _outer.Length - 1; i >= 0; i--)
            {
                int d = _outer[i];
                off += r % d * strides[i];
                r /= d;
            }
            return off;
        }
    }

    /// <summary>The longest trailing run (at least <see cref="MinInner"/> elements) along which each of a and b is
    /// C-contiguous or constant; null when there is none.</summary>
    public static RunLayout? Runs(Tensor a, Tensor b)
    {
        if (a.Size == 0 || a.Shape != b.Shape) return null;
        int rank = a.Rank;
        for (int k = 0; k < rank; k++)
        {
            long inner = 1;
            for (int ax = k; ax < rank; ax++) inner *= a.Shape[ax];
            if (inner < MinInner) break;
            if (inner > int.MaxValue) continue;
            bool ca = Standard(a, k, rank), cb = Standard(b, k, rank);
            bool za = !ca && AllZero(a, k, rank), zb = !cb && AllZero(b, k, rank);
            if ((ca || za) && (cb || zb)) return new RunLayout(a, b, k, (int)inner, za, zb);
        }
        return null;
    }

    private static bool AllZero(Tensor t, int from, int to)
    {
        for (int ax = from; ax < to; ax++)
            if (t.Shape[ax] != 1 && t.Strides[ax] != 0) return false;
        return true;
    }

    private static bool ZeroStrides(Tensor t, int from, int to)
    {
        bool any = false;
        for (int a = from; a < to; a++)
        {
            if (t.Shape[a] == 1) continue;
            if (t.Strides[a] != 0) return false;
            any = true;
        }
        return any;
    }

    /// <summary>Axes [from, to) have the strides of a C-order array of their sizes (size-1 axes ignored).</summary>
    private static bool Standard(Tensor t, int from, int to)
    {
        long expect = 1;
        for (int a = to - 1; a >= from; a--)
        {
            if (t.Shape[a] == 1) continue;
            if (t.Strides[a] != expect) return false;
            expect *= t.Shape[a];
        }
        return true;
    }
}
