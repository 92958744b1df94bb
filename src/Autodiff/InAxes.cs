namespace NeuralTangents.Autodiff;

/// <summary>vmap <c>in_axes</c> lists (<see cref="Ad.Vmap(Ir.Graph, int?[], int[], int)"/>): null = not batched.</summary>
internal static class InAxes
{
    /// <summary><paramref name="n"/> unbatched inputs.</summary>
    public static int?[] None(int n) => new int?[n];

    /// <summary><paramref name="n"/> inputs all batched at <paramref name="axis"/>.</summary>
    public static int?[] All(int n, int axis = 0) => Enumerable.Repeat((int?)axis, n).ToArray();

    /// <summary>Input <paramref name="index"/> of <paramref name="n"/> batched at <paramref name="axis"/>, the others not.</summary>
    public static int?[] Only(int n, int index, int axis = 0)
    {
        var a = new int?[n];
        a[index] = axis;
        return a;
    }

    /// <summary>Segments (parameters, inputs, cotangents…) joined into one list.</summary>
    public static int?[] Concat(params int?[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary><c>out_axes</c>: <paramref name="n"/> outputs with the batch axis at <paramref name="axis"/>.</summary>
    public static int[] Out(int n, int axis = 0) => Enumerable.Repeat(axis, n).ToArray();
}
