using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Transforms;

namespace NeuralTangents.Implementations;

/// <summary>
/// How <see cref="JacobianContraction"/> cuts the Jacobian so that only one piece is held at a time:
/// <c>K = Σ_chunks J_c·J_cᵀ</c> over chunks of parameter leaves (several small leaves together, a large one alone) and,
/// when one leaf is still too large, of output rows along one trace axis (rows of different trace indices never meet
/// in the kernel, so their products simply add up). Each chunk's Jacobian is built for all examples of a side by one
/// graph (the VJP of the leaves' gradients, vmapped over standard-basis cotangents and, with vmap axes, over
/// examples), in parts along the rows/examples only when that graph's intermediates would not fit. Each leaf keeps
/// its own shape and layout (no flattening or concatenation copies), and the contraction reads them as strided views.
/// The plan is built from types only, so the estimate is the plan the computation follows.
/// </summary>
internal sealed class JacobianChunkPlan
{
    /// <summary>Target bytes of one chunk's Jacobians: large enough for GEMM-rate contractions (depth ≥ 10⁵), small
    /// enough that first touching fresh pages stays cheap (≈ 2.7 ms per MB on the development VM).</summary>
    internal const double ChunkTargetBytes = 512.0 * (1 << 20);

    /// <summary>More chunks than this and the plan is refused: each chunk re-runs the network's backward pass, so
    /// such a contraction would run for hours or days (e.g. <c>Dense(2000000)</c> sliced into 2·10⁶ rows) where
    /// StructuredDerivatives or NtkVectorProducts need a fraction of the work.</summary>
    internal const int MaxChunks = 65_536;

    /// <summary>One chunk: leaves (indices into the parameters) and a slice [T0, T0+Tc) of the trace axis (all of it
    /// when there is none).</summary>
    internal sealed record Chunk(int[] Leaves, int T0, int Tc);

    /// <summary>One side (x1 or x2): its traced graph, batching and sizes.</summary>
    internal sealed class Side
    {
        public required Graph Graph { get; init; }          // single output; one example's with vmap axes
        public required Tensor[] Xs { get; init; }
        public required Batching? Batching { get; init; }
        public required int OutAxis { get; init; }           // the example axis in Graph's output (-1 without vmap)
        public required Shape Out { get; init; }             // Graph's output shape
        public required string Name { get; init; }
        /// <summary>Examples (with vmap axes) or 1.</summary>
        public int Examples => Batching?.Count ?? 1;
    }

    public Side S1 { get; }
    public Side S2 { get; }
    public bool Same { get; }
    /// <summary>The trace axis that rows are sliced along (-1: none).</summary>
    public int TraceAxis { get; }
    public IReadOnlyList<Chunk> Chunks { get; }
    /// <summary>Rows (no vmap) or examples (vmap) per part, per chunk and side.</summary>
    public IReadOnlyList<(int Part1, int Part2)> Parts { get; }
    public double PeakBytes { get; }
    public double Flops { get; }
    public DType DType { get; }

    private readonly Params _p;

    private JacobianChunkPlan(Params p, Side s1, Side s2, bool same, int traceAxis, List<Chunk> chunks, List<(int, int)> parts,
        double peak, double flops, DType dtype)
    {
        _p = p; S1 = s1; S2 = s2; Same = same; TraceAxis = traceAxis; Chunks = chunks; Parts = parts; PeakBytes = peak; Flops = flops; DType = dtype;
    }

    /// <summary>Bytes of the dot_general accumulator (the kernel before its final layout).</summary>
    internal static double AccumulatorBytes(KernelRequest r) =>
        r.Axes.KernelShape(r.Out1.Shape, r.Out2.Shape).Elements * r.Out1.DType.SizeOf();

