namespace NeuralTangents.Tensors;

/// <summary>Stacks of standard-basis tensors: the cotangents/tangents that build Jacobians row by row under vmap.</summary>
internal static class StandardBasis
{
    /// <summary>Basis vectors <paramref name="start"/> … <paramref name="start"/>+<paramref name="count"/>−1 of a tensor of
    /// <paramref name="shape"/>, stacked: <c>(count, shape…)</c>, entry r is one at flat index start + r.</summary>
    public static Tensor Of(Shape shape, DType dtype, int start, int count)
    {
        int m = shape.Size;
        var e = Tensor.Zeros(new Shape(new[] { count }.Concat(shape)), dtype);
        for (int r = 0; r < count; r++)
        {
            if (dtype == DType.Float32) ((float[])e.Storage)[r * m + start + r] = 1;
            else ((double[])e.Storage)[r * m + start + r] = 1;
        }
        return e;
    }
}
