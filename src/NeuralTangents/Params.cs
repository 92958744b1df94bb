using System.Collections;

namespace NeuralTangents;

/// <summary>
/// Network parameters: an ordered map from names to tensors. Stax names them <c>"&lt;layer index&gt;.W"</c> and
/// <c>"&lt;layer index&gt;.b"</c> (index within the <c>Serial</c>), with Neural Tangents' layouts (Dense <c>W</c> is
/// <c>(in, out)</c>, bias <c>(1, out)</c>; Conv <c>W</c> is HWIO, bias <c>(1, 1, 1, out)</c>). Order is insertion order
/// and defines the order of the flattened parameter vector.
/// </summary>
public sealed class Params : IReadOnlyDictionary<string, Tensor>
{
    private readonly List<KeyValuePair<string, Tensor>> _items = new();
    private readonly Dictionary<string, Tensor> _map = new(StringComparer.Ordinal);

    /// <summary>An empty parameter set.</summary>
    public Params() { }

    /// <summary>Parameters from name/tensor pairs, in the given order.</summary>
    /// <exception cref="ArgumentException">A name repeats.</exception>
    public Params(IEnumerable<KeyValuePair<string, Tensor>> items)
    {
        foreach (var kv in items) Add(kv.Key, kv.Value);
    }

    /// <summary>Appends a named tensor.</summary>
    /// <exception cref="ArgumentException">The name is already present.</exception>
    public void Add(string name, Tensor value)
    {
        if (!_map.TryAdd(name, value)) throw new ArgumentException($"duplicate parameter name '{name}'", nameof(name));
        _items.Add(new(name, value));
    }

    /// <summary>The tensor named <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such parameter (the message lists the names present).</exception>
    public Tensor this[string key] => _map.TryGetValue(key, out var t) ? t
        : throw new KeyNotFoundException($"no parameter named '{key}'; parameters are [{string.Join(", ", Keys)}]");

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _items.Select(kv => kv.Key);
    /// <inheritdoc/>
    public IEnumerable<Tensor> Values => _items.Select(kv => kv.Value);
    /// <inheritdoc/>
    public int Count => _items.Count;
    /// <inheritdoc/>
    public bool ContainsKey(string key) => _map.ContainsKey(key);
    /// <inheritdoc/>
    public bool TryGetValue(string key, out Tensor value) => _map.TryGetValue(key, out value!);
    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Total number of scalar parameters.</summary>
    public long ParameterCount => _items.Sum(kv => (long)kv.Value.Size);

    /// <summary>All tensors converted to <paramref name="dtype"/>.</summary>
    public Params AsType(DType dtype) => new(_items.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.AsType(dtype))));

    /// <summary>A copy where each tensor is <c>f(name, tensor)</c>.</summary>
    public Params Map(Func<string, Tensor, Tensor> f) => new(_items.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, f(kv.Key, kv.Value))));

    /// <summary>Names with their shapes, e.g. <c>0.W:(3, 3, 1, 8)</c>.</summary>
    public override string ToString() => string.Join(", ", _items.Select(kv => $"{kv.Key}:{kv.Value.Shape}"));
}