    public static JacobianChunkPlan For(KernelRequest r)
    {
        var p = r.Parameters;
        var s1 = MakeSide(r, r.X1, r.Batching1, "x1");
        var s2 = r.SameInputs ? s1 : MakeSide(r, r.X2, r.Batching2, "x2");
        var dtype = r.Out1.DType;
        double z = dtype.SizeOf();
        // Bytes JC may hold for Jacobians and graph evaluation: the budget less the accumulator (the final layout copy
        // is the kernel itself, counted by the caller).
        double acc = AccumulatorBytes(r);
        double avail = Math.Max(0, r.Budget - acc);
        double target = Math.Min(avail, ChunkTargetBytes);

        // The slicing axis: the largest trace axis that is not the example axis.
        int ta = -1;
        foreach (var t in r.Axes.Trace)
            if (t != s1.OutAxis && (ta < 0 || s1.Out[t] > s1.Out[ta])) ta = t;
        int tSize = ta >= 0 ? s1.Out[ta] : 1;

        var sizes = p.Values.Select(v => (long)v.Size).ToArray();
        var leaves = Enumerable.Range(0, sizes.Length).Where(i => sizes[i] > 0).ToArray();
        // Rows of one side's chunk Jacobian per trace index (all examples), and its bytes per parameter.
        double RowsPerT(Side s) => (double)s.Examples * s.Out.Size / tSize;
        double BytesPerParamAndT = (RowsPerT(s1) + (r.SameInputs ? 0 : RowsPerT(s2))) * z;
        double Bytes(IEnumerable<int> group, int tc) => BytesPerParamAndT * tc * group.Sum(i => (double)sizes[i]);
        // One leaf tensor of a chunk must fit one array.
        bool Holdable(int leaf, int tc) => Math.Max(RowsPerT(s1), RowsPerT(s2)) * tc * sizes[leaf] <= TensorSizeException.MaxElements;

        var chunks = new List<Chunk>();
        var group = new List<int>();
        void Flush() { if (group.Count > 0) chunks.Add(new Chunk(group.ToArray(), 0, tSize)); group.Clear(); }
        foreach (var l in leaves)
        {
            if (Bytes(new[] { l }, tSize) > target || !Holdable(l, tSize))
            {
                Flush();
                int tc = ta < 0 ? tSize : (int)Math.Clamp(Math.Floor(target / Bytes(new[] { l }, 1)), 1, tSize);
                while (tc > 1 && !Holdable(l, tc)) tc = Math.Max(1, tc / 2);
                if (!Holdable(l, tc))
                {
                    var side = RowsPerT(s1) >= RowsPerT(s2) ? s1 : s2;
                    var rows = (long)Math.Round(RowsPerT(side) * tc);
                    TensorSizeException.Check($"the Jacobian of f({side.Name}) for parameter '{p.Keys.ElementAt(l)}' ({rows} output rows × {sizes[l]} parameters)",
                        new[] { rows, sizes[l] }, side.Name,
                        ta < 0 ? "JacobianContraction holds one leaf's Jacobian for every output row (no trace axis to split); StructuredDerivatives or NtkVectorProducts need far less"
                               : "StructuredDerivatives or NtkVectorProducts need far less");
                }
                if (chunks.Count + (tSize + (double)tc - 1) / tc > MaxChunks) RefuseTooManyChunks(r, sizes, target);
                for (int t0 = 0; t0 < tSize; t0 += tc) chunks.Add(new Chunk(new[] { l }, t0, Math.Min(tc, tSize - t0)));
                continue;
            }
            if (group.Count > 0 && Bytes(group.Append(l), tSize) > target) Flush();
            group.Add(l);
        }
        Flush();
        // Largest first: later, smaller chunks then fit into the pages the first one freed (the heap does not grow).
        chunks = chunks.OrderByDescending(c => c.Tc * c.Leaves.Sum(i => (double)sizes[i])).ToList();

        // Parts and the peak: a side's chunk Jacobian (all examples) plus its graph's evaluation, the other side's
        // Jacobian held meanwhile.
        double peak = 0, flops = 0;
        var parts = new List<(int, int)>();
        // Slices of one leaf differ only in where they start: their parts, peak and FLOPs are computed once.
        var memo = new Dictionary<(ValueArray<int>, int), ((int, int) Parts, double Peak, double Flops)>();
        foreach (var c in chunks)
        {
            var key = (ValueArray.Of(c.Leaves), c.Tc);
            if (memo.TryGetValue(key, out var known))
            {
                parts.Add(known.Parts); peak = Math.Max(peak, known.Peak); flops += known.Flops;
                continue;
            }
            double j1 = SideBytes(s1, c, sizes, tSize, z), j2 = r.SameInputs ? 0 : SideBytes(s2, c, sizes, tSize, z);
            var (part1, peak1, fl1) = ChooseParts(p, s1, c, ta, avail - j2, j1);
            double chunkPeak = peak1, chunkFlops = fl1;
            int part2 = part1;
            if (!r.SameInputs)
            {
                var (pp2, peak2, fl2) = ChooseParts(p, s2, c, ta, avail - j1, j2);
                part2 = pp2;
                // Side 1's Jacobian is held while side 2's is built.
                chunkPeak = Math.Max(peak1, j1 + peak2);
                chunkFlops += fl2;
            }
            // The contraction holds both sides' Jacobians and, leaf by leaf, the operand copies DotGeneral makes of a
            // layout it cannot read as a matrix (seed CNN: none since it splits the Dense(10) leaf; counted where made).
            chunkPeak = Math.Max(chunkPeak, j1 + j2 + ContractionCopyBytes(r, p, s1, s2, c, ta));
            parts.Add((part1, part2));
            peak = Math.Max(peak, chunkPeak);
            double depth = c.Leaves.Sum(i => (double)sizes[i]) * (r.Axes.TraceSize(r.Out1.Shape) / tSize) * c.Tc;
            double outs = r.Axes.KernelShape(r.Out1.Shape, r.Out2.Shape).Elements;
            double chunkTotal = chunkFlops + 2 * outs * depth * (r.SameInputs ? SymmetricFraction(r) : 1);
            flops += chunkTotal;
            memo[key] = ((part1, part2), chunkPeak, chunkTotal);
        }
        return new JacobianChunkPlan(p, s1, s2, r.SameInputs, ta, chunks, parts, peak + acc, flops, dtype);
    }

