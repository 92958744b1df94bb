using NeuralTangents.Autodiff.Ir;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>
/// Structure of <c>∂y/∂w</c> for one operand w of a linear primitive (Neural Tangents' <c>Structure</c>, paper §4,
/// spec §6.2), restricted to constant block-diagonal ("trace") pairs: along pair (Y, W),
/// <c>∂y[…u…]/∂w[…v…] = δ_uv·C</c> with C independent of u, so both axes can be trimmed to size 1 and the y axis becomes
/// one summed index shared by the x1 and x2 sides. <paramref name="SliceSameShapeConstants"/>: element-wise rules
/// whose constant operands have w's shape must trim those operands on the same axes.
/// </summary>
internal sealed record StructureRule((int Y, int W)[] Pairs, bool SliceSameShapeConstants = false)
{
    public static readonly StructureRule None = new(Array.Empty<(int, int)>());

    /// <summary>All axes paired with themselves (identity-like element-wise rules).</summary>
    public static StructureRule Identity(int rank, bool slice = true) => new(Enumerable.Range(0, rank).Select(a => (a, a)).ToArray(), slice);

    /// <summary>True when <paramref name="a"/> is a literal that is a broadcast scalar (all strides zero).</summary>
    public static bool IsScalarLiteral(Atom a) => a is Literal l && (l.Value.Size <= 1 || l.Value.Strides.All(s => s == 0));
}
