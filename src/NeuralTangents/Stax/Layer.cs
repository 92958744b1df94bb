namespace NeuralTangents.Stax;

/// <summary>
/// A Stax layer: the pair <c>(init_fn, apply_fn)</c> of Neural Tangents (the infinite-width <c>kernel_fn</c> is out
/// of scope). Build layers with <see cref="Stax"/>. A layer maps a list of tensors to a list of tensors: most layers
/// take and return one tensor, <see cref="Stax.FanOut"/> and <see cref="Stax.Parallel"/> return several, and the
/// <c>FanIn*</c> layers merge several into one (Neural Tangents' lists of arrays).
/// </summary>
public sealed class Layer
{
    /// <summary>Init: (rng, input shapes, dtype, parameter name prefix, parameters to add to) → output shapes.</summary>
    internal delegate Shape[] InitFn(Random rng, Shape[] inputShapes, DType dtype, string prefix, Params into);

    private readonly InitFn _init;
    private readonly MultiApplyFn _apply;

    /// <summary>Short description in Stax syntax, e.g. <c>Dense(10, W_std=1.5)</c>.</summary>
    public string Description { get; }

    /// <summary>The description when nested inside another layer (<c>Serial(…)</c> for a serial composition, whose
    /// top-level <see cref="Description"/> is the bare comma-separated list).</summary>
    internal string NestedDescription { get; }

    internal Layer(string description, InitFn init, MultiApplyFn apply, string? nestedDescription = null)
    {
        Description = description;
        NestedDescription = nestedDescription ?? description;
        _init = init;
        _apply = apply;
    }

    /// <summary>A one-tensor-in, one-tensor-out layer.</summary>
    internal static Layer Single(string description, Func<Random, Shape, DType, string, Params, Shape> init, ApplyFn apply) =>
        new(description,
            (rng, shapes, dtype, prefix, into) => new[] { init(rng, One(description, shapes, "inputShape"), dtype, prefix, into) },
            (p, xs) => new[] { apply(p, One(description, xs, "inputs")) });

    /// <summary>A parameterless layer on lists of tensors; <paramref name="arity"/>: the number of inputs it takes (null: any).</summary>
    internal static Layer Multi(string description, int? arity, Func<Shape[], Shape[]> shapes, Func<Tracer[], Tracer[]> apply)
    {
        T[] Check<T>(T[] items, string what) => arity is not { } n || items.Length == n ? items
            : throw new ArgumentException($"{description} takes {n} input tensor{(n == 1 ? "" : "s")}, got {items.Length}", what);
        return new(description, (rng, s, dtype, prefix, into) => shapes(Check(s, "inputShape")), (p, xs) => apply(Check(xs, "inputs")));
    }

    private static T One<T>(string description, T[] items, string what) => items.Length == 1 ? items[0]
        : throw new ArgumentException($"{description} takes one input tensor, got {items.Length}; use FanInSum, FanInConcat or FanInProd to merge, or Parallel to apply layers to each", what);

    /// <summary>
    /// Draws parameters (N(0, 1) from a generator seeded with <paramref name="seed"/>) for inputs of
    /// <paramref name="inputShape"/> (batch first; the batch size is not used) and returns the output shape.
    /// Mirrors <c>init_fn(key, input_shape)</c>; the draws differ from JAX's threefry streams.
    /// </summary>
    /// <exception cref="ArgumentException">The input shape does not fit the layer (e.g. wrong rank for Conv), or the
    /// layer returns several tensors (use <see cref="InitMany"/>).</exception>
    public (Shape OutputShape, Params Params) Init(int seed, Shape inputShape, DType dtype = DType.Float64)
    {
        var (outs, p) = InitMany(seed, new[] { inputShape }, dtype);
        if (outs.Length != 1)
            throw new ArgumentException($"{Description} returns {outs.Length} tensors; end the network with a FanIn layer (FanInSum, FanInProd or FanInConcat), or call InitMany/ApplyMany from the library", nameof(inputShape));
        return (outs[0], p);
    }

    /// <summary>
    /// <see cref="Init"/> for a layer taking and returning lists of tensors (Neural Tangents' list inputs, e.g. a
    /// <see cref="Stax.Parallel"/>): one shape per input, one per output.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit the layer.</exception>
    public (Shape[] OutputShapes, Params Params) InitMany(int seed, IReadOnlyList<Shape> inputShapes, DType dtype = DType.Float64)
    {
        ArgumentNullException.ThrowIfNull(inputShapes);
        var p = new Params();
        var outShapes = InitInto(new Random(seed), inputShapes.ToArray(), dtype, "", p);
        return (outShapes, p);
    }

    internal Shape[] InitInto(Random rng, Shape[] inputShapes, DType dtype, string prefix, Params into) =>
        _init(rng, inputShapes, dtype, prefix, into);

    /// <summary>The apply function <c>f(params, x)</c> of a one-tensor-in, one-tensor-out network.</summary>
    /// <remarks>Throws <see cref="ArgumentException"/> at trace time when the network returns several tensors.</remarks>
    public ApplyFn Apply => (p, x) =>
    {
        var ys = _apply(p, new[] { x });
        return ys.Length == 1 ? ys[0]
            : throw new ArgumentException($"{Description} returns {ys.Length} tensors; end the network with a FanIn layer (FanInSum, FanInProd or FanInConcat), or call ApplyMany from the library", "inputs");
    };

    /// <summary>The apply function on lists of tensors (<c>apply_fn(params, [x1, x2, …])</c>).</summary>
    public MultiApplyFn ApplyMany => _apply;

    /// <summary>The Stax description.</summary>
    public override string ToString() => Description;
}
