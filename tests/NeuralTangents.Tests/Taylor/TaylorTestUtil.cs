using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Implementations;

namespace NeuralTangents.Tests.Taylor;

internal static class TaylorTestUtil
{
    public static Tensor Eval(ApplyFn f, Params p, Tensor x) => new TracedApply(f).Evaluate(p, x);

    public static Tensor[] Eval(MultiApplyFn f, Params p, params Tensor[] xs)
    {
        var names = p.Keys.ToArray();
        var inputs = p.Values.Concat(xs).ToArray();
        var g = Ad.Trace(ins =>
        {
            var map = new Dictionary<string, Tracer>();
            for (int i = 0; i < names.Length; i++) map[names[i]] = ins[i];
            return f(new ParamTracers(map), ins[names.Length..]);
        }, inputs.Select(TensorType.Of).ToArray());
        return Ad.Evaluate(g, inputs);
    }

    public static Params P(params (string Name, Tensor Value)[] items)
    {
        var p = new Params();
        foreach (var (n, v) in items) p.Add(n, v);
        return p;
    }

    public static Tensor Normal(Random rng, params int[] shape) => Tensor.RandomNormal(rng, new Shape(shape));

    /// <summary>θ₀ + scale·N(0, 1) leaf-wise.</summary>
    public static Params Perturb(Params p0, Random rng, double scale) =>
        p0.Map((_, t) => Tensor.FromArray(t.ToDoubleArray().Select(v => v + scale * NextNormal(rng)).ToArray(), t.Shape));

    public static double NextNormal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(a.Shape, b.Shape);
        var x = a.ToDoubleArray(); var y = b.ToDoubleArray();
        return x.Zip(y, (u, v) => Math.Abs(u - v)).DefaultIfEmpty(0).Max();
    }
}
