namespace NeuralTangents.Autodiff.Ir;

/// <summary>One primitive application <c>Output = Primitive(Inputs)</c>.</summary>
public sealed class Equation
{
    /// <summary>The primitive, carrying its static parameters.</summary>
    public Primitives.Primitive Primitive { get; }

    /// <summary>Operands.</summary>
    public IReadOnlyList<Atom> Inputs { get; }

    /// <summary>The variable this equation defines.</summary>
    public Var Output { get; }

    internal Equation(Primitives.Primitive primitive, Atom[] inputs, Var output)
    {
        Primitive = primitive;
        Inputs = inputs;
        Output = output;
    }

    /// <summary>Text such as <c>v3:f32[2,3] = add v1 v2</c>.</summary>
    public override string ToString()
    {
        var ps = Primitive.ParamsText();
        return $"{Output}:{Output.Type} = {Primitive.Name}{(ps.Length > 0 ? "[" + ps + "]" : "")} {string.Join(" ", Inputs)}";
    }
}
