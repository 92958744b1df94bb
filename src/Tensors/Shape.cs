using System.Collections;

namespace NeuralTangents.Tensors;

/// <summary>
/// Immutable tensor shape (row-major dimension sizes). Prints as <c>(2, 3)</c>, a scalar as <c>()</c>,
/// a vector as <c>(5,)</c>, as NumPy does.
/// </summary>
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[]? _dims;

    /// <summary>Creates a shape; every size must be non-negative.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    public Shape(params int[] dims)
    {
        foreach (var d in dims)
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(dims), $"shape sizes must be non-negative, got {Format(dims)}");
        _dims = (int[])dims.Clone();
    }

    /// <summary>Creates a shape from a sequence.</summary>
    public Shape(IEnumerable<int> dims) : this(dims.ToArray()) { }

    /// <summary>The rank-0 shape <c>()</c>.</summary>
    public static Shape Scalar => new(Array.Empty<int>());

    /// <summary>Number of axes.</summary>
    public int Rank => _dims?.Length ?? 0;

    /// <summary>Number of axes (same as <see cref="Rank"/>).</summary>
    public int Count => Rank;

    /// <summary>Size of axis <paramref name="axis"/>; negative axes count from the end.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Axis outside <c>[-rank, rank)</c> (e.g. any axis of a scalar).</exception>
    public int this[int axis]
    {
        get
        {
            int a = axis < 0 ? axis + Rank : axis;
            if ((uint)a >= (uint)Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is out of range for shape {this} of rank {Rank}");
            return Dims[a];
        }
    }

    /// <summary>Number of elements (product of sizes; 1 for a scalar).</summary>
    /// <exception cref="TensorSizeException">More elements than one tensor can hold
    /// (<see cref="TensorSizeException.MaxElements"/>); check named tensors first with <see cref="TensorSizeException.Check(string, Shape, string, string)"/>.</exception>
    public int Size
    {
        get
        {
            long s = LongSize;
            return s <= TensorSizeException.MaxElements ? (int)s : throw new TensorSizeException("a tensor", Dims.Select(d => (long)d).ToArray());
        }
    }

    /// <summary>Number of elements in 64-bit arithmetic (saturating at <see cref="long.MaxValue"/>; never throws).</summary>
    public long LongSize
    {
        get
        {
            long n = 1;
            foreach (var d in Dims)
            {
                if (d == 0) return 0;
                n = n > long.MaxValue / d ? long.MaxValue : n * d;
            }
            return n;
        }
    }

    /// <summary>Number of elements as a double (no overflow; for cost estimates).</summary>
    internal double Elements => Dims.Aggregate(1.0, (a, d) => a * d);

    internal int[] Dims => _dims ?? Array.Empty<int>();

    /// <summary>A copy of the sizes.</summary>
    public int[] ToArray() => (int[])Dims.Clone();

    /// <summary>Row-major (C order) element strides.</summary>
    public int[] ContiguousStrides()
    {
        var s = new int[Rank];
        int acc = 1;
        for (int i = Rank - 1; i >= 0; i--) { s[i] = acc; acc *= Math.Max(Dims[i], 1); }
        return s;
    }

    /// <summary>Maps a possibly negative axis into <c>[0, rank)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Axis outside <c>[-rank, rank)</c>.</exception>
    public int NormalizeAxis(int axis, string paramName = "axis")
    {
        if (axis < -Rank || axis >= Rank)
            throw new ArgumentOutOfRangeException(paramName, $"axis {axis} is out of range for shape {this} of rank {Rank}");
        return axis < 0 ? axis + Rank : axis;
    }

    /// <summary>Shape with <paramref name="axes"/> removed.</summary>
    public Shape Remove(params int[] axes)
    {
        var self = this;
        var set = axes.Select(a => self.NormalizeAxis(a)).ToHashSet();
        return new Shape(Dims.Where((_, i) => !set.Contains(i)));
    }

    /// <summary>Concatenation of two shapes.</summary>
    public Shape Concat(Shape other) => new(Dims.Concat(other.Dims));

    /// <inheritdoc/>
    public bool Equals(Shape other) => Dims.AsSpan().SequenceEqual(other.Dims);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims) h.Add(d);
        return h.ToHashCode();
    }
    /// <summary>Equality of sizes.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    /// <summary>Inequality of sizes.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);
    /// <summary>Implicit conversion from sizes.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)Dims).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>NumPy-style text, e.g. <c>(2, 3)</c>.</summary>
    public override string ToString() => Format(Dims);

    internal static string Format(IReadOnlyList<int> dims) =>
        dims.Count == 1 ? $"({dims[0]},)" : "(" + string.Join(", ", dims) + ")";
}
