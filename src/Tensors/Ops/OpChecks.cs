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
}
