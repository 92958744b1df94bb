namespace NeuralTangents.Tensors;

/// <summary>
/// Dimension numbers of a general dot product, as <c>lax.dot_general</c>'s
/// <c>((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))</c>. Axes are non-negative and paired by position:
/// <c>LhsContracting[i]</c> is summed against <c>RhsContracting[i]</c>, and <c>LhsBatch[i]</c> is matched with
/// <c>RhsBatch[i]</c>. The result axes are the batch axes (in <see cref="LhsBatch"/> order), then the remaining lhs axes,
/// then the remaining rhs axes, each in their original order.
/// </summary>
/// <param name="LhsContracting">Contracted axes of the left operand.</param>
/// <param name="RhsContracting">Contracted axes of the right operand, paired with <paramref name="LhsContracting"/>.</param>
/// <param name="LhsBatch">Batch axes of the left operand.</param>
/// <param name="RhsBatch">Batch axes of the right operand, paired with <paramref name="LhsBatch"/>.</param>
public sealed record DotDimensionNumbers(int[] LhsContracting, int[] RhsContracting, int[] LhsBatch, int[] RhsBatch)
{
    /// <summary>A plain contraction with no batch axes.</summary>
    /// <param name="lhsContracting">Contracted axes of the left operand.</param>
    /// <param name="rhsContracting">Contracted axes of the right operand.</param>
    public DotDimensionNumbers(int[] lhsContracting, int[] rhsContracting) : this(lhsContracting, rhsContracting, [], []) { }

    /// <summary>Value equality over the four axis lists.</summary>
    /// <param name="other">The dimension numbers to compare with.</param>
    public bool Equals(DotDimensionNumbers? other) =>
        other is not null && LhsContracting.AsSpan().SequenceEqual(other.LhsContracting) &&
        RhsContracting.AsSpan().SequenceEqual(other.RhsContracting) &&
        LhsBatch.AsSpan().SequenceEqual(other.LhsBatch) && RhsBatch.AsSpan().SequenceEqual(other.RhsBatch);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var list in new[] { LhsContracting, RhsContracting, LhsBatch, RhsBatch })
        {
            h.Add(list.Length);
            foreach (var x in list) h.Add(x);
        }
        return h.ToHashCode();
    }

    /// <summary>Text as lax prints it, e.g. <c>(([1], [0]), ([], []))</c>.</summary>
    public override string ToString() =>
        $"(({Axes(LhsContracting)}, {Axes(RhsContracting)}), ({Axes(LhsBatch)}, {Axes(RhsBatch)}))";

    internal static string Axes(IEnumerable<int> axes) => "[" + string.Join(", ", axes) + "]";
}
