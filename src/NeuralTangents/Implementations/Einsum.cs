using NeuralTangents.Tensors.Kernels;
using NeuralTangents.Autodiff.Primitives;

namespace NeuralTangents.Implementations;

/// <summary>
/// Einstein summation over integer index ids with an explicit, cost-aware contraction order: operands are
/// contracted pairwise with <c>dot_general</c>; a pair costs the product of the sizes of every id it touches
/// (multiply-adds). Up to <see cref="ExhaustiveLimit"/> operands (an MJJMP has four) the order with the smallest
/// total cost is found by trying every pairwise sequence — greedy "cheapest pair first" can pick a cheap first
/// step that forces a huge second one (e.g. ∂f/∂y·∂y/∂w before the Gram of ∂y/∂w in a Dense layer's MJJMP: 80× more
/// work on the digits FCN); beyond that, greedy. Ids shared by the pair that are still needed by another operand or
/// by the output become batch dimensions; the others are contracted. Ids private to one operand and absent from
/// the output are summed out first. This is the contraction engine of the structured-derivatives NTK (Novak et al. 2022 §4:
/// each MJJMP is one such einsum).
/// <para>Operands with equal <see cref="Operand.Key"/>s hold the same values. A pairwise step whose operands and
/// layout repeat an earlier step (the x1 and x2 sides of a train-train MJJMP: <c>∂f/∂y·∂y/∂w</c> twice) is computed
/// once and costs nothing the second time, in the order search too.</para>
/// </summary>
internal static class Einsum
{
    /// <summary>An operand; <paramref name="Key"/> (default: the tensor itself) identifies equal values.</summary>
    public sealed record Operand(Tensor Value, int[] Ids, object? Key = null);

    /// <summary>Largest operand count whose contraction order is searched exhaustively (n = 5: 180 sequences).</summary>
    public const int ExhaustiveLimit = 5;

    /// <summary>An operand during planning: its ids and a signature of how its values were produced.</summary>
    internal readonly record struct Node(int[] Ids, Sig Sig);

    /// <summary>
    /// How a value of a <see cref="Session"/> was produced, compared structurally: equal signatures hold equal values.
    /// A <see cref="Leaf"/> is an operand's key (its index in the session) read through its kept axes (positions in the
    /// operand as given); a <see cref="Step"/> is a pairwise contraction of two values (contracted and batch axes as
    /// positions in each); a <see cref="Result"/> is a step's output with its kept axes.
    /// </summary>
    internal abstract record Sig : IComparable<Sig>
    {
        public sealed record Leaf(int Key, ValueArray<int> Kept) : Sig
        {
            public override string ToString() => $"#{Key}/{P(Kept)}";
        }

        public sealed record Step(Sig A, Sig B, ValueArray<int> ContractA, ValueArray<int> ContractB, ValueArray<int> BatchA,
            ValueArray<int> BatchB) : Sig
        {
            public override string ToString() => $"({A}*{B}:{P(ContractA)};{P(ContractB)};{P(BatchA)};{P(BatchB)})";
        }

        public sealed record Result(Step Of, ValueArray<int> Kept) : Sig
        {
            public override string ToString() => $"{Of}/{P(Kept)}";
        }

        /// <summary>The canonical order of a pair's operands: the ordinal order of the printed forms. It is the order
        /// the session had when its keys were these strings, kept so that every pairwise step keeps its operand order
        /// (and the kernels their bits); identity never depends on it.</summary>
        public int CompareTo(Sig? other) => string.CompareOrdinal(ToString(), other?.ToString());

        private static string P(ValueArray<int> positions) => string.Join(",", positions.AsSpan().ToArray());
    }

