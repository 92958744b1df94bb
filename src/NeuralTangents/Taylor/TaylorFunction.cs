using System.Collections.Concurrent;
using NeuralTangents.Autodiff.Interpreters;

namespace NeuralTangents.Taylor;

/// <summary>
/// The traceable function <c>θ, x ↦ Σ_{k≤d} D^k f(θ₀, x)[(θ−θ₀)^k]/k!</c>. At trace time it traces f for θ₀'s types and
/// the inputs' types, builds the expansion graph (<see cref="TaylorGraph.Expansion"/>, cached per input types) and
/// inlines it into the caller's trace with θ₀ as constants and Δ = θ − θ₀ from the caller's parameter tracers,
/// so the result composes with every transform (kernels, vmap, JVP, …).
/// </summary>
internal sealed class TaylorFunction
{
    private readonly MultiApplyFn _f;
    private readonly string[] _names;
    private readonly Tensor[] _theta0;
    private readonly int _degree;
    private readonly ConcurrentDictionary<TypesKey, Graph> _cache = new();

    public TaylorFunction(MultiApplyFn f, Params params0, int degree)
    {
        _f = f;
        _names = params0.Keys.ToArray();
        _theta0 = params0.Values.ToArray();
        _degree = degree;
    }

    public Tracer[] Apply(ParamTracers parameters, Tracer[] inputs)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(inputs);
        var theta = new Tracer[_names.Length];
        for (int i = 0; i < _names.Length; i++)
        {
            theta[i] = parameters[_names[i]];
            var want = TensorType.Of(_theta0[i]);
            if (theta[i].Type != want)
                throw new ArgumentException($"parameter '{_names[i]}' is {theta[i].Type} but the expansion point has {want}", nameof(parameters));
        }
        var b = inputs.Length > 0 ? inputs[0].Builder : theta.Length > 0 ? theta[0].Builder
            : throw new ArgumentException("a Taylor expansion needs at least one input or parameter to trace into", nameof(inputs));
        var types = inputs.Select(x => x.Type).ToArray();
        var graph = _cache.GetOrAdd(new TypesKey(types), _ => Build(types));
        var theta0 = _theta0.Select(b.Constant).ToArray();
        var delta = theta.Select((t, i) => Lax.Sub(t, theta0[i]));
        return Interpreter.Inline(b, graph, theta0.Concat(inputs).Concat(delta).ToArray());
    }

    /// <summary>The expansion graph for the given input types: inputs (θ, x, Δ), outputs the expanded leaves.</summary>
    internal Graph Build(TensorType[] inputTypes, bool cse = true) =>
        TaylorGraph.Expansion(TraceF(inputTypes), _names.Length, _degree, cse);

    /// <summary>f traced with inputs (θ leaves in <see cref="Params"/> order, x leaves).</summary>
    internal Graph TraceF(TensorType[] inputTypes)
    {
        int p = _names.Length;
        return Ad.Trace(ins =>
        {
            var map = new Dictionary<string, Tracer>(StringComparer.Ordinal);
            for (int i = 0; i < p; i++) map[_names[i]] = ins[i];
            return _f(new ParamTracers(map), ins[p..]) ?? throw new InvalidOperationException("the function returned null outputs");
        }, _theta0.Select(TensorType.Of).Concat(inputTypes).ToArray());
    }
}
