using FsCheck;
using FsCheck.Fluent;

namespace NeuralTangents.Testing;

/// <summary>Bounds of the generated networks (small by default, so a property runs in milliseconds per case).</summary>
/// <param name="MaxHidden">Most hidden (weight + nonlinearity) blocks.</param>
/// <param name="MaxWidth">Widest hidden layer or channel count.</param>
/// <param name="MaxBatch">Largest batch of x1 and x2.</param>
/// <param name="MaxOutputs">Most logits.</param>
/// <param name="Convolutional">Also draw convolutional networks (N, H, W, C) → Conv… → Flatten/GlobalAvgPool → Dense.</param>
/// <param name="Axes">Also draw trace/diagonal/vmap axes other than Neural Tangents' defaults ([-1], [], none).</param>
/// <param name="WithX2">Also draw a separate x2 (else x2 = null).</param>
public sealed record NetworkGenOptions(int MaxHidden = 2, int MaxWidth = 6, int MaxBatch = 4, int MaxOutputs = 3,
    bool Convolutional = true, bool Axes = true, bool WithX2 = true);

/// <summary>
/// FsCheck generators and shrinkers of <see cref="NetworkCase"/>s. Shrinking removes hidden blocks, narrows layers,
/// drops biases, replaces nonlinearities by Relu, shrinks the batch and input sizes, drops x2 and returns the axes to
/// Neural Tangents' defaults — each step keeping the network valid — so a failing property reports the smallest
/// network that still fails.
/// </summary>
public static class NetworkGen
{
    private static readonly LayerKind[] Nonlinearities = [LayerKind.Relu, LayerKind.Erf, LayerKind.Sin];

    /// <summary>Random networks within <paramref name="options"/> (defaults: <see cref="NetworkGenOptions"/>()).</summary>
    public static Gen<NetworkCase> Networks(NetworkGenOptions? options = null)
    {
        var o = options ?? new NetworkGenOptions();
        return from seed in Gen.Choose(0, int.MaxValue - 1)
               select Draw(new Random(seed), o);
    }

    /// <summary><see cref="Networks"/> with <see cref="Shrink"/>: use with <c>Prop.ForAll</c>.</summary>
    public static Arbitrary<NetworkCase> Arbitrary(NetworkGenOptions? options = null) => Arb.From(Networks(options), Shrink);

    private static NetworkCase Draw(Random rng, NetworkGenOptions o)
    {
        bool conv = o.Convolutional && rng.Next(3) == 0;
        var layers = new List<LayerSpec>();
        double? Bias() => rng.Next(2) == 0 ? null : Math.Round(0.05 + rng.NextDouble(), 2);
        double WStd() => Math.Round(0.5 + rng.NextDouble(), 2);
        LayerSpec Act() => new(Nonlinearities[rng.Next(Nonlinearities.Length)]);
        int hidden = rng.Next(conv ? 1 : 0, o.MaxHidden + 1);
        Shape input;
        if (conv)
        {
            int size = rng.Next(2, 5);
            input = new Shape(rng.Next(1, o.MaxBatch + 1), size, size, rng.Next(1, 3));
            for (int i = 0; i < hidden; i++)
            {
                bool same = rng.Next(2) == 0;
                int filter = same ? rng.Next(1, 4) : rng.Next(1, Math.Max(2, size));   // VALID filters fit the current size
                if (!same) size -= filter - 1;
                layers.Add(new LayerSpec(LayerKind.Conv, rng.Next(1, o.MaxWidth + 1), WStd(), Bias(), filter, same));
                layers.Add(Act());
            }
            layers.Add(new LayerSpec(rng.Next(2) == 0 ? LayerKind.Flatten : LayerKind.GlobalAvgPool));
        }
        else
        {
            input = new Shape(rng.Next(1, o.MaxBatch + 1), rng.Next(1, 5));
            for (int i = 0; i < hidden; i++)
            {
                layers.Add(new LayerSpec(LayerKind.Dense, rng.Next(1, o.MaxWidth + 1), WStd(), Bias()));
                layers.Add(Act());
            }
        }
        layers.Add(new LayerSpec(LayerKind.Dense, rng.Next(1, o.MaxOutputs + 1), WStd(), Bias()));
        int? batch2 = o.WithX2 && rng.Next(2) == 0 ? rng.Next(1, o.MaxBatch + 1) : null;
        int axes = o.Axes ? rng.Next(3) : 0;
        int[] trace = axes == 0 ? [-1] : [];
        int[] diag = axes == 2 ? [-1] : [];
        int? vmap = o.Axes && rng.Next(2) == 0 ? null : 0;
        var c = new NetworkCase(layers, input, batch2, rng.Next(1000), rng.Next(1000), trace, diag, vmap);
        return c.IsValid() ? c : Draw(rng, o);
    }

