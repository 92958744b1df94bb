using System.Collections.Concurrent;
using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Transforms;

namespace NeuralTangents.Implementations;

/// <summary>
/// A <see cref="MultiApplyFn"/> traced once per (parameter names and types, input types) into a graph whose
/// inputs are the parameter leaves in <see cref="Params"/> order followed by the inputs. Thread-safe caches,
/// per instance (no global state).
/// </summary>
internal sealed class TracedApply
{
    private readonly MultiApplyFn _f;
    private readonly ConcurrentDictionary<TypesKey, Graph> _cache = new();
    private readonly ConcurrentDictionary<(Graph, int), Graph> _single = new();
    private readonly ConcurrentDictionary<Graph, JacobianPlan> _plans = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<string, object> _memo = new(StringComparer.Ordinal);

    public TracedApply(MultiApplyFn f) => _f = f ?? throw new ArgumentNullException(nameof(f));

    public TracedApply(ApplyFn f) : this(Wrap(f ?? throw new ArgumentNullException(nameof(f)))) { }

    private static MultiApplyFn Wrap(ApplyFn f) => (p, xs) =>
    {
        if (xs.Length != 1) throw new ArgumentException($"this function takes one input, got {xs.Length}", "x");
        return new[] { f(p, xs[0]) };
    };

    public Graph GraphFor(Params p, IReadOnlyList<TensorType> xs)
    {
        var key = new TypesKey(p.Values.Select(TensorType.Of).Concat(xs).ToArray(), p.Keys.ToArray());
        return _cache.GetOrAdd(key, _ => Trace(p, xs));
    }

    private Graph Trace(Params p, IReadOnlyList<TensorType> xs)
    {
        var names = p.Keys.ToArray();
        var types = p.Values.Select(TensorType.Of).Concat(xs).ToArray();
        return Ad.Trace(ins =>
        {
            var map = new Dictionary<string, Tracer>(StringComparer.Ordinal);
            for (int i = 0; i < names.Length; i++) map[names[i]] = ins[i];
            var ys = _f(new ParamTracers(map), ins[names.Length..]);
            if (ys.Length == 0) throw new ArgumentException("the function returned no outputs", "f");
            return ys;
        }, types);
    }

    /// <summary>Output j alone (dead code removed), cached.</summary>
    public Graph OutputGraph(Graph g, int j) => g.Outputs.Count == 1 ? g
        : _single.GetOrAdd((g, j), k => DceTransform.Apply(new Graph(k.Item1.Inputs, k.Item1.Equations, new[] { k.Item1.Outputs[k.Item2] }, k.Item1.VarCount)));

    /// <summary>The reverse-mode Jacobian plan (w.r.t. every parameter) of a single-output graph, cached.</summary>
    public JacobianPlan PlanFor(Graph g, int parameterCount) =>
        _plans.GetOrAdd(g, gr => Ad.JacobianPlan(gr, Masks.First(gr.Inputs.Count, parameterCount)));

    /// <summary>
    /// A value derived from this function's graphs (an implementation's plan or staged graph), built once per
    /// <paramref name="key"/>: the key must name everything the value depends on besides this function. Kernel functions
    /// are called many times at the same shapes, and planning costs milliseconds per call (NtkVectorProducts on the
    /// seed FCN: 5–9 ms, twice per call, of a 45 ms call).
    /// </summary>
    public T Memo<T>(string key, Func<T> make) where T : class
    {
        if (_memo.TryGetValue(key, out var v)) return (T)v;
        // Bounded: a function called at ever new shapes must not keep every plan it ever made.
        if (_memo.Count >= MemoCapacity) _memo.Clear();
        return (T)_memo.GetOrAdd(key, _ => make());
    }

    /// <summary>Plans kept per function: a few per distinct call shape (tiles, last tile, x2 given or not) is typical.</summary>
    private const int MemoCapacity = 256;

    public TensorType[] OutputTypes(Params p, IReadOnlyList<TensorType> xs) => GraphFor(p, xs).OutputTypes;

    public Tensor[] Evaluate(Params p, IReadOnlyList<Tensor> xs) => Evaluate(p, xs, ComputeBackend.Current);

    /// <summary>f(p, xs) with its <c>dot_general</c>s and convolutions on <paramref name="backend"/>.</summary>
    public Tensor[] Evaluate(Params p, IReadOnlyList<Tensor> xs, ComputeBackend backend) =>
        Interpreter.Evaluate(GraphFor(p, xs.Select(TensorType.Of).ToArray()), Inputs(p, xs), backend);

    /// <summary>Single input, first output.</summary>
    public Tensor Evaluate(Params p, Tensor x) => Evaluate(p, new[] { x })[0];

    /// <summary>Inputs of the traced graph: parameter leaves then the inputs.</summary>
    public static Tensor[] Inputs(Params p, IReadOnlyList<Tensor> xs) => p.Values.Concat(xs).ToArray();
}
