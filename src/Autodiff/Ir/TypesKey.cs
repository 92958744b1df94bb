namespace NeuralTangents.Autodiff.Ir;

/// <summary>
/// A structural cache key: an ordered list of <see cref="TensorType"/>s (and, optionally, the names that go with
/// them), compared element by element. Used wherever a traced graph is cached per input signature, instead of the
/// types' printed text.
/// </summary>
internal readonly struct TypesKey : IEquatable<TypesKey>
{
    private readonly string[] _names;
    private readonly TensorType[] _types;

    /// <param name="types">The types, in order.</param>
    /// <param name="names">Names that are part of the identity too (e.g. parameter names); null for none.</param>
    public TypesKey(TensorType[] types, string[]? names = null)
    {
        _types = types;
        _names = names ?? Array.Empty<string>();
    }

    public bool Equals(TypesKey o) => _types.AsSpan().SequenceEqual(o._types) && _names.AsSpan().SequenceEqual(o._names);
    public override bool Equals(object? obj) => obj is TypesKey k && Equals(k);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var n in _names) h.Add(n, StringComparer.Ordinal);
        foreach (var t in _types) h.Add(t);
        return h.ToHashCode();
    }
}