    /// <summary>Refuses a plan of more than <see cref="MaxChunks"/> chunks, naming the whole Jacobian's size (what makes
    /// it impractical) and the number of chunks it would take.</summary>
    private static void RefuseTooManyChunks(KernelRequest r, long[] sizes, double target)
    {
        long parameters = sizes.Sum();
        var dims = r.Out1.Shape.Dims.Select(d => (long)d).Append(parameters).ToArray();
        double bytes = (double)dims.Aggregate(1.0, (a, d) => a * d) * r.Out1.DType.SizeOf();
        string hint = $"JacobianContraction would contract it in more than {MaxChunks:N0} chunks of ≤ {MemoryBudget.Format(target)} " +
                      $"({MemoryBudget.Format(bytes)} in all); StructuredDerivatives or NtkVectorProducts need far less";
        throw new TensorSizeException($"the Jacobian of f(x1) (outputs × {parameters} parameters)", dims, "x1", hint);
    }

    /// <summary>Share of the multiply-adds the upper-triangular row-block scheme performs (DotGeneral.Multiply).</summary>
    private static double SymmetricFraction(KernelRequest r)
    {
        var ax = r.Axes;
        double m = Enumerable.Range(0, ax.Rank).Where(a => !ax.Trace.Contains(a) && !ax.Diagonal.Contains(a)).Aggregate(1.0, (acc, a) => acc * r.Out1.Shape[a]);
        int nb = (int)Math.Clamp(m / 128, 1, 8);
        return (nb + 1) / (2.0 * nb);
    }

    private static double SideBytes(Side s, Chunk c, long[] sizes, int tSize, double z) =>
        (double)s.Examples * s.Out.Size / tSize * c.Tc * c.Leaves.Sum(i => (double)sizes[i]) * z;

