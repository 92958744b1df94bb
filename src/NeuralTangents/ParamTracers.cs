namespace NeuralTangents;

/// <summary>
/// The traced counterpart of <see cref="Params"/> seen by an apply function: name → <see cref="Tracer"/>, with a
/// prefix scope so a layer inside a <c>Serial</c> reads <c>p["W"]</c> and gets <c>"&lt;index&gt;.W"</c>.
/// </summary>
public sealed class ParamTracers
{
    private readonly IReadOnlyDictionary<string, Tracer> _all;
    private readonly string _prefix;

    internal ParamTracers(IReadOnlyDictionary<string, Tracer> all, string prefix = "")
    {
        _all = all;
        _prefix = prefix;
    }

    /// <summary>The parameter <paramref name="name"/> within the current scope.</summary>
    /// <exception cref="KeyNotFoundException">No such parameter.</exception>
    public Tracer this[string name] => _all.TryGetValue(_prefix + name, out var t) ? t
        : throw new KeyNotFoundException($"no parameter named '{_prefix + name}'; parameters are [{string.Join(", ", _all.Keys)}]");

    /// <summary>Whether <paramref name="name"/> exists within the current scope.</summary>
    public bool Contains(string name) => _all.ContainsKey(_prefix + name);

    /// <summary>A view scoped under <c>"&lt;scope&gt;."</c>.</summary>
    public ParamTracers Scope(string scope) => new(_all, _prefix + scope + ".");

    /// <summary>The same scope where every tensor in it is replaced by <c>f(tensor)</c> (Stax's <c>Repeat</c> slices its
    /// stacked parameters this way).</summary>
    internal ParamTracers MapScope(Func<Tracer, Tracer> f) =>
        new(Names.ToDictionary(n => n, n => f(_all[n]), StringComparer.Ordinal), _prefix);

    /// <summary>All names visible in this scope (full names).</summary>
    public IEnumerable<string> Names => _all.Keys.Where(k => k.StartsWith(_prefix, StringComparison.Ordinal));
}