    /// <summary>One einsum planned in a <see cref="Session"/>: size-1 ids dropped (they cost nothing and would turn a
    /// Hadamard product into a batched GEMM), leaf signatures, the contraction order and its cost.</summary>
    public sealed class Planned
    {
        internal required Shape[] Shapes;            // operand shapes as planned (checked against the values)
        internal required int[][] Ids;               // operand ids, size-1 ids dropped
        internal required int[][] SizeOne;           // operand axes of size 1 (squeezed before use)
        internal required int[] Output;              // output ids, size-1 ids dropped
        internal required Shape OutShape;            // the output's shape, size-1 axes included
        internal required List<Node> Leaves;
        internal required List<(int, int)> Steps;
        internal required List<(Sig Sig, double Elements, bool Hadamard)> StepResults;   // for the session's memory replay
        /// <summary>Multiply-adds of this einsum's steps that no earlier einsum of the session computes.</summary>
        public required double Cost { get; init; }
        /// <summary>Elements of its largest pairwise result.</summary>
        public required double LargestElements { get; init; }
    }

    /// <summary>
    /// Several einsums whose operands share <see cref="Operand.Key"/>s across them (the MJJMPs of one NTK: a Dense
    /// layer's W and b read the same <c>∂f/∂y</c>, so both need its Gram). Plan every einsum first (<see cref="Add"/>,
    /// in execution order): a pairwise step that an earlier one already computes costs nothing, in the order search
    /// too. Then <see cref="Contract"/> each in the same order: a repeated step is computed once and kept exactly
    /// until its last reader has run. Not thread-safe (one per NTK call).
    /// </summary>
    public sealed class Session
    {
        private readonly List<object> _keys = new();
        private readonly HashSet<Sig> _done = new();
        private readonly Dictionary<Sig, int> _reads = new();
        private readonly Dictionary<Sig, Tensor> _memo = new();
        private readonly List<Tensor> _made = new();   // step results and sums made here, until released
        private readonly ComputeBackend _backend;

        /// <summary>A session whose contractions run on <paramref name="backend"/> (default: the backend in effect now,
        /// read once here).</summary>
        public Session(ComputeBackend? backend = null) => _backend = backend ?? ComputeBackend.Current;

        /// <summary>
        /// Peak elements held by the pairwise results while <paramref name="plans"/> (every einsum added, in order) run
        /// with an accumulator: a step's result lives until its einsum ends (an upper bound), or, when a later einsum
        /// reads it again, until that last reader; a final element-wise product into the accumulator holds nothing.
        /// Operands and the accumulator are the caller's.
        /// </summary>
        public double PeakElements(IReadOnlyList<Planned> plans)
        {
            var remaining = new Dictionary<Sig, int>();
            foreach (var p in plans) foreach (var r in p.StepResults) remaining[r.Sig] = remaining.GetValueOrDefault(r.Sig) + 1;
            var held = new Dictionary<Sig, double>();
            double heldSum = 0, peak = 0;
            foreach (var p in plans)
            {
                double local = 0;
                for (int k = 0; k < p.StepResults.Count; k++)
                {
                    var (sig, elements, hadamard) = p.StepResults[k];
                    bool memo = held.ContainsKey(sig);
                    int left = --remaining[sig];
                    bool fused = !memo && left == 0 && hadamard && k == p.StepResults.Count - 1;
                    double e = memo || fused ? 0 : elements;
                    peak = Math.Max(peak, heldSum + local + e);
                    if (memo && left == 0) { heldSum -= held[sig]; held.Remove(sig); }
                    else if (!memo && left > 0) { held[sig] = e; heldSum += e; }
                    else local += e;
                }
            }
            return peak;
        }

        /// <summary>
        /// A session with this one's einsums planned and nothing computed, contracting on <paramref name="backend"/>: the
        /// same <see cref="Planned"/> objects run in it. This session stays a template (never contract in it), so one
        /// kernel function plans its einsums once (1.4–6 ms per call on the issue-12 rows) and each call, on any thread,
        /// runs a fresh copy.
        /// </summary>
        public Session Fresh(ComputeBackend backend)
        {
            var s = new Session(backend);
            s._keys.AddRange(_keys);
            s._done.UnionWith(_done);
            foreach (var (sig, n) in _reads) s._reads[sig] = n;
            return s;
        }

        /// <summary>Memoised step results still waiting for a reader (0 once every planned einsum has run).</summary>
        internal int Held => _memo.Count;

