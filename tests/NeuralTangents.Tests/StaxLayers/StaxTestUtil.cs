using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Stax;

namespace NeuralTangents.Tests.StaxLayers;

internal static class StaxTestUtil
{
    /// <summary>Evaluates a layer's apply function on concrete inputs (float64).</summary>
    public static Tensor[] Run(Layer layer, Params p, params Tensor[] xs)
    {
        var names = p.Keys.ToArray();
        var types = names.Select(n => TensorType.Of(p[n])).Concat(xs.Select(TensorType.Of)).ToArray();
        var g = Ad.Trace(ins =>
        {
            var dict = names.Select((n, i) => (n, ins[i])).ToDictionary(t => t.n, t => t.Item2);
            return layer.ApplyMany(new ParamTracers(dict), ins[names.Length..]);
        }, types);
        return Ad.Evaluate(g, names.Select(n => p[n]).Concat(xs).ToArray());
    }

    public static Tensor Run1(Layer layer, Params p, Tensor x) => Run(layer, p, x).Single();

    public static Tensor Random(int seed, params int[] shape) => Tensor.RandomNormal(new Random(seed), new Shape(shape));
}