    /// <summary>Smaller valid variants of <paramref name="c"/>, most aggressive first.</summary>
    public static IEnumerable<NetworkCase> Shrink(NetworkCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return Candidates(c).Where(x => x.IsValid());
    }

    private static IEnumerable<NetworkCase> Candidates(NetworkCase c)
    {
        var layers = c.Layers;
        // Remove a hidden block (a weight layer with the nonlinearity after it).
        for (int i = 0; i + 1 < layers.Count - 1; i++)
            if (layers[i].HasWeights && !layers[i + 1].HasWeights && layers[i + 1].Kind is not (LayerKind.Flatten or LayerKind.GlobalAvgPool))
                yield return c with { Layers = layers.Take(i).Concat(layers.Skip(i + 2)).ToArray() };
        // Simpler layers: width 1 or halved, no bias, unit W_std, filter 1, Relu for other nonlinearities.
        for (int i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            IEnumerable<LayerSpec> simpler = l.Kind switch
            {
                LayerKind.Dense or LayerKind.Conv => new[]
                {
                    l.Width > 1 ? l with { Width = 1 } : null,
                    l.Width > 2 ? l with { Width = l.Width / 2 } : null,
                    l.BStd is not null ? l with { BStd = null } : null,
                    l.WStd != 1 ? l with { WStd = 1 } : null,
                    l.Filter > 1 ? l with { Filter = 1 } : null,
                }.OfType<LayerSpec>(),
                LayerKind.Erf or LayerKind.Sin => [new LayerSpec(LayerKind.Relu)],
                LayerKind.GlobalAvgPool => [new LayerSpec(LayerKind.Flatten)],
                _ => [],
            };
            foreach (var s in simpler) yield return c with { Layers = layers.Select((x, j) => j == i ? s : x).ToArray() };
        }
        // Smaller inputs: batch 1 or halved, smaller features / spatial size / channels; x2 dropped or smaller.
        var dims = c.InputShape.ToArray();
        for (int a = 0; a < dims.Length; a++)
            foreach (var smaller in new[] { 1, dims[a] / 2, dims[a] - 1 }.Where(v => v >= 1 && v < dims[a]).Distinct())
            {
                var d = (int[])dims.Clone();
                d[a] = smaller;
                if (dims.Length == 4 && a is 1 or 2) { d[1] = smaller; d[2] = smaller; }
                yield return c with { InputShape = new Shape(d) };
            }
        if (c.Batch2 is { } b)
        {
            yield return c with { Batch2 = null };
            if (b > 1) yield return c with { Batch2 = 1 };
        }
        // Neural Tangents' default axes.
        if (c.TraceAxes.Length != 1 || c.DiagonalAxes.Length != 0) yield return c with { TraceAxes = [-1], DiagonalAxes = [] };
        if (c.VmapAxes is null) yield return c with { VmapAxes = 0 };
        if (c.ParamSeed != 0) yield return c with { ParamSeed = 0 };
        if (c.InputSeed != 0) yield return c with { InputSeed = 0 };
    }
}
