using System.Text;

namespace NeuralTangents.Autodiff.Ir;

/// <summary>
/// A typed SSA program (the counterpart of a jaxpr): inputs, equations in evaluation order, outputs.
/// Immutable once built; transforms return new graphs.
/// </summary>
public sealed class Graph
{
    /// <summary>Input variables.</summary>
    public IReadOnlyList<Var> Inputs { get; }

    /// <summary>Equations in a valid evaluation order.</summary>
    public IReadOnlyList<Equation> Equations { get; }

    /// <summary>Outputs (variables or literals).</summary>
    public IReadOnlyList<Atom> Outputs { get; }

    /// <summary>One more than the largest variable id (slots an interpreter needs).</summary>
    public int VarCount { get; }

    internal Graph(IReadOnlyList<Var> inputs, IReadOnlyList<Equation> equations, IReadOnlyList<Atom> outputs, int varCount)
    {
        Inputs = inputs;
        Equations = equations;
        Outputs = outputs;
        VarCount = varCount;
    }

    /// <summary>Input types.</summary>
    public TensorType[] InputTypes => Inputs.Select(v => v.Type).ToArray();

    /// <summary>Output types.</summary>
    public TensorType[] OutputTypes => Outputs.Select(v => v.Type).ToArray();

    /// <summary>Jaxpr-like listing: <c>{ lambda v0:f32[2] . let ... in (v5) }</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("{ lambda ").Append(string.Join(" ", Inputs.Select(v => $"{v}:{v.Type}"))).AppendLine(" . let");
        foreach (var e in Equations) sb.Append("    ").AppendLine(e.ToString());
        sb.Append("  in (").Append(string.Join(", ", Outputs)).Append(") }");
        return sb.ToString();
    }
}
