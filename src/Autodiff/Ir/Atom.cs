namespace NeuralTangents.Autodiff.Ir;

/// <summary>An operand of an equation: a <see cref="Var"/> or a <see cref="Literal"/>.</summary>
public abstract class Atom
{
    /// <summary>Shape and dtype.</summary>
    public TensorType Type { get; }

    private protected Atom(TensorType type) => Type = type;
}

/// <summary>A graph variable, defined once (SSA) by a graph input or an equation.</summary>
public sealed class Var : Atom
{
    /// <summary>Index unique within its graph (dense, starting at 0), used by interpreters as a slot number.</summary>
    public int Id { get; }

    internal Var(int id, TensorType type) : base(type) => Id = id;

    /// <summary>Name used when printing, e.g. <c>v12</c>.</summary>
    public override string ToString() => "v" + Id;
}

/// <summary>A constant operand embedded in the graph.</summary>
public sealed class Literal : Atom
{
    /// <summary>The constant value.</summary>
    public Tensor Value { get; }

    internal Literal(Tensor value) : base(TensorType.Of(value)) => Value = value;

    /// <summary>The value for scalars, else the type.</summary>
    public override string ToString() =>
        Value.Size == 1 && Value.Rank == 0 ? Value.ToScalar().ToString("G6", System.Globalization.CultureInfo.InvariantCulture) : "const:" + Type;
}
