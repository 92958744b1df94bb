using System.Globalization;

namespace NeuralTangents;

/// <summary>
/// An array holds NaN or ±Inf where finite values are required (see <see cref="FiniteChecks"/>). The message names
/// the array, the first offending value and its index, and how many there are.
/// </summary>
public sealed class NonFiniteException : ArgumentException
{
    /// <summary>What the array is, e.g. <c>"x1"</c>, <c>"parameter 0.W"</c>, <c>"the NTK"</c>.</summary>
    public string ArrayName { get; }

    /// <summary>Index (one entry per axis, C order) of the first non-finite value.</summary>
    public IReadOnlyList<int> Index { get; }

    /// <summary>That value: NaN, +Inf or −Inf.</summary>
    public double Value { get; }

    /// <summary>How many values are non-finite.</summary>
    public long Count { get; }

    /// <summary>The message without the parameter name that <see cref="ArgumentException.Message"/> appends.</summary>
    public string Reason { get; }

    /// <summary>Creates the exception for <paramref name="arrayName"/> whose first non-finite value is <paramref name="value"/> at <paramref name="index"/>.</summary>
    public NonFiniteException(string arrayName, IReadOnlyList<int> index, double value, long count, string? paramName = null)
        : base(Describe(arrayName, index, value, count), paramName)
    {
        ArrayName = arrayName;
        Index = index.ToArray();
        Value = value;
        Count = count;
        Reason = Describe(arrayName, index, value, count);
    }

    /// <summary>NumPy's spelling of a non-finite value: <c>nan</c>, <c>inf</c>, <c>-inf</c>.</summary>
    public static string Spell(double v) => double.IsNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";

    /// <summary>The index as NumPy prints a tuple, e.g. <c>[0, 2]</c>.</summary>
    public static string FormatIndex(IReadOnlyList<int> index) => "[" + string.Join(", ", index) + "]";

    private static string Describe(string name, IReadOnlyList<int> index, double value, long count) =>
        $"{name} has {Spell(value)} at index {FormatIndex(index)}" +
        (count > 1 ? $" ({count.ToString("N0", CultureInfo.InvariantCulture)} non-finite values in all)" : " (the only non-finite value)");
}
