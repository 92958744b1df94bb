namespace NeuralTangents.Stax;

/// <summary>
/// One entry of a NumPy index for <see cref="Stax.Index"/> (Neural Tangents' <c>stax.Slice[…]</c>): an integer (removes
/// the axis), a range <c>start:stop:step</c> (Python semantics, negative bounds count from the end, step &gt; 0), all of
/// an axis (<c>:</c>), or <c>...</c> (as many <c>:</c> as needed).
/// </summary>
public readonly record struct Slice
{
    /// <summary>The integer index, when this entry is one.</summary>
    public int? At { get; private init; }
    /// <summary>Range start (null: from the beginning).</summary>
    public int? Start { get; private init; }
    /// <summary>Range stop, exclusive (null: to the end).</summary>
    public int? Stop { get; private init; }
    /// <summary>Range step (positive).</summary>
    public int Step { get; private init; }
    /// <summary>Whether this entry is <c>...</c>.</summary>
    public bool IsEllipsis { get; private init; }

    /// <summary><c>start:stop:step</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> &lt; 1.</exception>
    public Slice(int? start, int? stop, int step = 1)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), $"Slice: step must be positive, got {step}");
        Start = start; Stop = stop; Step = step;
    }

    /// <summary>An integer index (negative counts from the end); the axis is removed.</summary>
    public static Slice Int(int index) => new() { At = index, Step = 1 };

    /// <summary><c>:</c>, the whole axis.</summary>
    public static Slice All => new(null, null);

    /// <summary><c>...</c>.</summary>
    public static Slice Ellipsis => new() { IsEllipsis = true, Step = 1 };

    /// <summary>Python spelling: <c>3</c>, <c>1:-1:2</c>, <c>:</c>, <c>...</c>.</summary>
    public override string ToString() => IsEllipsis ? "..." : At is { } i ? i.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : $"{Start}:{Stop}{(Step != 1 ? ":" + Step : "")}";
}
