namespace NeuralTangents.Stax;

/// <summary>
/// A Stax layer: the pair <c>(init_fn, apply_fn)</c> of Neural Tangents (the infinite-width <c>kernel_fn</c> is out
/// of scope). Build layers with <see cref="Stax"/>.
/// </summary>
public sealed class Layer
{
    private readonly Func<Random, Shape, DType, string, Params, Shape> _init;
    private readonly ApplyFn _apply;

    /// <summary>Short description in Stax syntax, e.g. <c>Dense(10, W_std=1.5)</c>.</summary>
    public string Description { get; }

    internal Layer(string description, Func<Random, Shape, DType, string, Params, Shape> init, ApplyFn apply)
    {
        Description = description;
        _init = init;
        _apply = apply;
    }

    /// <summary>
    /// Draws parameters (N(0, 1) from a generator seeded with <paramref name="seed"/>) for inputs of
    /// <paramref name="inputShape"/> (batch first; the batch size is not used) and returns the output shape.
    /// Mirrors <c>init_fn(key, input_shape)</c>; the draws differ from JAX's threefry streams.
    /// </summary>
    /// <exception cref="ArgumentException">The input shape does not fit the layer (e.g. wrong rank for Conv).</exception>
    public (Shape OutputShape, Params Params) Init(int seed, Shape inputShape, DType dtype = DType.Float64)
    {
        var p = new Params();
        var outShape = InitInto(new Random(seed), inputShape, dtype, "", p);
        return (outShape, p);
    }

    internal Shape InitInto(Random rng, Shape inputShape, DType dtype, string prefix, Params into) =>
        _init(rng, inputShape, dtype, prefix, into);

    /// <summary>The apply function <c>f(params, x)</c> (NTK parameterization).</summary>
    public ApplyFn Apply => _apply;

    /// <summary>The Stax description.</summary>
    public override string ToString() => Description;
}