    private static Side MakeSide(KernelRequest r, Tensor[] xs, Batching? b, string name)
    {
        var f = r.F;
        var g = f.OutputGraph(f.GraphFor(r.Parameters, b?.ExampleTypes(xs) ?? xs.Select(TensorType.Of).ToArray()), r.Output);
        var shape = g.Outputs[0].Type.Shape;
        int outAxis = -1;
        if (b is not null)
        {
            outAxis = b.Out[r.Output];
            if (outAxis < 0) outAxis += shape.Rank;
            if (shape[outAxis] != 1)
                throw new ArgumentException($"vmap_axes: output axis {outAxis} of f on one example has size {shape[outAxis]}, expected 1 (output shape {shape})", "vmapAxes");
        }
        return new Side { Graph = g, Xs = xs, Batching = b, OutAxis = outAxis, Out = shape, Name = name };
    }

    /// <summary>Rows (no vmap) or examples (vmap) per evaluation so that the evaluation fits <paramref name="avail"/>;
    /// the peak (the assembled Jacobian plus one part's evaluation, or the single evaluation) and FLOPs.</summary>
    private static (int Part, double Peak, double Flops) ChooseParts(Params p, Side s, Chunk c, int ta, double avail, double jBytes)
    {
        int count = s.Batching is null ? BoxSize(s, ta, c) : s.Examples;
        var whole = Evaluation(p, s, c, ta, count);
        double wholePeak = JcGraphCost.PeakBytes(whole);
        if (wholePeak <= avail || count == 1)
            return (count, wholePeak, GraphCost.Flops(whole));
        // Linear in the part size: the fixed inputs plus a per-row share; the assembled Jacobian is held besides.
        double p1 = JcGraphCost.PeakBytes(Evaluation(p, s, c, ta, 1)), p2 = JcGraphCost.PeakBytes(Evaluation(p, s, c, ta, 2));
        double per = Math.Max(1, p2 - p1);
        int part = (int)Math.Clamp(Math.Floor((avail - jBytes - (p1 - per)) / per), 1, count - 1);
        var g = Evaluation(p, s, c, ta, part);
        while (part > 1 && jBytes + JcGraphCost.PeakBytes(g) > avail) { part = Math.Max(1, part * 3 / 4); g = Evaluation(p, s, c, ta, part); }
        int n = (count + part - 1) / part;
        return (part, jBytes + JcGraphCost.PeakBytes(g), GraphCost.Flops(g) * n);
    }

    /// <summary>The largest operand copy DotGeneral.Multiply makes contracting one leaf of the chunk: the Jacobians laid
    /// out as <see cref="Jacobians"/> returns them (strides from the evaluation graph, over empty storage), asked.</summary>
    private static double ContractionCopyBytes(KernelRequest r, Params p, Side s1, Side s2, Chunk c, int ta)
    {
        var a = Layouts(p, s1, c, ta);
        var b = r.SameInputs ? a : Layouts(p, s2, c, ta);
        double most = 0;
        for (int l = 0; l < a.Length; l++)
            most = Math.Max(most, DotGeneral.OperandCopyBytes(a[l], b[l], r.Axes.ContractionDims(a[l].Rank - r.Axes.Rank)));
        return most;
    }

    private static Tensor[] Layouts(Params p, Side s, Chunk c, int ta)
    {
        var box = Box(s, ta, c);
        int count = s.Batching is null ? box.Size : s.Examples;
        var g = Evaluation(p, s, c, ta, count);
        var strides = JcGraphCost.OutputStrides(g);
        return g.Outputs.Select((o, k) =>
        {
            Array empty = o.Type.DType == DType.Float32 ? Array.Empty<float>() : Array.Empty<double>();
            return ToOutputLayout(new Tensor(empty, o.Type.Shape, strides[k], 0), s, box);
        }).ToArray();
    }

    /// <summary>Output shape of a chunk (the trace axis sliced) on one side.</summary>
    private static Shape Box(Side s, int ta, Chunk c)
    {
        var d = s.Out.ToArray();
        if (ta >= 0) d[ta] = c.Tc;
        return new Shape(d);
    }

