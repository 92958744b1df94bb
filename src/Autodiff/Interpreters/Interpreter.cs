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
        using var tracking = BufferPool.Track();
        return tracking is null ? Run(graph, inputs, backend, null) : Run(graph, inputs, backend, new Storages(tracking));
    }

    private static Tensor[] Run(Graph graph, IReadOnlyList<Tensor> inputs, ComputeBackend backend, Storages? pooled)
    {
        var env = new Tensor?[graph.VarCount];
        for (int i = 0; i < inputs.Count; i++) env[graph.Inputs[i].Id] = inputs[i];
        var lastUse = LastUses(graph);
        var eqns = graph.Equations;
        for (int k = 0; k < eqns.Count; k++)
        {
            // With a buffer pool the output is usually rented, not allocated: counting it anyway made warm calls collect
            // (digits FCN: 0.3 -> 1.0 full collections per warm call); the pool's dropped arrays count as garbage already.
            MemoryPacer.Tick(pooled is null ? NewBytes(eqns[k]) : 0);
            Step(env, eqns[k], k, lastUse, backend, pooled);
            // After Step's frame is gone: no local (nor, in unoptimised first-call code, a stack temporary) still refers
            // to the operands it freed, so the pacer's collection takes them before the next equation allocates.
            // (Holding them made the digits FCN's JC without vmap peak at 1.4 GiB of heap for 0.8 GiB live.)
            MemoryPacer.Tick();
        }
        var outs = graph.Outputs.Select(o => Read(env, o)).ToArray();
        pooled?.Escape(outs);
        return outs;
    }

    /// <summary>Bytes an equation's output will allocate: none for the views the CPU kernels return.</summary>
    private static long NewBytes(Equation e)
    {
        if (e.Primitive is Primitives.TransposePrimitive or Primitives.BroadcastInDimPrimitive or Primitives.SlicePrimitive
            or Primitives.RevPrimitive or Primitives.ReshapePrimitive or Primitives.CopyPrimitive or Primitives.StopGradientPrimitive) return 0;
        var t = e.Output.Type;
        return (long)Math.Min(t.Shape.Elements * t.DType.SizeOf(), long.MaxValue / 4);
    }

    /// <summary>Equation <paramref name="k"/>: its output into <paramref name="env"/>, its operands freed after their last use.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Step(Tensor?[] env, Equation e, int k, int[] lastUse, ComputeBackend backend, Storages? pooled)
    {
        var args = new Tensor[e.Inputs.Count];
        for (int i = 0; i < args.Length; i++) args[i] = Read(env, e.Inputs[i]);
        var y = e.Primitive.Evaluate(args, backend);
        env[e.Output.Id] = y;
        pooled?.Defined(y);
        foreach (var a in e.Inputs)
            if (a is Var v && lastUse[v.Id] == k && env[v.Id] is { } dead)
            {
                env[v.Id] = null;
                pooled?.Dropped(dead);
            }
        if (lastUse[e.Output.Id] < 0) { env[e.Output.Id] = null; pooled?.Dropped(y); }   // never read
    }

    /// <summary>
    /// Reference counts per storage array of the live variables whose storage this evaluation rented (views and
    /// primitives returning an operand share storage). An array goes back to the pool when its count drops to zero;
    /// inputs, literals and anything not rented by this evaluation's equations are never counted, so never returned.
    /// </summary>
    private sealed class Storages(BufferPool.Tracking tracking)
    {
        private readonly Dictionary<Array, int> _refs = new(ReferenceEqualityComparer.Instance);

        public void Defined(Tensor y)
        {
            var s = y.Storage;
            // Arrays the equation rented besides its output's storage (operand copies) are dead: back to the pool.
            bool rented = tracking.ReturnScratch(s);
            if (_refs.TryGetValue(s, out int n)) _refs[s] = n + 1;
            else if (rented) _refs[s] = 1;
        }

        public void Dropped(Tensor t)
        {
            var s = t.Storage;
            if (!_refs.TryGetValue(s, out int n)) return;
            if (n > 1) { _refs[s] = n - 1; return; }
            _refs.Remove(s);
            tracking.Pool.Return(s);
        }

        /// <summary>Outputs outlive the evaluation: their owned storages go to the enclosing frame, never to the pool here.</summary>
        public void Escape(Tensor[] outs)
        {
            foreach (var s in outs.Select(o => o.Storage).Distinct(ReferenceEqualityComparer.Instance))
                if (_refs.Remove((Array)s!)) tracking.Escape((Array)s!);
        }
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
