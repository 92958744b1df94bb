using NeuralTangents.Autodiff.Ir;

namespace NeuralTangents.Autodiff.Tracing;

/// <summary>
/// A symbolic tensor inside a function being traced (JAX's <em>tracer</em>). Functions given to the library are
/// written against tracers with <see cref="Lax"/> and <see cref="Np"/> operations and the arithmetic operators
/// (which broadcast like NumPy). A tracer belongs to exactly one <see cref="GraphBuilder"/>.
/// </summary>
public sealed class Tracer
{
    internal GraphBuilder Builder { get; }
    internal Atom Atom { get; }

    internal Tracer(GraphBuilder builder, Atom atom)
    {
        Builder = builder;
        Atom = atom;
    }

    /// <summary>Shape and dtype.</summary>
    public TensorType Type => Atom.Type;
    /// <summary>Shape.</summary>
    public Shape Shape => Atom.Type.Shape;
    /// <summary>Element type.</summary>
    public DType DType => Atom.Type.DType;
    /// <summary>Number of axes.</summary>
    public int Rank => Atom.Type.Shape.Rank;

    /// <summary>The constant value when this tracer is a literal, else null.</summary>
    internal Tensor? ConstantValue => (Atom as Literal)?.Value;

    /// <summary>A scalar literal of this tracer's dtype.</summary>
    public Tracer Const(double value) => Builder.Scalar(value, DType);

    /// <summary>NumPy-broadcasting addition.</summary>
    public static Tracer operator +(Tracer a, Tracer b) => Np.Add(a, b);
    /// <summary>NumPy-broadcasting subtraction.</summary>
    public static Tracer operator -(Tracer a, Tracer b) => Np.Subtract(a, b);
    /// <summary>NumPy-broadcasting multiplication.</summary>
    public static Tracer operator *(Tracer a, Tracer b) => Np.Multiply(a, b);
    /// <summary>NumPy-broadcasting division.</summary>
    public static Tracer operator /(Tracer a, Tracer b) => Np.Divide(a, b);
    /// <summary>Adds a scalar.</summary>
    public static Tracer operator +(Tracer a, double b) => Np.Add(a, a.Const(b));
    /// <summary>Adds a scalar.</summary>
    public static Tracer operator +(double a, Tracer b) => Np.Add(b.Const(a), b);
    /// <summary>Subtracts a scalar.</summary>
    public static Tracer operator -(Tracer a, double b) => Np.Subtract(a, a.Const(b));
    /// <summary>Subtracts from a scalar.</summary>
    public static Tracer operator -(double a, Tracer b) => Np.Subtract(b.Const(a), b);
    /// <summary>Multiplies by a scalar.</summary>
    public static Tracer operator *(Tracer a, double b) => Np.Multiply(a, a.Const(b));
    /// <summary>Multiplies by a scalar.</summary>
    public static Tracer operator *(double a, Tracer b) => Np.Multiply(b.Const(a), b);
    /// <summary>Divides by a scalar.</summary>
    public static Tracer operator /(Tracer a, double b) => Np.Divide(a, a.Const(b));
    /// <summary>Divides a scalar.</summary>
    public static Tracer operator /(double a, Tracer b) => Np.Divide(b.Const(a), b);
    /// <summary>Negation.</summary>
    public static Tracer operator -(Tracer a) => Lax.Neg(a);

    /// <summary>The atom and type, e.g. <c>v3:f32[2,3]</c>.</summary>
    public override string ToString() => $"{Atom}:{Type}";
}
