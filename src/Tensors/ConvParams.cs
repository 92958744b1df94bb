namespace NeuralTangents.Tensors;

/// <summary>
/// Parameters of an N-d convolution in the canonical layout lhs (N, S1..Sd, C), rhs (K1..Kd, C/groups, O),
/// output (N, S1'..Sd', O); cross-correlation (no kernel flip) as <c>lax.conv_general_dilated</c>.
/// </summary>
/// <param name="Strides">Window stride per spatial dimension (each &gt;= 1).</param>
/// <param name="Padding">Zero padding (low, high) per spatial dimension; see <see cref="ConvPadding"/>.</param>
/// <param name="RhsDilation">Kernel (atrous) dilation per spatial dimension (each &gt;= 1).</param>
/// <param name="FeatureGroupCount">Number of channel groups: C and O must be divisible by it; C/groups = rhs input features.</param>
public sealed record ConvParams(int[] Strides, (int Lo, int Hi)[] Padding, int[] RhsDilation, int FeatureGroupCount = 1)
{
    /// <summary>Number of spatial dimensions.</summary>
    public int SpatialRank => Strides.Length;

    /// <summary>Value equality over all fields.</summary>
    /// <param name="other">The parameters to compare with.</param>
    public bool Equals(ConvParams? other) =>
        other is not null && Strides.AsSpan().SequenceEqual(other.Strides) && Padding.AsSpan().SequenceEqual(other.Padding) &&
        RhsDilation.AsSpan().SequenceEqual(other.RhsDilation) && FeatureGroupCount == other.FeatureGroupCount;

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var s in Strides) h.Add(s);
        foreach (var p in Padding) h.Add(p);
        foreach (var s in RhsDilation) h.Add(s);
        h.Add(FeatureGroupCount);
        return h.ToHashCode();
    }

    /// <summary>Readable text, e.g. <c>ConvParams { Strides = [1, 1], Padding = [(0, 1), (0, 1)], RhsDilation = [1, 1], FeatureGroupCount = 1 }</c>.</summary>
    public override string ToString() =>
        $"ConvParams {{ Strides = [{string.Join(", ", Strides)}], Padding = [{string.Join(", ", Padding.Select(p => $"({p.Lo}, {p.Hi})"))}], " +
        $"RhsDilation = [{string.Join(", ", RhsDilation)}], FeatureGroupCount = {FeatureGroupCount} }}";
}

/// <summary>Padding rules of <c>lax</c> / stax convolutions and pooling.</summary>
public static class ConvPadding
{
    /// <summary>No padding on any of the <paramref name="spatialRank"/> spatial dimensions.</summary>
    /// <param name="spatialRank">Number of spatial dimensions.</param>
    public static (int Lo, int Hi)[] Valid(int spatialRank) => new (int, int)[spatialRank];

    /// <summary>
    /// SAME padding: output size <c>ceil(L/s)</c>, total pad <c>max((out−1)·s + (f−1)·dil + 1 − L, 0)</c>, split as
    /// <c>lo = total/2</c>, <c>hi = total − lo</c> (the odd element goes to the HIGH side).
    /// </summary>
    /// <param name="inputSpatial">Input sizes per spatial dimension.</param>
    /// <param name="filterSpatial">Filter sizes per spatial dimension.</param>
    /// <param name="strides">Strides per spatial dimension (null: all 1).</param>
    /// <param name="dilation">Filter dilation per spatial dimension (null: all 1).</param>
    /// <exception cref="ArgumentException">The arrays differ in length or hold non-positive strides/dilations.</exception>
    public static (int Lo, int Hi)[] Same(int[] inputSpatial, int[] filterSpatial, int[]? strides = null, int[]? dilation = null)
    {
        int d = inputSpatial.Length;
        strides ??= Enumerable.Repeat(1, d).ToArray();
        dilation ??= Enumerable.Repeat(1, d).ToArray();
        if (filterSpatial.Length != d || strides.Length != d || dilation.Length != d)
            throw new ArgumentException($"SAME padding: input [{string.Join(", ", inputSpatial)}], filter [{string.Join(", ", filterSpatial)}], strides [{string.Join(", ", strides)}] and dilation [{string.Join(", ", dilation)}] must have the same length", nameof(filterSpatial));
        var pads = new (int, int)[d];
        for (int i = 0; i < d; i++)
        {
            if (strides[i] < 1 || dilation[i] < 1)
                throw new ArgumentException($"SAME padding: strides and dilation must be >= 1, got stride {strides[i]} and dilation {dilation[i]} on spatial dimension {i}", nameof(strides));
            int outSize = (inputSpatial[i] + strides[i] - 1) / strides[i];
            int total = Math.Max((outSize - 1) * strides[i] + (filterSpatial[i] - 1) * dilation[i] + 1 - inputSpatial[i], 0);
            pads[i] = (total / 2, total - total / 2);
        }
        return pads;
    }
}
