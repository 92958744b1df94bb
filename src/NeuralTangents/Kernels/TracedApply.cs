using System.Collections.Concurrent;
using NeuralTangents.Autodiff.Interpreters;

namespace NeuralTangents.Kernels;

/// <summary>
/// An <see cref="ApplyFn"/> traced once per (parameter names and types, input type) into a graph whose inputs
/// are the parameter leaves in <see cref="Params"/> order followed by x. Thread-safe cache, per instance.
/// </summary>
internal sealed class TracedApply
{
    private readonly ApplyFn _f;
    private readonly ConcurrentDictionary<string, Graph> _cache = new();
    private readonly ConcurrentDictionary<Graph, JacobianPlan> _plans = new(ReferenceEqualityComparer.Instance);

    public TracedApply(ApplyFn f) => _f = f ?? throw new ArgumentNullException(nameof(f));

    public Graph GraphFor(Params p, TensorType x)
    {
        var key = string.Join(";", p.Select(kv => kv.Key + ":" + TensorType.Of(kv.Value))) + "|" + x;
        return _cache.GetOrAdd(key, _ => Trace(p, x));
    }

    private Graph Trace(Params p, TensorType x)
    {
        var names = p.Keys.ToArray();
        var types = p.Values.Select(TensorType.Of).Append(x).ToArray();
        return Ad.Trace(ins =>
        {
            var map = new Dictionary<string, Tracer>(StringComparer.Ordinal);
            for (int i = 0; i < names.Length; i++) map[names[i]] = ins[i];
            var y = _f(new ParamTracers(map), ins[^1]);
            return new[] { y };
        }, types);
    }

    /// <summary>The reverse-mode Jacobian plan (w.r.t. every parameter) of a graph from <see cref="GraphFor"/>, cached.</summary>
    public JacobianPlan PlanFor(Graph g) =>
        _plans.GetOrAdd(g, gr => Ad.JacobianPlan(gr, Enumerable.Range(0, gr.Inputs.Count).Select(i => i < gr.Inputs.Count - 1).ToArray()));

    public TensorType OutputType(Params p, TensorType x) => GraphFor(p, x).Outputs[0].Type;

    public Tensor Evaluate(Params p, Tensor x) => Interpreter.Evaluate(GraphFor(p, TensorType.Of(x)), p.Values.Append(x).ToArray())[0];

    /// <summary>Inputs of the traced graph: parameter leaves then x.</summary>
    public static Tensor[] Inputs(Params p, Tensor x) => p.Values.Append(x).ToArray();
}
