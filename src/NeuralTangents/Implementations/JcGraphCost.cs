using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Primitives;

namespace NeuralTangents.Implementations;

/// <summary>
/// Peak bytes of evaluating a Jacobian-chunk graph with the interpreter, counting what the CPU backend really
/// allocates: transposes and broadcasts are strided views (no bytes; they keep their source alive as long as they
/// live), everything else a new buffer held from its definition to its last use. Graph outputs stay alive.
/// (<see cref="GraphCost.PeakBytes"/> counts views as copies, which for a Jacobian whose leaf gradients end in a
/// transpose doubles the estimate.)
/// </summary>
internal static class JcGraphCost
{
    public static double PeakBytes(Graph g)
    {
        static double Bytes(TensorType t) => t.Shape.Elements * t.DType.SizeOf();
        static bool IsView(Equation e) => e.Primitive is TransposePrimitive or BroadcastInDimPrimitive;
        var last = Interpreter.LastUses(g);
        var root = new int[g.VarCount];
        for (int i = 0; i < root.Length; i++) root[i] = i;
        foreach (var e in g.Equations)
            if (IsView(e) && e.Inputs[0] is Var src) root[e.Output.Id] = root[src.Id];
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
            // Convolutions, contractions and reshapes make their strided view operands contiguous for the duration of
            // the equation. (The seed CNN's JC, x (20,32,32,3) float32: estimate 340 → 359 MiB with this, measured peak
            // 530 MiB; with vmap none 1,251 → 1,743 MiB, measured 2,374 MiB: the rest of the gap is not explained yet.)
            double transient = e.Primitive is ConvPrimitive or ConvAdjointPrimitive or DotGeneralPrimitive or ReshapePrimitive
                ? e.Inputs.OfType<Var>().Where(v => root[v.Id] != v.Id).Distinct().Sum(v => Bytes(v.Type)) : 0;
            peak = Math.Max(peak, live + transient + (owns ? Bytes(e.Output.Type) : 0));
            if (owns) { live += Bytes(e.Output.Type); peak = Math.Max(peak, live); }
            if (owns && until[id] < 0) live -= Bytes(e.Output.Type);
            foreach (var a in e.Inputs.OfType<Var>().Select(v => root[v.Id]).Distinct())
                if (until[a] == k && !inputs.Contains(a)) live -= size[a];
        }
        return peak;
    }

    /// <summary>
    /// The strides the CPU interpreter gives each output of <paramref name="g"/>: transposes and broadcasts are views of
    /// their operand (permuted strides; 0 on broadcast axes), every other equation a new row-major buffer.
    /// </summary>
    public static int[][] OutputStrides(Graph g)
    {
        var strides = new int[g.VarCount][];
        foreach (var v in g.Inputs) strides[v.Id] = v.Type.Shape.ContiguousStrides();
        foreach (var e in g.Equations)
        {
            var shape = e.Output.Type.Shape;
            strides[e.Output.Id] = e.Primitive switch
            {
                TransposePrimitive t when e.Inputs[0] is Var src => t.Permutation.Select(a => strides[src.Id][a]).ToArray(),
                BroadcastInDimPrimitive b when e.Inputs[0] is Var src => Broadcast(b, src, strides[src.Id], shape),
                _ => shape.ContiguousStrides(),
            };
        }
        return g.Outputs.Select(o => o is Var v ? strides[v.Id] : o.Type.Shape.ContiguousStrides()).ToArray();
    }

    private static int[] Broadcast(BroadcastInDimPrimitive b, Var src, int[] srcStrides, Shape shape)
    {
        var st = new int[shape.Rank];
        for (int j = 0; j < b.Dimensions.Length; j++)
            st[b.Dimensions[j]] = src.Type.Shape[j] == shape[b.Dimensions[j]] ? srcStrides[j] : 0;
        return st;
    }
}
