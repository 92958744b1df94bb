namespace NeuralTangents;

/// <summary>
/// Batch axes of the inputs and outputs of a function whose examples do not interact (Neural Tangents'
/// <c>vmap_axes</c>, docs/conventions.md#vmap-axes). An int means the same axis for every input and output (<c>vmapAxes: 0</c>); the
/// two-list form gives one axis per input (null = not batched, shared by all examples) and one per output.
/// Negative axes count from the end of each leaf. Only speed and memory change: values are identical when the
/// promise holds. A network that couples examples (e.g. batch centring) gives a different, per-example result,
/// as in Neural Tangents. Keyword arrays (<c>kwargs_axes</c>) have no counterpart: pass them as extra inputs.
/// </summary>
public sealed class VmapAxes
{
    private readonly int? _uniform;
    private readonly int?[]? _in;
    private readonly int[]? _out;

    private VmapAxes(int? uniform, int?[]? inAxes, int[]? outAxes) { _uniform = uniform; _in = inAxes; _out = outAxes; }

    /// <summary>Per-leaf axes: <paramref name="inAxes"/>[i] for input i (null = not batched), <paramref name="outAxes"/>[j] for output j.</summary>
    public VmapAxes(int?[] inAxes, int[] outAxes) : this(null, inAxes ?? throw new ArgumentNullException(nameof(inAxes)), outAxes ?? throw new ArgumentNullException(nameof(outAxes))) { }

    /// <summary>The same axis for every input and output.</summary>
    public static implicit operator VmapAxes(int axis) => new(axis, null, null);

    /// <summary>Canonical per-leaf axes for the given input and output ranks.</summary>
    /// <exception cref="ArgumentException">Wrong number of entries, or an axis out of range for its leaf.</exception>
    internal (int?[] In, int[] Out) Resolve(IReadOnlyList<int> inputRanks, IReadOnlyList<int> outputRanks)
    {
        var ins = _in ?? Enumerable.Repeat(_uniform, inputRanks.Count).ToArray();
        var outs = _out ?? Enumerable.Repeat(_uniform!.Value, outputRanks.Count).ToArray();
        if (ins.Length != inputRanks.Count) throw new ArgumentException($"vmap_axes: {ins.Length} input axes for {inputRanks.Count} inputs", "vmapAxes");
        if (outs.Length != outputRanks.Count) throw new ArgumentException($"vmap_axes: {outs.Length} output axes for {outputRanks.Count} outputs", "vmapAxes");
        static int Norm(int a, int r, string what)
        {
            if (a < -r || a >= r) throw new ArgumentOutOfRangeException("vmapAxes", $"vmap_axes: axis {a} is out of range for {what} of rank {r}");
            return a < 0 ? a + r : a;
        }
        return (ins.Select((a, i) => a is { } v ? Norm(v, inputRanks[i], $"input {i}") : (int?)null).ToArray(),
                outs.Select((a, j) => Norm(a, outputRanks[j], $"output {j}")).ToArray());
    }

    /// <summary>Text such as <c>0</c> or <c>in=(0, None) out=(0)</c>.</summary>
    public override string ToString() => _uniform is { } u ? u.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : $"in=({string.Join(", ", _in!.Select(a => a?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None"))}) out=({string.Join(", ", _out!)})";
}
