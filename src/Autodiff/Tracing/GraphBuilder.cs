using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;

namespace NeuralTangents.Autodiff.Tracing;

/// <summary>
/// The emitter that tracing and every transform write equations into. One instance per graph being built; it is
/// not shared between threads, and nothing about tracing is static, so two threads can trace at once.
/// </summary>
public sealed class GraphBuilder
{
    private readonly List<Var> _inputs = new();
    private readonly List<Equation> _equations = new();
    private int _nextId;

    /// <summary>Declares a new graph input of the given type.</summary>
    public Tracer NewInput(TensorType type)
    {
        var v = new Var(_nextId++, type);
        _inputs.Add(v);
        return new Tracer(this, v);
    }

    /// <summary>A constant (embedded as a literal).</summary>
    public Tracer Constant(Tensor value) => new(this, new Literal(value));

    /// <summary>A scalar constant of the given dtype.</summary>
    public Tracer Scalar(double value, DType dtype) => Constant(Tensor.Scalar(value, dtype));

    /// <summary>Zeros of the given type (a broadcast scalar literal; no memory of that size).</summary>
    public Tracer Zeros(TensorType type) =>
        Constant(Tensor.Scalar(0, type.DType).BroadcastInDim(type.Shape, Array.Empty<int>()));

    internal Tracer Wrap(Atom atom) => new(this, atom);

    /// <summary>The equation emitted last (null before any): graph rewriters read back what an emission produced.</summary>
    internal Equation? LastEquation => _equations.Count == 0 ? null : _equations[^1];

    /// <summary>
    /// Appends <c>primitive(inputs)</c>. The primitive's type rule validates the operands here, so shape errors
    /// surface at trace time. Equations whose operands are all literals are folded into a literal.
    /// </summary>
    /// <exception cref="ArgumentException">Operands invalid for the primitive, or from another builder.</exception>
    public Tracer Emit(Primitive primitive, params Tracer[] inputs)
    {
        var types = new TensorType[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!ReferenceEquals(inputs[i].Builder, this))
                throw new ArgumentException($"{primitive.Name}: operand {i} belongs to another trace (mixing values of two traced functions)", nameof(inputs));
            types[i] = inputs[i].Type;
        }
        TensorType outType;
        try
        {
            outType = primitive.InferType(types);
            _ = outType.Shape.Size; // every traced value must fit one tensor: refuse here, before any work
        }
        catch (TensorSizeException e) when (e.TensorName == "a tensor")
        {
            throw new TensorSizeException($"the result of {primitive.Name} on {string.Join(", ", types.Select(t => t.Shape.ToString()))}", e.Dims);
        }
        if (inputs.All(t => t.Atom is Literal) && primitive.FoldConstants)
        {
            var value = primitive.Evaluate(inputs.Select(t => ((Literal)t.Atom).Value).ToArray());
            Debug.Assert(TensorType.Of(value) == outType, $"{primitive.Name}: evaluated {TensorType.Of(value)} but inferred {outType}");
            return Constant(value);
        }
        var v = new Var(_nextId++, outType);
        _equations.Add(new Equation(primitive, inputs.Select(t => t.Atom).ToArray(), v));
        return new Tracer(this, v);
    }

    /// <summary>Finishes the graph with the given outputs (inputs are those declared, in order).</summary>
    public Graph Build(IEnumerable<Tracer> outputs)
    {
        var outs = outputs.Select(o =>
        {
            if (!ReferenceEquals(o.Builder, this)) throw new ArgumentException("an output belongs to another trace", nameof(outputs));
            return o.Atom;
        }).ToArray();
        return new Graph(_inputs.ToArray(), _equations.ToArray(), outs, _nextId);
    }
}
