using System.Globalization;

namespace NeuralTangents.Tensors;

/// <summary>
/// A tensor would have more elements than one tensor can hold (<see cref="TensorSizeException.MaxElements"/>, the
/// largest .NET array), thrown where its shape is built and before any work is done. Sizes are multiplied in
/// 64-bit (saturating) arithmetic, so the reported element count is exact up to <see cref="long.MaxValue"/>.
/// An <see cref="ArgumentException"/>: the cause is the size of the inputs, network or requested kernel.
/// </summary>
public sealed class TensorSizeException : ArgumentException
{
    /// <summary>The most elements one tensor can hold: <see cref="Array.MaxLength"/> (2,147,483,591).</summary>
    public static long MaxElements => Array.MaxLength;

    /// <summary>What the tensor is, in the caller's words (e.g. <c>"parameter 0.W"</c>, <c>"NTK kernel"</c>).</summary>
    public string TensorName { get; }

    /// <summary>The sizes of the tensor that could not be built.</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>Its number of elements (saturated at <see cref="long.MaxValue"/>).</summary>
    public long Elements { get; }

    /// <summary>The message without the parameter name that <see cref="ArgumentException.Message"/> appends.</summary>
    public string Reason { get; }

    /// <summary>Creates the exception for a tensor <paramref name="tensorName"/> of sizes <paramref name="dims"/>;
    /// <paramref name="hint"/>, if given, ends the message (what to do instead).</summary>
    public TensorSizeException(string tensorName, IReadOnlyList<long> dims, string? paramName = null, string? hint = null)
        : base(Describe(tensorName, dims, hint), paramName)
    {
        Reason = Describe(tensorName, dims, hint);
        TensorName = tensorName;
        Dims = dims.ToArray();
        Elements = ElementCount(dims);
    }

    /// <summary>The product of <paramref name="dims"/>, saturated at <see cref="long.MaxValue"/>.</summary>
    public static long ElementCount(IEnumerable<long> dims)
    {
        long n = 1;
        foreach (var d in dims)
        {
            if (d == 0) return 0;
            n = n > long.MaxValue / d ? long.MaxValue : n * d;
        }
        return n;
    }

    /// <summary>Throws unless a tensor of sizes <paramref name="dims"/> fits one tensor; returns its element count.</summary>
    /// <exception cref="TensorSizeException">More than <see cref="MaxElements"/> elements.</exception>
    public static int Check(string tensorName, IReadOnlyList<long> dims, string? paramName = null, string? hint = null)
    {
        long n = ElementCount(dims);
        return n <= MaxElements ? (int)n : throw new TensorSizeException(tensorName, dims, paramName, hint);
    }

    /// <inheritdoc cref="Check(string, IReadOnlyList{long}, string, string)"/>
    public static int Check(string tensorName, Shape shape, string? paramName = null, string? hint = null) =>
        Check(tensorName, shape.Select(d => (long)d).ToArray(), paramName, hint);

    private static string Describe(string name, IReadOnlyList<long> dims, string? hint)
    {
        long n = ElementCount(dims);
        var shape = dims.Count == 1 ? $"({dims[0]},)" : "(" + string.Join(", ", dims) + ")";
        var count = n == long.MaxValue ? "more than 9.2e18" : n.ToString("N0", CultureInfo.InvariantCulture);
        return $"{name} of shape {shape} would have {count} elements, more than the " +
               $"{MaxElements.ToString("N0", CultureInfo.InvariantCulture)} one tensor can hold" + (hint is null ? "" : "; " + hint);
    }
}