        /// <summary>Plans one einsum over operands given by shape; a null key is a value equal to no other.</summary>
        public Planned Add(IReadOnlyList<(int[] Ids, Shape Shape, object? Key)> operands, int[] output)
        {
            foreach (var o in operands)
            {
                if (o.Ids.Length != o.Shape.Rank) throw new ArgumentException($"einsum: {o.Ids.Length} ids for an operand of shape {o.Shape}");
                if (o.Ids.Distinct().Count() != o.Ids.Length) throw new ArgumentException("einsum: repeated id within one operand");
            }
            var sizes = Sizes(operands.Select(o => (o.Ids, o.Shape)));
            var missing = output.Where(id => !sizes.ContainsKey(id)).ToArray();
            if (missing.Length > 0) throw new ArgumentException($"einsum: output ids [{string.Join(", ", missing)}] appear in no operand");
            var outShape = new Shape(output.Select(id => sizes[id]));
            var sizeOne = operands.Select(o => Enumerable.Range(0, o.Ids.Length).Where(i => o.Shape[i] == 1).ToArray()).ToArray();
            var ids = operands.Select(o => o.Ids.Where(id => sizes[id] != 1).ToArray()).ToArray();
            var outIds = output.Where(id => sizes[id] != 1).ToArray();
            // Leaf signatures name the operand's key and its kept axes by their positions in the operand as given,
            // so equal keys read the same way give equal signatures in every einsum of the session.
            var leaves = new List<Node>();
            for (int k = 0; k < operands.Count; k++)
            {
                var key = operands[k].Key ?? new object();
                int ki = _keys.FindIndex(x => Equals(x, key));
                if (ki < 0) { _keys.Add(key); ki = _keys.Count - 1; }
                var kept = Kept(ids[k], outIds, ids.Where((_, i) => i != k));
                leaves.Add(new Node(kept, new Sig.Leaf(ki, Positions(kept, operands[k].Ids))));
            }
            var (steps, cost) = Order(leaves, sizes, outIds, _done);
            double largest = 0;
            var nodes = leaves.ToList();
            var results = new List<(Sig, double, bool)>();
            foreach (var (i, j) in steps)
            {
                var (a, b, _, _) = Canonical(nodes[i], nodes[j], 0, 0);
                nodes.RemoveAt(j); nodes.RemoveAt(i);
                var (batch, contract, sig, result) = PlanPair(a, b, nodes, outIds);
                var rids = ResultIds(a.Ids, b.Ids, batch);
                double elements = rids.Aggregate(1.0, (acc, id) => acc * sizes[id]);
                largest = Math.Max(largest, elements);
                results.Add((sig, elements, IsHadamard(a.Ids, b.Ids, batch, contract) && rids.SequenceEqual(outIds)));
                _done.Add(sig);
                _reads[sig] = _reads.GetValueOrDefault(sig) + 1;
                nodes.Add(result);
            }
            return new Planned
            {
                Shapes = operands.Select(o => o.Shape).ToArray(), Ids = ids, SizeOne = sizeOne, Output = outIds, OutShape = outShape,
                Leaves = leaves, Steps = steps, StepResults = results, Cost = cost, LargestElements = largest,
            };
        }