    private static int BoxSize(Side s, int ta, Chunk c) => Box(s, ta, c).Size;

    // Graphs per (side graph, chunk, part size), cached with the traced graph (per TracedApply instance, no global state).
    private static readonly ConditionalWeakTable<Graph, ConcurrentDictionary<(int T0, int Tc, int Ta, ValueArray<int> Leaves, int Count, ValueArray<int?> Axes), Graph>> Cache = new();

    /// <summary>
    /// The graph (parameters…, inputs…, basis) ↦ one gradient per leaf of the chunk: without vmap the basis is
    /// (count, box…) and each output (count, leaf…); with vmap the batched inputs are stacks of count examples, the basis
    /// is (box.Size, box…) and each output (count, box.Size, leaf…).
    /// </summary>
    internal static Graph Evaluation(Params p, Side s, Chunk c, int ta, int count)
    {
        var axes = ValueArray.Of(s.Batching?.StackAxes ?? []);
        var key = (ta >= 0 ? c.T0 : 0, c.Tc, ta, ValueArray.Of(c.Leaves), count, axes);
        return Cache.GetOrCreateValue(s.Graph).GetOrAdd(key, _ =>
        {
            var rows = LeafRows(s.Graph, p.Count, ta, c);
            int n = rows.Inputs.Count;
            var box = Box(s, ta, c);
            int basisRows = s.Batching is null ? count : box.Size;
            var g = Ad.Vmap(rows, InAxes.Only(n, n - 1), InAxes.Out(rows.Outputs.Count), basisRows);
            if (s.Batching is null) return g;
            var exampleAxes = InAxes.Concat(InAxes.None(p.Count), s.Batching.StackAxes, InAxes.None(1));
            return Ad.Vmap(g, exampleAxes, InAxes.Out(g.Outputs.Count), count);
        });
    }

    /// <summary>(parameters…, inputs…, cotangent of the chunk's output box) ↦ the chunk leaves' gradients, in leaf shape.</summary>
    private static Graph LeafRows(Graph g, int parameterCount, int ta, Chunk c)
    {
        var outT = g.Outputs[0].Type;
        var src = g;
        if (ta >= 0 && c.Tc < outT.Shape[ta])
            src = Ad.Trace(ins =>
            {
                var y = Interpreter.Inline(ins[0].Builder, g, ins)[0];
                var lo = new int[y.Rank]; var hi = y.Shape.ToArray();
                lo[ta] = c.T0; hi[ta] = c.T0 + c.Tc;
                return new[] { Lax.Slice(y, lo, hi) };
            }, g.InputTypes);
        var wrt = Enumerable.Range(0, src.Inputs.Count).Select(i => i < parameterCount && c.Leaves.Contains(i)).ToArray();
        var vjp = Ad.VjpGraph(src, wrt);
        var rows = Ad.Trace(ins => Interpreter.Inline(ins[0].Builder, vjp, ins).Skip(1).ToArray(), src.InputTypes.Append(src.Outputs[0].Type).ToArray());
        return DceTransform.Apply(rows);
    }

