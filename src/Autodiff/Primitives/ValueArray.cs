namespace NeuralTangents.Autodiff.Primitives;

/// <summary>
/// An array compared by its elements, so primitive parameters that hold arrays (axes, permutations, paddings) are
/// value-equal (<see cref="Primitive.Equals(Primitive?)"/>). The array is not copied: primitives never mutate theirs.
/// </summary>
internal readonly struct ValueArray<T> : IEquatable<ValueArray<T>>
{
    private readonly T[] _items;
    public ValueArray(T[] items) => _items = items;

    /// <summary>The elements, read-only.</summary>
    public ReadOnlySpan<T> AsSpan() => _items;

    public bool Equals(ValueArray<T> other) => _items.AsSpan().SequenceEqual(other._items, EqualityComparer<T>.Default);
    public override bool Equals(object? obj) => obj is ValueArray<T> o && Equals(o);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var x in _items) h.Add(x);
        return h.ToHashCode();
    }
}

/// <summary>Shorthand for <see cref="ValueArray{T}"/>.</summary>
internal static class ValueArray
{
    public static ValueArray<T> Of<T>(T[] items) => new(items);
}