        /// <summary>
        /// Evaluates <paramref name="plan"/> (planned by this session; sessions' einsums run in the order they were
        /// added) on <paramref name="values"/>. With <paramref name="accumulate"/> (contiguous, of the output's shape),
        /// the result is added into it — a final element-wise product straight into it, without a temporary — and
        /// <paramref name="accumulate"/> is returned. The result is multiplied by <paramref name="scale"/> (on the
        /// output, the smallest tensor of the contraction: structured derivatives' per-use factors σ_w/√n would
        /// otherwise scale the im2col patches).
        /// </summary>
        public Tensor Contract(Planned plan, IReadOnlyList<Tensor> values, Tensor? accumulate = null, double scale = 1)
        {
            if (values.Count != plan.Shapes.Length) throw new ArgumentException($"einsum: {values.Count} values for {plan.Shapes.Length} operands");
            for (int k = 0; k < values.Count; k++)
                if (values[k].Shape != plan.Shapes[k]) throw new ArgumentException($"einsum: operand {k} has shape {values[k].Shape}, planned {plan.Shapes[k]}");
            var nodes = plan.Leaves.ToList();
            // One tensor object per signature: equal operands stay reference-equal after their private ids are
            // dropped, so a Gram of two of them takes SymmetricDot's path.
            var bySig = new Dictionary<Sig, Tensor>();
            Tensor Shared(Sig sig, Func<Tensor> make) => bySig.TryGetValue(sig, out var t) ? t : bySig[sig] = make();
            var vals = values.Select((v, k) => Shared(nodes[k].Sig, () =>
            {
                var sq = plan.SizeOne[k].Length > 0 ? v.Squeeze(plan.SizeOne[k]) : v;
                return Made(() => Drop(sq, plan.Ids[k], nodes[k].Ids));
            })).ToList();
            for (int s = 0; s < plan.Steps.Count; s++)
            {
                var (bi, bj) = plan.Steps[s];
                var (a, b, va, vb) = Canonical(nodes[bi], nodes[bj], vals[bi], vals[bj]);
                nodes.RemoveAt(bj); nodes.RemoveAt(bi); vals.RemoveAt(bj); vals.RemoveAt(bi);
                var (batch, contract, pairSig, result) = PlanPair(a, b, nodes, plan.Output);
                var ids = ResultIds(a.Ids, b.Ids, batch);
                bool last = s == plan.Steps.Count - 1;
                if (last && accumulate is not null && !_memo.ContainsKey(pairSig) && _reads[pairSig] == 1 && ids.SequenceEqual(plan.Output)
                    && IsHadamard(a.Ids, b.Ids, batch, contract))
                {
                    _reads.Remove(pairSig);
                    BufferPool.Run(() => MultiplyAdd(va, vb.Transpose(a.Ids.Select(id => Array.IndexOf(b.Ids, id)).ToArray()), accumulate, scale));
                    return ReleaseDead(accumulate);
                }
                if (!_memo.TryGetValue(pairSig, out var r)) r = Made(() => Pair(a.Ids, va, b.Ids, vb, batch, contract, _backend));
                if (--_reads[pairSig] > 0) _memo[pairSig] = r; else { _memo.Remove(pairSig); _reads.Remove(pairSig); }
                nodes.Add(result);
                vals.Add(Shared(result.Sig, () => Made(() => Drop(r, ids, result.Ids))));
                MemoryPacer.Tick();
            }
            var lastIds = nodes[0].Ids;
            var y = vals[0].Transpose(plan.Output.Select(id => Array.IndexOf(lastIds, id)).ToArray());
            if (accumulate is null)
            {
                var full = Made(() => y.Contiguous()).Reshape(plan.OutShape);
                return ReleaseDead(scale == 1 ? full : Made(() => Elementwise.Scale(full, scale)));
            }
            BufferPool.Run(() => MultiplyAdd(y, null, accumulate, scale));
            return ReleaseDead(accumulate);
        }

        /// <summary>Runs a step and remembers its result, whose storage (when rented from a pool) this session gives back
        /// once neither a memoised step nor the einsum's result refers to it.</summary>
        private Tensor Made(Func<Tensor> step)
        {
            var t = BufferPool.Run(step, out bool owned);
            if (owned) _made.Add(t);   // never an operand's storage (a Drop that sums nothing returns the operand)
            return t;
        }

        /// <summary>At the end of an einsum, gives the storage of results no memoised step reads back to the ambient pool
        /// (a no-op without one); <paramref name="result"/> is the einsum's own result.</summary>
        private Tensor ReleaseDead(Tensor result)
        {
            var live = new HashSet<Array>(_memo.Values.Select(t => t.Storage), ReferenceEqualityComparer.Instance) { result.Storage };
            BufferPool.Release(_made.Where(t => !live.Contains(t.Storage)), _memo.Values.Append(result));
            _made.RemoveAll(t => !live.Contains(t.Storage));
            return result;
        }
    }

