using System.Globalization;

namespace NeuralTangents.Stax;

/// <summary>
/// Combinators (<c>stax.serial</c>, <c>parallel</c>, <c>repeat</c>, <c>FanOut</c>, <c>FanInSum</c>, <c>FanInProd</c>,
/// <c>FanInConcat</c>). Parameter names follow Neural Tangents' params tree: a <see cref="Serial"/> names the
/// parameters of its layer i <c>"i.…"</c> and a <see cref="Parallel"/> those of its branch j <c>"j.…"</c>, nested in the
/// order of the tree, so <c>"3.1.0.W"</c> is <c>params[3][1][0][0]</c> (layer 3 of the top serial, branch 1 of that
/// parallel, layer 0 of that branch's serial, its W). <see cref="Repeat"/> adds no level: as in Neural Tangents, its
/// layer's parameters are stacked along a new leading axis of size n.
/// </summary>
public static partial class Stax
{
    private static string Idx(int i) => i.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Composes layers in order (<c>stax.serial</c>); parameters of layer i are named <c>"i.W"</c>, <c>"i.b"</c>, … (nested
    /// layers add levels: <c>"i.j.W"</c>). Lists of tensors flow between layers as in Neural Tangents.
    /// </summary>
    public static Layer Serial(params Layer[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Any(l => l is null)) throw new ArgumentNullException(nameof(layers), "Serial: a layer is null");
        var desc = string.Join(",", layers.Select(l => l.NestedDescription));
        return new Layer(desc,
            (rng, shapes, dtype, prefix, into) =>
            {
                for (int i = 0; i < layers.Length; i++)
                    shapes = layers[i].InitInto(rng, shapes, dtype, $"{prefix}{i}.", into);
                return shapes;
            },
            (p, xs) =>
            {
                for (int i = 0; i < layers.Length; i++) xs = layers[i].ApplyMany(p.Scope(Idx(i)), xs);
                return xs;
            },
            $"Serial({desc})");
    }

    /// <summary>
    /// Applies layer j to input j (<c>stax.parallel</c>): takes a list of as many tensors as layers (e.g. from
    /// <see cref="FanOut"/>) and returns the list of their outputs. Branch j's parameters are named <c>"j.…"</c>.
    /// </summary>
    /// <exception cref="ArgumentException">At init/apply: the number of inputs differs from the number of layers.</exception>
    public static Layer Parallel(params Layer[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0 || layers.Any(l => l is null)) throw new ArgumentException("Parallel: needs at least one layer and no null layers", nameof(layers));
        var desc = $"Parallel({string.Join(",", layers.Select(l => l.NestedDescription))})";
        void Check(int n, string what)
        {
            if (n != layers.Length)
                throw new ArgumentException($"{desc}: takes {layers.Length} input tensors (one per branch), got {n}; use FanOut({layers.Length}) before it", what);
        }
        return new Layer(desc,
            (rng, shapes, dtype, prefix, into) =>
            {
                Check(shapes.Length, "inputShape");
                return layers.SelectMany((l, j) => l.InitInto(rng, new[] { shapes[j] }, dtype, $"{prefix}{j}.", into)).ToArray();
            },
            (p, xs) =>
            {
                Check(xs.Length, "inputs");
                return layers.SelectMany((l, j) => l.ApplyMany(p.Scope(Idx(j)), new[] { xs[j] })).ToArray();
            });
    }

    /// <summary>
    /// <c>stax.repeat(layer, n)</c>: <paramref name="layer"/> applied <paramref name="n"/> times with n independent
    /// parameter draws, stored as Neural Tangents' <c>lax.scan</c> does: each parameter of the layer gets a leading axis
    /// of size n (e.g. <c>"W"</c> of shape <c>(n, in, out)</c>) and repetition i uses slice i.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> &lt; 1.</exception>
    /// <exception cref="ArgumentException">At init: the layer changes the shape of its input.</exception>
    public static Layer Repeat(Layer layer, int n)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"Repeat: n must be positive, got {n}");
        var desc = $"Repeat({layer.NestedDescription},{n})";
        return new Layer(desc,
            (rng, shapes, dtype, prefix, into) =>
            {
                var draws = new List<Params>();
                Shape[] outShapes = shapes;
                for (int i = 0; i < n; i++)
                {
                    var pi = new Params();
                    outShapes = layer.InitInto(rng, shapes, dtype, "", pi);
                    if (!outShapes.SequenceEqual(shapes))
                        throw new ArgumentException($"{desc}: the layer must keep its input shape [{string.Join(", ", shapes.Select(s => s.ToString()))}], " +
                            $"but returns [{string.Join(", ", outShapes.Select(s => s.ToString()))}]; use Serial with copies of the layer instead", "inputShape");
                    draws.Add(pi);
                }
                foreach (var name in draws[0].Keys)
                {
                    var parts = draws.Select(d => d[name]).ToArray();
                    var stacked = Structural.Concatenate(parts.Select(t => t.Reshape(new Shape(t.Shape.Prepend(1)))).ToArray(), 0);
                    into.Add(prefix + name, stacked);
                }
                return outShapes;
            },
            (p, xs) =>
            {
                for (int i = 0; i < n; i++)
                {
                    int rep = i;
                    var pi = p.MapScope(t =>
                    {
                        if (t.Rank == 0 || t.Shape[0] != n)
                            throw new ArgumentException($"{desc}: parameters need a leading axis of size {n} (one slice per repetition), got shape {t.Shape}");
                        var lo = new int[t.Rank]; lo[0] = rep;
                        var hi = t.Shape.ToArray(); hi[0] = rep + 1;
                        return Lax.Reshape(Lax.Slice(t, lo, hi), new Shape(t.Shape.Skip(1)));
                    });
                    xs = layer.ApplyMany(pi, xs);
                }
                return xs;
            });
    }

    /// <summary><c>stax.FanOut(num)</c>: one tensor → a list of <paramref name="num"/> references to it.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="num"/> &lt; 1.</exception>
    public static Layer FanOut(int num)
    {
        if (num < 1) throw new ArgumentOutOfRangeException(nameof(num), $"FanOut: num must be positive, got {num}");
        return Layer.Multi($"FanOut({num})", 1,
            shapes => Enumerable.Repeat(shapes[0], num).ToArray(),
            xs => Enumerable.Repeat(xs[0], num).ToArray());
    }

    /// <summary><c>stax.FanInSum()</c>: the element-wise sum of a list of equally shaped tensors.</summary>
    public static Layer FanInSum() => FanInElementwise("FanInSum", (a, b) => a + b);

    /// <summary><c>stax.FanInProd()</c>: the element-wise product of a list of equally shaped tensors.</summary>
    public static Layer FanInProd() => FanInElementwise("FanInProd", (a, b) => a * b);

    private static Layer FanInElementwise(string name, Func<Tracer, Tracer, Tracer> op)
    {
        Shape Check(Shape[] shapes, string what)
        {
            if (shapes.Length == 0) throw new ArgumentException($"{name}: needs at least one input tensor", what);
            if (shapes.Any(s => s != shapes[0]))
                throw new ArgumentException($"{name}: input tensors must have equal shapes, got [{string.Join(", ", shapes.Select(s => s.ToString()))}]", what);
            return shapes[0];
        }
        return Layer.Multi(name, null,
            shapes => new[] { Check(shapes, "inputShape") },
            xs =>
            {
                Check(xs.Select(x => x.Shape).ToArray(), "inputs");
                return new[] { xs.Skip(1).Aggregate(xs[0], op) };
            });
    }

    /// <summary>
    /// <c>stax.FanInConcat(axis)</c>: concatenates a list of tensors along <paramref name="axis"/> (default the last,
    /// channel, axis); the other axes must agree.
    /// </summary>
    public static Layer FanInConcat(int axis = -1)
    {
        string name = axis == -1 ? "FanInConcat" : $"FanInConcat({axis})";
        Shape Infer(Shape[] shapes, string what)
        {
            if (shapes.Length == 0) throw new ArgumentException($"{name}: needs at least one input tensor", what);
            int a = shapes[0].NormalizeAxis(axis, nameof(axis));
            foreach (var s in shapes)
                if (s.Rank != shapes[0].Rank || Enumerable.Range(0, s.Rank).Any(k => k != a && s[k] != shapes[0][k]))
                    throw new ArgumentException($"{name}: input shapes [{string.Join(", ", shapes.Select(x => x.ToString()))}] must agree on every axis but {a}", what);
            var dims = shapes[0].ToArray();
            dims[a] = shapes.Sum(s => s[a]);
            return new Shape(dims);
        }
        return Layer.Multi(name, null,
            shapes => new[] { Infer(shapes, "inputShape") },
            xs =>
            {
                Infer(xs.Select(x => x.Shape).ToArray(), "inputs");
                return new[] { xs.Length == 1 ? xs[0] : Lax.Concatenate(xs, axis) };
            });
    }
}
