using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Interpreters;

/// <summary>Evaluates graphs on concrete tensors, freeing each intermediate after its last use.</summary>
public static class Interpreter
{
    /// <summary>Runs <paramref name="graph"/> on <paramref name="inputs"/> with the compute backend in effect
    /// (<see cref="ComputeBackend.Current"/>, read once here).</summary>
    /// <exception cref="ArgumentException">The number, shapes or dtypes of the inputs differ from the graph's.</exception>
    public static Tensor[] Evaluate(Graph graph, IReadOnlyList<Tensor> inputs) => Evaluate(graph, inputs, ComputeBackend.Current);

    /// <summary>Runs <paramref name="graph"/> on <paramref name="inputs"/>, its <c>dot_general</c>s and convolutions on
    /// <paramref name="backend"/>.</summary>
    /// <exception cref="ArgumentException">The number, shapes or dtypes of the inputs differ from the graph's.</exception>
    public static Tensor[] Evaluate(Graph graph, IReadOnlyList<Tensor> inputs, ComputeBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        CheckInputs(graph, inputs);
        var env = new Tensor?[graph.VarCount];
        for (int i = 0; i < inputs.Count; i++) env[graph.Inputs[i].Id] = inputs[i];
        var lastUse = LastUses(graph);
        var eqns = graph.Equations;
        var args = new List<Tensor>(4);
        for (int k = 0; k < eqns.Count; k++)
        {
            var e = eqns[k];
            args.Clear();
            foreach (var a in e.Inputs) args.Add(Read(env, a));
            env[e.Output.Id] = e.Primitive.Evaluate(args.ToArray(), backend);
            foreach (var a in e.Inputs)
                if (a is Var v && lastUse[v.Id] == k) env[v.Id] = null;
            MemoryPacer.Tick();
        }
        return graph.Outputs.Select(o => Read(env, o)).ToArray();
    }

    /// <summary>Re-emits <paramref name="graph"/> into another trace with the given inputs (inlining).</summary>
    public static Tracer[] Inline(GraphBuilder b, Graph graph, IReadOnlyList<Tracer> inputs)
    {
        var env = new Tracer?[graph.VarCount];
        for (int i = 0; i < inputs.Count; i++) env[graph.Inputs[i].Id] = inputs[i];
        Tracer R(Atom a) => a is Literal l ? b.Constant(l.Value) : env[((Var)a).Id]!;
        foreach (var e in graph.Equations)
            env[e.Output.Id] = b.Emit(e.Primitive, e.Inputs.Select(R).ToArray());
        return graph.Outputs.Select(R).ToArray();
    }

    internal static void CheckInputs(Graph graph, IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count != graph.Inputs.Count)
            throw new ArgumentException($"graph expects {graph.Inputs.Count} inputs, got {inputs.Count}", nameof(inputs));
        for (int i = 0; i < inputs.Count; i++)
        {
            var want = graph.Inputs[i].Type;
            if (inputs[i].Shape != want.Shape || inputs[i].DType != want.DType)
                throw new ArgumentException($"input {i}: expected {want}, got {TensorType.Of(inputs[i])}", nameof(inputs));
        }
    }

    private static Tensor Read(Tensor?[] env, Atom a) =>
        a is Literal l ? l.Value : env[((Var)a).Id] ?? throw new InvalidOperationException($"variable {a} read after free or before definition");

    /// <summary>Index of each variable's last reading equation (-1: never read; int.MaxValue: a graph output).</summary>
    internal static int[] LastUses(Graph g)
    {
        var last = new int[g.VarCount];
        Array.Fill(last, -1);
        for (int k = 0; k < g.Equations.Count; k++)
            foreach (var a in g.Equations[k].Inputs)
                if (a is Var v) last[v.Id] = k;
        foreach (var o in g.Outputs)
            if (o is Var v) last[v.Id] = int.MaxValue;
        return last;
    }
}