    public static Tensor Contract(IReadOnlyList<Operand> operands, int[] output)
    {
        var session = new Session();
        var plan = session.Add(operands.Select(o => (o.Ids, o.Value.Shape, (object?)(o.Key ?? o.Value))).ToArray(), output);
        return session.Contract(plan, operands.Select(o => o.Value).ToArray());
    }

    /// <summary>Multiply-adds the same contraction order would spend, from shapes only (for the AUTO cost model);
    /// <c>Key</c>s as in <see cref="Operand"/> (null: every operand distinct).</summary>
    public static double Cost(IReadOnlyList<(int[] Ids, Shape Shape, object? Key)> operands, int[] output) => Plan(operands, output).Cost;

    /// <summary>The multiply-adds of the chosen order and the elements of its largest pairwise result.</summary>
    public static (double Cost, double LargestElements) Plan(IReadOnlyList<(int[] Ids, Shape Shape, object? Key)> operands, int[] output)
    {
        var plan = new Session().Add(operands, output);
        return (plan.Cost, plan.LargestElements);
    }

    /// <summary><paramref name="acc"/> += a ∘ b · scale (b null: += a · scale), in place, each product rounded before
    /// the next operation (no fused multiply-add, so results do not depend on the CPU). a and b have acc's shape (any
    /// strides); acc is contiguous.</summary>
    internal static void MultiplyAdd(Tensor a, Tensor? b, Tensor acc, double scale = 1)
    {
        if (!acc.IsContiguous || a.Size != acc.Size) throw new ArgumentException("einsum: accumulator must be contiguous and of the result's size");
        var ac = a.Contiguous(); var bc = b?.Contiguous();
        if (acc.DType == DType.Float32) MultiplyAdd<float>(ac, bc, acc, (float)scale); else MultiplyAdd<double>(ac, bc, acc, scale);
    }

