using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Tensors.Ops;

namespace NeuralTangents.Implementations;

/// <summary>
/// Peak bytes of evaluating a Jacobian-chunk graph with the interpreter, counting what the CPU backend really
/// allocates. Each variable's layout (shape and strides) is followed through the graph: transposes, broadcasts,
/// slices, reversals, identities and reshapes of contiguous operands are views (no bytes; they keep their source alive
/// as long as they live), everything else a new row-major buffer held from its definition to its last use. Graph
/// outputs stay alive. During an equation its scratch is live too: the operand copies <c>dot_general</c> makes of a
/// layout it cannot read as a matrix (<see cref="DotGeneral.OperandCopyBytes"/>), a reduction's copy of an operand it
/// cannot reduce in place (<see cref="Reductions.ScratchBytes"/>), and the contiguous copies convolutions, element-wise
/// operations and type conversions make of strided operands.
/// (<see cref="GraphCost.PeakBytes"/> counts views as copies and no scratch. Without vmap the digits FCN's chunk graph
/// contracts and reduces its (basis, examples, 512) products over the middle axis: two operand-sized copies this
/// estimate missed, measured 1,037 MiB live with scratch for 795 MiB estimated.)
/// </summary>
internal static class JcGraphCost
{
    public static double PeakBytes(Graph g) => Walk(g, null);

    /// <summary>Per equation: (bytes live before it, its new buffer, its scratch), for probes and tests.</summary>
    internal static (double LiveBefore, double Output, double Scratch)[] Steps(Graph g)
    {
        var steps = new (double, double, double)[g.Equations.Count];
        Walk(g, steps);
        return steps;
    }

    private static double Bytes(TensorType t) => t.Shape.Elements * t.DType.SizeOf();

    private static double Walk(Graph g, (double, double, double)[]? steps)
    {
        var last = Interpreter.LastUses(g);
        var layout = Layouts(g, out var view);
        var root = new int[g.VarCount];
        for (int i = 0; i < root.Length; i++) root[i] = i;
        foreach (var e in g.Equations)
            if (view[e.Output.Id] && e.Inputs[0] is Var src) root[e.Output.Id] = root[src.Id];
        // A buffer lives until the last use of any view of it.
        var until = new int[g.VarCount];
        Array.Fill(until, -1);
        for (int v = 0; v < g.VarCount; v++) until[root[v]] = Math.Max(until[root[v]], last[v]);
        var inputs = new HashSet<int>(g.Inputs.Select(v => v.Id));
        var size = new double[g.VarCount];
        foreach (var e in g.Equations) size[e.Output.Id] = Bytes(e.Output.Type);
        double live = g.Inputs.Sum(v => Bytes(v.Type)), peak = live;
        for (int k = 0; k < g.Equations.Count; k++)
        {
            var e = g.Equations[k];
            int id = e.Output.Id;
            bool owns = root[id] == id;
            double scratch = Scratch(e, layout);
            double output = owns ? Bytes(e.Output.Type) : 0;
            if (steps is not null) steps[k] = (live, output, scratch);
            peak = Math.Max(peak, live + scratch + output);
            if (owns) live += output;
            if (owns && until[id] < 0) live -= output;
            foreach (var a in e.Inputs.OfType<Var>().Select(v => root[v.Id]).Distinct())
                if (until[a] == k && !inputs.Contains(a)) live -= size[a];
        }
        return peak;
    }

    /// <summary>Bytes an equation allocates besides its output, from its operands' layouts.</summary>
    private static double Scratch(Equation e, Tensor?[] layout)
    {
        var ops = e.Inputs.Select(a => a is Var v ? layout[v.Id] : null).ToArray();
        double Strided() => ops.Where(t => t is not null && !t.IsContiguous && !OpChecks.IsBroadcastScalar(t)).Distinct(ReferenceEqualityComparer.Instance)
            .Sum(t => (double)((Tensor)t!).Size * ((Tensor)t!).DType.SizeOf());
        return e.Primitive switch
        {
            DotGeneralPrimitive d when ops[0] is { } l && ops[1] is { } r => DotGeneral.OperandCopyBytes(l, r, d.Dims),
            ReduceSumPrimitive s when ops[0] is { } x => Reductions.ScratchBytes(x, s.Axes, max: false),
            ReduceMaxPrimitive m when ops[0] is { } x => Reductions.ScratchBytes(x, m.Axes, max: true),
            // Views (and reshapes, whose copy of a strided operand is their output): nothing besides.
            TransposePrimitive or BroadcastInDimPrimitive or SlicePrimitive or RevPrimitive or ReshapePrimitive
                or CopyPrimitive or StopGradientPrimitive => 0,
            // Element-wise operations read broadcasts in place; other strided operands, like those of convolutions,
            // type conversions and the rest, are made contiguous first (an upper bound where a kernel reads runs).
            _ => Strided() - ops.Where(t => t is not null && !t.IsContiguous && OpChecks.BroadcastLayout(t) is not null && IsElementwise(e.Primitive))
                .Distinct(ReferenceEqualityComparer.Instance).Sum(t => (double)((Tensor)t!).Size * ((Tensor)t!).DType.SizeOf()),
        };
    }

    private static bool IsElementwise(Primitive p) => p is BinaryPrimitive or SelectPrimitive or UnaryPrimitive or FusedElementwisePrimitive or IntegerPowPrimitive;

    /// <summary>
    /// Each variable's layout as the CPU interpreter produces it, as a tensor over empty storage (shape and strides
    /// only); <paramref name="view"/>: the equation's output shares its first operand's storage.
    /// </summary>
    private static Tensor?[] Layouts(Graph g, out bool[] view)
    {
        var layout = new Tensor?[g.VarCount];
        view = new bool[g.VarCount];
        foreach (var v in g.Inputs) layout[v.Id] = Empty(v.Type, v.Type.Shape.ContiguousStrides());
        foreach (var e in g.Equations)
        {
            var t = e.Output.Type;
            var x = e.Inputs.Count > 0 && e.Inputs[0] is Var src ? layout[src.Id] : null;
            Tensor? v = x is null ? null : e.Primitive switch
            {
                TransposePrimitive p => x.Transpose(p.Permutation),
                BroadcastInDimPrimitive b => x.BroadcastInDim(t.Shape, b.Dimensions),
                SlicePrimitive s => x.Slice(s.Start, s.Limit, s.Strides),
                RevPrimitive r => x.Rev(r.Axes),
                ReshapePrimitive when x.IsContiguous => Empty(t, t.Shape.ContiguousStrides()),
                CopyPrimitive or StopGradientPrimitive => x,
                ConvertElementTypePrimitive c when c.NewDType == x.DType => x,
                _ => null,
            };
            view[e.Output.Id] = v is not null;
            layout[e.Output.Id] = v ?? Empty(t, t.Shape.ContiguousStrides());
        }
        return layout;
    }

    private static Tensor Empty(TensorType t, int[] strides) =>
        new(t.DType == DType.Float32 ? Array.Empty<float>() : Array.Empty<double>(), t.Shape, strides, 0);

    /// <summary>
    /// The strides the CPU interpreter gives each output of <paramref name="g"/>: views keep their operand's storage
    /// (permuted, sliced, reversed strides; 0 on broadcast axes), every other equation a new row-major buffer.
    /// </summary>
    public static int[][] OutputStrides(Graph g)
    {
        var layout = Layouts(g, out _);
        return g.Outputs.Select(o => o is Var v ? layout[v.Id]!.Strides.ToArray() : o.Type.Shape.ContiguousStrides()).ToArray();
    }
}