    /// <summary>
    /// The chunk's Jacobian of one side, one tensor per leaf, shaped like f's output on that side with the trace axis
    /// sliced (examples at their output axis), followed by the leaf's axes; strided views of the evaluation's own
    /// outputs (or of one buffer per leaf the parts are copied into, keeping their layout).
    /// </summary>
    public Tensor[] Jacobians(Side s, int chunkIndex, bool second, ComputeBackend backend)
    {
        var c = Chunks[chunkIndex];
        int part = second ? Parts[chunkIndex].Part2 : Parts[chunkIndex].Part1;
        var box = Box(s, TraceAxis, c);
        int count = s.Batching is null ? box.Size : s.Examples;
        Tensor[]? assembled = null;
        for (int start = 0; start < count; start += part)
        {
            int n = Math.Min(part, count - start);
            var g = Evaluation(_p, s, c, TraceAxis, n);
            var inputs = s.Batching is null
                ? TracedApply.Inputs(_p, s.Xs).Append(StandardBasis.Of(box, DType, start, n)).ToArray()
                : TracedApply.Inputs(_p, s.Batching.Stack(s.Xs, start, n)).Append(StandardBasis.Of(box, DType, 0, box.Size)).ToArray();
            var outs = Interpreter.Evaluate(g, inputs, backend);
            if (n == count) { assembled = outs; break; }
            assembled ??= outs.Select(o => BufferPool.Run(() => Buffer(o, count))).ToArray();
            for (int k = 0; k < outs.Length; k++) BufferPool.Run(() => CopyRows(outs[k], assembled[k], start));
            BufferPool.Release(outs);   // copied into the assembled Jacobians: dead
            if (outs.Sum(o => (double)o.Size) * DType.SizeOf() > JacobianContraction.CollectAboveBytes) JacobianContraction.Collect();
        }
        return assembled!.Select(t => ToOutputLayout(t, s, box)).ToArray();
    }

    /// <summary>A buffer of <paramref name="count"/> rows along axis 0 laid out as <paramref name="part"/> (its axes in the
    /// same stride order), so parts copy in with one block copy each.</summary>
    private static Tensor Buffer(Tensor part, int count)
    {
        var order = StorageOrder(part);
        var dims = part.Shape.ToArray(); dims[0] = count;
        var strides = new int[dims.Length];
        int st = 1;
        for (int i = order.Length - 1; i >= 0; i--) { strides[order[i]] = st; st *= dims[order[i]]; }
        // Every row is copied in (CopyRows) before the buffer is read.
        var storage = part.DType == DType.Float32 ? (Array)BufferPool.Rent<float>(st) : BufferPool.Rent<double>(st);
        return new Tensor(storage, new Shape(dims), strides, 0);
    }

    /// <summary>Axes from slowest to fastest stride, axis 0 first (rows stay the outermost axis).</summary>
    private static int[] StorageOrder(Tensor t) =>
        new[] { 0 }.Concat(Enumerable.Range(1, t.Rank - 1).OrderByDescending(a => t.Strides[a]).ThenBy(a => a)).ToArray();

    private static void CopyRows(Tensor part, Tensor dst, int start)
    {
        // The part in dst's storage order, made dense (a view when it already is), then one block copy.
        var order = StorageOrder(dst);
        var dense = part.Transpose(order).Contiguous();
        int rowSize = part.Shape.Size / Math.Max(1, part.Shape[0]);
        Array.Copy(dense.Storage, dense.Offset, dst.Storage, (long)start * rowSize, dense.Size);
    }

    /// <summary>(rows, leaf…) or (examples, box.Size, leaf…) as (f's output box with examples at their axis…, leaf…): views.</summary>
    private static Tensor ToOutputLayout(Tensor t, Side s, Shape box)
    {
        if (s.Batching is null) return SplitAxis(t, 0, box.ToArray());
        var split = SplitAxis(t, 1, box.ToArray());
        return Batching.Fold(split, 0, 1 + s.OutAxis);
    }

    /// <summary>Axis <paramref name="axis"/> split into <paramref name="dims"/> (row-major), a view whatever the strides.</summary>
    internal static Tensor SplitAxis(Tensor t, int axis, int[] dims)
    {
        var shape = t.Shape.ToArray();
        var strides = t.Strides;
        var newStrides = new int[dims.Length];
        int st = strides[axis];
        for (int i = dims.Length - 1; i >= 0; i--) { newStrides[i] = st; st *= dims[i]; }
        var ns = shape[..axis].Concat(dims).Concat(shape[(axis + 1)..]).ToArray();
        var nstr = strides[..axis].Concat(newStrides).Concat(strides[(axis + 1)..]).ToArray();
        return new Tensor(t.Storage, new Shape(ns), nstr, t.Offset);
    }
}