    private static void MultiplyAdd<T>(Tensor a, Tensor? b, Tensor acc, T scale) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        T[] sa = (T[])a.Storage, sy = (T[])acc.Storage;
        T[]? sb = (T[]?)b?.Storage;
        int oa = a.Offset, ob = b?.Offset ?? 0, oy = acc.Offset;
        Chunks.Run(acc.Size, (i, n) =>
        {
            var y = sy.AsSpan(oy + i, n);
            if (scale == T.One)
            {
                if (sb is null) SimdSpan.Add(sa.AsSpan(oa + i, n), y, y);
                else SimdSpan.MultiplyAdd(sa.AsSpan(oa + i, n), sb.AsSpan(ob + i, n), y, y);
            }
            else if (sb is null) SimdSpan.MultiplyAdd(sa.AsSpan(oa + i, n), scale, y, y);
            else
            {
                var tmp = System.Buffers.ArrayPool<T>.Shared.Rent(n);
                var p = tmp.AsSpan(0, n);
                SimdSpan.Multiply(sa.AsSpan(oa + i, n), sb.AsSpan(ob + i, n), p);
                SimdSpan.MultiplyAdd(p, scale, y, y);
                System.Buffers.ArrayPool<T>.Shared.Return(tmp);
            }
        });
    }

    /// <summary><paramref name="x"/> ·= s in place (s rounded to x's dtype); x contiguous.</summary>
    internal static void ScaleInPlace(Tensor x, double s)
    {
        if (!x.IsContiguous) throw new ArgumentException("einsum: in-place scaling needs a contiguous tensor");
        if (x.DType == DType.Float32)
        {
            var a = (float[])x.Storage; int o = x.Offset; float f = (float)s;
            Chunks.Run(x.Size, (i, n) => SimdSpan.Multiply(a.AsSpan(o + i, n), f, a.AsSpan(o + i, n)));
        }
        else
        {
            var a = (double[])x.Storage; int o = x.Offset;
            Chunks.Run(x.Size, (i, n) => SimdSpan.Multiply(a.AsSpan(o + i, n), s, a.AsSpan(o + i, n)));
        }
    }

    private static bool IsHadamard(int[] aIds, int[] bIds, int[] batch, int[] contract) =>
        contract.Length == 0 && aIds.Length == bIds.Length && batch.Length == aIds.Length;

    /// <summary>The ids of <paramref name="ids"/> still needed by the output or another operand.</summary>
    private static int[] Kept(int[] ids, int[] output, IEnumerable<int[]> others)
    {
        var needed = new HashSet<int>(output.Concat(others.SelectMany(o => o)));
        return ids.Where(needed.Contains).ToArray();
    }

    /// <summary>Sums <paramref name="value"/> (ids <paramref name="ids"/>) down to <paramref name="kept"/>; size-1
    /// axes (trimmed structure axes) are dropped as views, only real sums touch the data.</summary>
    private static Tensor Drop(Tensor value, int[] ids, int[] kept)
    {
        var drop = Enumerable.Range(0, ids.Length).Where(i => !kept.Contains(ids[i])).ToArray();
        if (drop.Length == 0) return value;
        var ones = drop.Where(i => value.Shape[i] == 1).ToArray();
        var v = ones.Length > 0 ? value.Squeeze(ones) : value;
        var rest = drop.Where(i => value.Shape[i] != 1).Select(i => i - ones.Count(j => j < i)).ToArray();
        return rest.Length > 0 ? Reductions.Sum(v, rest) : v;
    }

    /// <summary>The pair in canonical order (smaller signature first), so that a repeated step has one layout.</summary>
    private static (Node, Node, T, T) Canonical<T>(Node a, Node b, T va, T vb) =>
        b.Sig.CompareTo(a.Sig) < 0 ? (b, a, vb, va) : (a, b, va, vb);

    /// <summary>Batch and contracted ids of a pair, its signature, and the node of its result (private ids dropped).</summary>
    private static (int[] Batch, int[] Contract, Sig.Step PairSig, Node Result) PlanPair(Node a, Node b, List<Node> rest, int[] output)
    {
        var (batch, contract) = Split(a.Ids, b.Ids, output, rest.Select(n => n.Ids));
        var pairSig = new Sig.Step(a.Sig, b.Sig, Positions(contract, a.Ids), Positions(contract, b.Ids),
            Positions(batch, a.Ids), Positions(batch, b.Ids));
        var ids = ResultIds(a.Ids, b.Ids, batch);
        var kept = Kept(ids, output, rest.Select(n => n.Ids));
        return (batch, contract, pairSig, new Node(kept, new Sig.Result(pairSig, Positions(kept, ids))));
    }

    /// <summary>The positions of <paramref name="ids"/> in <paramref name="of"/>.</summary>
    private static ValueArray<int> Positions(int[] ids, int[] of) =>
        ValueArray.Of(ids.Select(id => Array.IndexOf(of, id)).ToArray());

    /// <summary>One pairwise step: a <c>dot_general</c>, or an element-wise product when nothing is contracted and both
    /// operands carry the same ids (a batched 1×1 GEMM per element would be far slower).</summary>
    private static Tensor Pair(int[] aIds, Tensor a, int[] bIds, Tensor b, int[] batch, int[] contract, ComputeBackend backend)
    {
        if (aIds.Length == 0 || bIds.Length == 0)   // a scalar operand (every id of size 1, squeezed away)
            return aIds.Length == 0 ? Elementwise.Scale(b, a.ToScalar()) : Elementwise.Scale(a, b.ToScalar());
        if (IsHadamard(aIds, bIds, batch, contract))
        {
            // Result ids are `batch` (in a's order, as Split keeps it): align b to a and multiply.
            var bt = b.Transpose(aIds.Select(id => Array.IndexOf(bIds, id)).ToArray());
            return Elementwise.Binary(BinaryOp.Mul, a, bt);
        }
        var dims = new DotDimensionNumbers(contract.Select(id => Array.IndexOf(aIds, id)).ToArray(), contract.Select(id => Array.IndexOf(bIds, id)).ToArray(),
            batch.Select(id => Array.IndexOf(aIds, id)).ToArray(), batch.Select(id => Array.IndexOf(bIds, id)).ToArray());
        return SymmetricDot.TryDotGeneral(a, b, dims, backend)
            ?? (ReferenceEquals(backend, ComputeBackend.Cpu) ? NarrowDot.TryCompute(a, b, dims) : null)
            ?? backend.DotGeneral(a, b, dims);
    }

    /// <summary>The pairwise contraction sequence (indices into the shrinking operand list; the result is appended)
    /// and its total multiply-adds, a step already in <paramref name="done"/> costing nothing: optimal up to
    /// <see cref="ExhaustiveLimit"/> operands, greedy beyond.</summary>
    private static (List<(int, int)> Steps, double Cost) Order(List<Node> nodes, Dictionary<int, int> sizes, int[] output, HashSet<Sig> done)
    {
        if (nodes.Count <= 1) return (new List<(int, int)>(), 0);
        (List<(int, int)> Steps, double Cost) best = (new List<(int, int)>(), double.PositiveInfinity);
        var candidates = nodes.Count <= ExhaustiveLimit
            ? Enumerable.Range(0, nodes.Count).SelectMany(i => Enumerable.Range(i + 1, nodes.Count - i - 1).Select(j => (i, j))).ToList()
            : new List<(int, int)> { CheapestPair(nodes, sizes, done, output) };
        foreach (var (i, j) in candidates)
        {
            var (rest, cost, sig) = Step(nodes, i, j, sizes, output, done);
            var seen = new HashSet<Sig>(done) { sig };
            var (steps, tail) = Order(rest, sizes, output, seen);
            if (cost + tail < best.Cost) best = (steps.Prepend((i, j)).ToList(), cost + tail);
        }
        return best;
    }

    /// <summary>The operands after contracting pair (i, j), the pair's cost (0 when already done) and its signature.</summary>
    private static (List<Node>, double, Sig) Step(List<Node> nodes, int i, int j, Dictionary<int, int> sizes, int[] output, HashSet<Sig> done)
    {
        var rest = nodes.Where((_, k) => k != i && k != j).ToList();
        var (a, b, _, _) = Canonical(nodes[i], nodes[j], 0, 0);
        var (_, _, sig, result) = PlanPair(a, b, rest, output);
        double cost = done.Contains(sig) ? 0 : a.Ids.Union(b.Ids).Aggregate(1.0, (acc, id) => acc * sizes[id]);
        rest.Add(result);
        return (rest, cost, sig);
    }

    private static Dictionary<int, int> Sizes(IEnumerable<(int[] Ids, Shape Shape)> operands)
    {
        var sizes = new Dictionary<int, int>();
        foreach (var (ids, shape) in operands)
            for (int i = 0; i < ids.Length; i++)
            {
                if (sizes.TryGetValue(ids[i], out var s) && s != shape[i])
                    throw new ArgumentException($"einsum: id {ids[i]} has sizes {s} and {shape[i]}");
                sizes[ids[i]] = shape[i];
            }
        return sizes;
    }

    /// <summary>The pair whose contraction touches the smallest product of id sizes (greedy, beyond the exhaustive limit).</summary>
    private static (int, int) CheapestPair(List<Node> nodes, Dictionary<int, int> sizes, HashSet<Sig> done, int[] output)
    {
        int bi = 0, bj = 1; double best = double.PositiveInfinity;
        for (int i = 0; i < nodes.Count; i++)
            for (int j = i + 1; j < nodes.Count; j++)
            {
                double cost = Step(nodes, i, j, sizes, output, done).Item2;
                if (cost < best) { best = cost; bi = i; bj = j; }
            }
        return (bi, bj);
    }

    /// <summary>Shared ids still needed elsewhere are batch dimensions; the others are contracted.</summary>
    private static (int[] Batch, int[] Contract) Split(int[] a, int[] b, int[] output, IEnumerable<int[]> others)
    {
        var shared = a.Intersect(b).ToArray();
        var needed = new HashSet<int>(output.Concat(others.SelectMany(o => o)));
        return (shared.Where(needed.Contains).ToArray(), shared.Where(id => !needed.Contains(id)).ToArray());
    }

    private static int[] ResultIds(int[] a, int[] b, int[] batch)
    {
        var shared = a.Intersect(b).ToHashSet();
        return batch.Concat(a.Where(id => !shared.Contains(id))).Concat(b.Where(id => !shared.Contains(id))).ToArray();
    }
}
