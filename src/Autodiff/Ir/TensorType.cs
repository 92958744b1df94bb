namespace NeuralTangents.Autodiff.Ir;

/// <summary>The abstract value of a graph variable: shape and dtype (JAX's <c>ShapedArray</c>).</summary>
/// <param name="Shape">Row-major sizes.</param>
/// <param name="DType">Element type.</param>
public sealed record TensorType(Shape Shape, DType DType)
{
    /// <summary>The type of a concrete tensor.</summary>
    public static TensorType Of(Tensor t) => new(t.Shape, t.DType);

    /// <summary>Rank of the shape.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Compact text such as <c>f32[2,3]</c>.</summary>
    public override string ToString() => (DType == DType.Float32 ? "f32" : "f64") + "[" + string.Join(",", Shape) + "]";
}
