using System.Numerics;
using NeuralTangents.Implementations;

namespace NeuralTangents.Tiles;

/// <summary>
/// One kernel computation resolved before any numeric work: validated axes, the implementation (AUTO decided with
/// tiled costs), the memory plan (untiled, or a <see cref="TilePlan"/> whose tile fits the budget) and the layout of
/// the batch axis in every kernel. Results are flattened kind-major: index <c>k · outputs + j</c> for kernel kind k
/// of output j.
/// </summary>
internal sealed class KernelJob
{
    private readonly TracedApply _f;
    private readonly Params _p;
    private readonly Tensor[] _x1;
    private readonly Tensor[]? _x2;
    private readonly KernelAxes[] _axes;
    private readonly VmapAxes? _vmap;
    private readonly SdRules _rules;
    private readonly int?[] _in = Array.Empty<int?>();
    private readonly int[] _pos = Array.Empty<int>();
    private readonly int[][] _swap;
    private readonly bool _diagonal;

    public KernelKind[] Kinds { get; }
    public int Outputs => _axes.Length;
    public Shape[] Shapes { get; }
    public DType DType { get; }
    public NtkImplementation Implementation { get; private set; } = NtkImplementation.JacobianContraction;
    /// <summary>Null: computed whole (one call, the kernels as the implementations return them).</summary>
    public TilePlan? Plan { get; private set; }
    public NtkExplanation? Explanation { get; private set; }
    /// <summary>Why the kernel cannot be tiled over examples (null when it can).</summary>
    public string? Untileable { get; }
    public int N1 { get; }
    public int N2 { get; }
    public double KernelBytes => Shapes.Sum(s => s.Elements) * DType.SizeOf();
    public double EstimatedBytes { get; private set; }
    private bool _inMemory;

    /// <summary>Whether the plan counted the whole kernel as held (sized for an in-memory result).</summary>
    internal bool KernelCounted => _inMemory;
    public long Budget { get; }
    internal Tensor[] X1 => _x1;
    internal Tensor[]? X2 => _x2;
    internal Params Parameters => _p;
    internal KernelAxes[] Axes => _axes;
    internal VmapAxes? Vmap => _vmap;

    private KernelJob(TracedApply f, Params p, Tensor[] x1, Tensor[]? x2, KernelKind[] kinds, KernelAxes[] axes, VmapAxes? vmap,
        SdRules rules, long budget)
    {
        _f = f; _p = p; _x1 = x1; _x2 = x2; Kinds = kinds; _axes = axes; _vmap = vmap; _rules = rules; Budget = budget;
        var o1 = f.OutputTypes(p, x1.Select(TensorType.Of).ToArray());
        var o2 = x2 is null ? o1 : f.OutputTypes(p, x2.Select(TensorType.Of).ToArray());
        DType = o1[0].DType;
        var perOutput = axes.Select((a, j) => a.KernelShape(o1[j].Shape, o2[j].Shape)).ToArray();
        Shapes = kinds.SelectMany(_ => perOutput).ToArray();
        _swap = axes.Select(a => a.Layout.SwapPermutation()).ToArray();

        // The batch axis: vmapAxes when given, else axis 0 of every input and output (nt.batch's assumption).
        int?[] ins; int[] outs;
        if (vmap is not null) (ins, outs) = vmap.Resolve(x1.Select(x => x.Rank).ToArray(), o1.Select(o => o.Rank).ToArray());
        else { ins = x1.Select(x => x.Rank > 0 ? (int?)0 : null).ToArray(); outs = o1.Select(o => 0).ToArray(); }
        string? why = null;
        if (ins.All(a => a is null)) why = "no input has a batch axis";
        else if (o1.Any(o => o.Rank == 0)) why = "an output is a scalar";
        int n1 = -1, n2 = -1;
        for (int i = 0; why is null && i < x1.Length; i++)
        {
            if (ins[i] is not { } a) continue;
            int s1 = x1[i].Shape[a], s2 = (x2 ?? x1)[i].Shape[a];
            if (n1 >= 0 && (s1 != n1 || s2 != n2)) why = $"inputs disagree on the number of examples along the batch axis";
            n1 = s1; n2 = s2;
        }
        var pos = new int[axes.Length];
        var modes = new bool[axes.Length];
        for (int j = 0; why is null && j < axes.Length; j++)
        {
            int b = outs[j];
            if (o1[j].Shape[b] != n1 || o2[j].Shape[b] != n2) why = $"output {j} has {o1[j].Shape[b]} entries on its batch axis {b} but the inputs have {n1} examples";
            else if (axes[j].Layout[b].Kind == KernelAxisKind.Trace) why = $"the batch axis {b} of the output is a trace axis (the kernel is a mean over examples)";
            else
            {
                modes[j] = axes[j].Layout[b].Kind == KernelAxisKind.Diagonal;
                pos[j] = axes[j].Layout[b].X1;
            }
        }
        if (why is null && modes.Distinct().Count() > 1) why = "the batch axis is diagonal in some outputs and not in others";
        Untileable = why;
        if (why is null) { _in = ins; _pos = pos; _diagonal = modes[0]; N1 = n1; N2 = n2; }
        else { N1 = 1; N2 = 1; }
    }

    /// <summary>Validates, estimates and plans; throws <see cref="KernelMemoryException"/> when nothing fits (unless
    /// <paramref name="explainOnly"/>). <paramref name="inMemory"/>: the whole kernel is held (it counts against the budget).</summary>
    public static KernelJob Create(TracedApply f, Params p, Tensor[] x1, Tensor[]? x2, KernelKind[] kinds, KernelAxes[] axes,
        KernelSpec spec, bool inMemory, bool explainOnly = false)
    {
        var job = new KernelJob(f, p, x1, x2, kinds, axes, spec.VmapAxes, spec.Rules, spec.Options.Budget);
        job.Decide(spec.Implementation, spec.Options.BatchSize, inMemory, explainOnly);
        return job;
    }

    private sealed record Decision(NtkImplementation Impl, TilePlan? Plan, double Flops, double Bytes, bool Fits, string? Advice)
    {
        public string? CannotRun { get; init; }
    }

    private void Decide(NtkImplementation requested, int? batchSize, bool inMemory, bool explainOnly)
    {
        bool ntk = Kinds.Contains(KernelKind.Ntk);
        var candidates = !ntk ? new[] { NtkImplementation.JacobianContraction }
            : requested == NtkImplementation.Auto ? NtkImplementations.All.Select(m => m.Kind).ToArray()
            : new[] { requested };
        if (KernelBytes == 0)
        {
            // An empty batch: an empty kernel, nothing to estimate.
            Implementation = candidates[0] == NtkImplementation.Auto ? NtkImplementation.JacobianContraction : candidates[0];
            return;
        }
        var decisions = candidates.Select(impl =>
        {
            try { return DecideFor(impl, batchSize, inMemory, auto: requested == NtkImplementation.Auto); }
            catch (TensorSizeException e) when (requested == NtkImplementation.Auto)
            {
                return new Decision(impl, null, double.PositiveInfinity, double.PositiveInfinity, false, null) { CannotRun = e.Reason };
            }
        }).ToArray();
        var estimates = decisions.Select(d => new NtkCostEstimate(d.Impl, d.Flops, d.Bytes, d.Fits, d.CannotRun) { TileSize = d.Plan?.BlockSize }).ToArray();
        var chosen = requested == NtkImplementation.Auto ? CostModel.Choose(estimates) : candidates[0];
        if (ntk && requested == NtkImplementation.Auto) Explanation = new NtkExplanation(chosen, estimates, Budget);
        var d = decisions.Single(x => x.Impl == chosen);
        Implementation = chosen; Plan = d.Plan; EstimatedBytes = d.Bytes;
        if (d.Fits || explainOnly) return;
        // Under AUTO the refusal names the implementation that needs the least, with its own figure and advice.
        if (requested == NtkImplementation.Auto) d = decisions.MinBy(x => x.Bytes)!;
        var what = !ntk ? "the NNGP" : $"the NTK ({d.Impl}{(requested == NtkImplementation.Auto ? ", the smallest of AUTO's choices" : "")})";
        // Every implementation needs a tensor larger than one can be: say which, not "Infinity TiB".
        if (d.CannotRun is { } why) throw new ArgumentException($"the {(ntk ? "NTK" : "NNGP")} cannot be computed by any implementation ({d.Impl}: {why})");
        throw new KernelMemoryException(
            $"{what} needs about {MemoryBudget.Format(d.Bytes)} {(d.Plan is null ? "computed whole" : $"even in tiles of {d.Plan.BlockSize} example{(d.Plan.BlockSize == 1 ? "" : "s")}")}" +
            $" but the memory budget is {MemoryBudget.Format(Budget)}; {d.Advice ?? "raise the memory budget"}", d.Bytes, Budget);
    }

    private Decision DecideFor(NtkImplementation impl, int? batchSize, bool inMemory, bool auto)
    {
        _inMemory = inMemory;
        double kernel = inMemory ? KernelBytes : 0;
        string Refuse(string advice) => advice + (auto ? "" : Alternatives(impl));
        if (batchSize is { } bs)
        {
            if (Untileable is not null) throw new ArgumentException($"batchSize: the kernel cannot be computed in tiles over examples: {Untileable}", "batchSize");
            var plan = MakePlan(bs);
            var (fl, by) = EstimateTile(impl, plan.Tiles[0].Count1, plan.Tiles.Count > 1 || _x2 is not null);
            by += kernel;
            return new Decision(impl, plan, fl * plan.Tiles.Count, by, by <= Budget, by <= Budget ? null : Refuse($"use a smaller batch size (now {bs}) or raise the memory budget"));
        }
        double f0, b0;
        try { (f0, b0) = EstimateWhole(impl); b0 += KernelBytes; }
        catch (TensorSizeException) when (Untileable is null && _vmap is not null) { (f0, b0) = (double.PositiveInfinity, double.PositiveInfinity); }
        if (b0 <= Budget) return new Decision(impl, null, f0, b0, true, null);
        if (Untileable is not null)
            return new Decision(impl, null, f0, b0, false, Refuse($"it cannot be computed in tiles ({Untileable}); raise the memory budget"));
        if (_vmap is null)
            return new Decision(impl, null, f0, b0, false, Refuse($"pass vmapAxes (--vmap-axes 0) when examples do not interact, or a batch size, to compute it in tiles; or raise the memory budget"));
        if (inMemory && kernel > Budget)
        {
            // Advise writing in tiles only when a one-example tile would fit there (new-user trial 4: it sent users to
            // .npy tiles that were refused in turn).
            double tile = EstimateTile(impl, 1, true).Item2;
            return new Decision(impl, null, f0, b0, false, tile <= Budget
                ? $"the kernel itself is {MemoryBudget.Format(kernel)}: write it to an .npy file in tiles (TiledKernel.WriteNpy, nt kernel --out K.npy) or raise the memory budget"
                : $"the kernel itself is {MemoryBudget.Format(kernel)} and even one-example tiles written to a file need about {MemoryBudget.Format(tile)}; raise the memory budget");
        }
        int nmax = Math.Max(N1, N2);
        (double, double) Tile(int b) { var (fl, by) = EstimateTile(impl, b, true); return (fl, by + kernel); }
        var one = Tile(1);
        if (one.Item2 > Budget)
            return new Decision(impl, MakePlan(1), one.Item1 * MakePlan(1).Tiles.Count, one.Item2, false, Refuse($"raise the memory budget"));
        int lo = 1, hi = Math.Max(1, nmax - 1);
        while (lo < hi)
        {
            int mid = lo + (hi - lo + 1) / 2;
            if (Tile(mid).Item2 <= Budget) lo = mid; else hi = mid - 1;
        }
        var best = MakePlan(lo);
        var (ft, bt) = Tile(lo);
        return new Decision(impl, best, ft * best.Tiles.Count, bt, true, null);
    }

    /// <summary>Advice naming the NTK implementation estimated to need the least memory computed whole, when that is less
    /// than <paramref name="impl"/>'s (empty otherwise, and for the NNGP, which has one implementation).</summary>
    private string Alternatives(NtkImplementation impl)
    {
        if (!Kinds.Contains(KernelKind.Ntk)) return "";
        double Whole(NtkImplementation m)
        {
            try { return EstimateWhole(m).Item2 + (_inMemory ? KernelBytes : 0); }
            catch (TensorSizeException) { return double.PositiveInfinity; }
        }
        double own = Whole(impl);
        var best = NtkImplementations.All.Select(m => m.Kind).Where(m => m != impl).Select(m => (Kind: m, Bytes: Whole(m))).MinBy(t => t.Bytes);
        return best.Bytes < own ? $", or use {Prose(best.Kind)} (about {MemoryBudget.Format(best.Bytes)} computed whole)" : "";
    }

    private static string Prose(NtkImplementation impl) => impl switch
    {
        NtkImplementation.JacobianContraction => "jacobian contraction",
        NtkImplementation.NtkVectorProducts => "NTK-vector products",
        _ => "structured derivatives",
    };

    /// <summary>One tile covering everything (for writers when the kernel is computed whole).</summary>
    internal TilePlan WholePlan() => Untileable is not null ? new TilePlan(1, 1, 1, false, false) : MakePlan(Math.Max(N1, N2));

    private TilePlan MakePlan(int block) =>
        new(N1, N2, Math.Max(1, Math.Min(block, Math.Max(N1, N2))), symmetric: _x2 is null && !_diagonal, diagonalOnly: _diagonal);

    /// <summary>Estimated (FLOPs, peak bytes) of computing everything at once, excluding the kernel itself.</summary>
    private (double, double) EstimateWhole(NtkImplementation impl) => Estimate(impl, _x1, _x2);

    /// <summary>Estimated (FLOPs, peak bytes) of one b-example tile, including the tile's output.</summary>
    private (double, double) EstimateTile(NtkImplementation impl, int b, bool distinct)
    {
        b = Math.Min(b, Math.Max(N1, N2));
        var a1 = Slice(_x1, 0, Math.Min(b, N1));
        var a2 = distinct ? Slice(_x2 ?? _x1, 0, Math.Min(b, N2)) : null;
        var (fl, by) = Estimate(impl, a1, a2);
        double tileOut = Shapes.Sum(s => s.Elements) / Math.Max(1.0, (double)N1 * (_diagonal ? 1 : N2)) * b * (_diagonal ? 1 : b) * DType.SizeOf();
        return (fl, by + 2 * tileOut);
    }

    /// <summary>
    /// Estimated (FLOPs, peak bytes) of computing every kernel for these inputs with <paramref name="impl"/>, memoised on
    /// the function: the figures depend only on types, never on values, and building the graphs behind them cost
    /// 4–17 ms per call on the issue-12 rows (a quarter of a seed FCN warm call).
    /// </summary>
    private (double, double) Estimate(NtkImplementation impl, Tensor[] a1, Tensor[]? a2)
    {
        // The requests' keys name the types, axes, batching, rules and this budget; the NNGP's cost depends on no more.
        var key = $"job-estimate|{impl}|{string.Join(",", Kinds)}|" + string.Join(";", Requests(a1, a2).Select(r => r.Key));
        var (f, b) = _f.Memo(key, () => Tuple.Create(EstimateNow(impl, a1, a2))).Item1;
        return (f, b);
    }

    private (double, double) EstimateNow(NtkImplementation impl, Tensor[] a1, Tensor[]? a2)
    {
        double flops = 0, bytes = 0;
        foreach (var kind in Kinds)
        {
            if (kind == KernelKind.Nngp)
            {
                var (fl, by) = NngpCost(a1, a2);
                flops += fl; bytes = Math.Max(bytes, by);
                continue;
            }
            var (f2, by2) = NtkImplementations.Estimate(impl, Requests(a1, a2));
            flops += f2; bytes = Math.Max(bytes, by2);
        }
        return (flops, bytes);
    }

    private (double, double) NngpCost(Tensor[] a1, Tensor[]? a2)
    {
        double flops = 0, bytes = 0;
        foreach (var a in a2 is null ? new[] { a1 } : new[] { a1, a2 })
        {
            var g = _f.GraphFor(_p, a.Select(TensorType.Of).ToArray());
            flops += Autodiff.Ir.GraphCost.Flops(g);
            bytes += 2 * Autodiff.Ir.GraphCost.LargestBytes(g) + g.Outputs.Sum(o => o.Type.Shape.Elements * o.Type.DType.SizeOf());
        }
        return (flops, bytes + NngpContractionBytes(a1, a2));
    }

    /// <summary>
    /// What <see cref="KernelAxes.Contract"/> holds beside the NNGP it returns (counted by the caller): the dot_general
    /// result and the backend's working copy of it before <see cref="KernelAxes.Lay"/> transposes/scales it into the
    /// kernel layout, two kernel-sized tensors. Uncounted, an NNGP with big free axes ran 1.7x past its estimate (D1).
    /// </summary>
    internal double NngpContractionBytes(Tensor[] a1, Tensor[]? a2)
    {
        var o1 = _f.OutputTypes(_p, a1.Select(TensorType.Of).ToArray());
        var o2 = a2 is null ? o1 : _f.OutputTypes(_p, a2.Select(TensorType.Of).ToArray());
        double elements = _axes.Select((a, j) => (double)a.KernelShape(o1[j].Shape, o2[j].Shape).Elements).Sum();
        return 2 * elements * DType.SizeOf();
    }

    /// <summary>The NTK requests of every output for these inputs (x2 = null: x2 = a1), batching resolved once, run on
    /// <paramref name="backend"/> (estimates: the backend in effect).</summary>
    private KernelRequest[] Requests(Tensor[] a1, Tensor[]? a2, ComputeBackend? backend = null) =>
        KernelRequest.ForOutputs(_f, _p, a1, a2, _axes, _vmap, ImplementationBudget(a1, a2), _rules, backend);

    /// <summary>
    /// The budget an implementation may use for these inputs: the job's budget less what the job itself holds meanwhile
    /// (the whole kernel when computed whole or kept in memory; a tile and its mirrored copy when tiled), so that an
    /// implementation that sizes its chunks to its budget (JacobianContraction) leaves room for them.
    /// </summary>
    private long ImplementationBudget(Tensor[] a1, Tensor[]? a2)
    {
        double held = KernelBytes;
        if (Untileable is null && N1 > 0 && N2 > 0)
        {
            int n1 = Examples(a1), n2 = a2 is null ? n1 : Examples(a2);
            if (n1 != N1 || n2 != N2)
                held = (_inMemory ? KernelBytes : 0) + 2 * KernelBytes * n1 / N1 * (_diagonal ? 1.0 : (double)n2 / N2);
        }
        return (long)Math.Max(0, Budget - held);
    }

    /// <summary>Examples along the batch axis of the first batched input.</summary>
    private int Examples(Tensor[] xs)
    {
        for (int i = 0; i < xs.Length; i++)
            if (_in[i] is { } a) return xs[i].Shape[a];
        return 1;
    }

    /// <summary>Examples [start, start+count) of every batched input (a contiguous copy; unbatched inputs as they are).</summary>
    internal Tensor[] Slice(Tensor[] xs, int start, int count)
    {
        if (Untileable is not null) return xs;
        return xs.Select((x, i) =>
        {
            if (_in[i] is not { } a) return x;
            if (start == 0 && count == x.Shape[a]) return x;
            var lo = new int[x.Rank]; var hi = x.Shape.ToArray();
            lo[a] = start; hi[a] = start + count;
            return x.Slice(lo, hi).Contiguous();
        }).ToArray();
    }

    /// <summary>All kernels for these inputs at once (x2 = null: x2 = a1, and each kernel exactly symmetric), flattened kind-major.</summary>
    internal Tensor[] Compute(Tensor[] a1, Tensor[]? a2)
    {
        if (KernelBytes == 0) return Shapes.Select(s => Tensor.Zeros(s, DType)).ToArray();
        var backend = ComputeBackend.Current;   // read once: every evaluation and contraction below runs on it
        var results = new List<Tensor>();
        Tensor[]? f1 = null, f2 = null;
        foreach (var kind in Kinds)
        {
            if (kind == KernelKind.Nngp)
            {
                f1 ??= _f.Evaluate(_p, a1, backend);
                f2 ??= a2 is null ? f1 : _f.Evaluate(_p, a2, backend);
                results.AddRange(_axes.Select((ax, j) => ax.Contract(f1[j], f2[j], 0, backend)));
                continue;
            }
            var impl = NtkImplementations.For(Implementation);
            results.AddRange(Requests(a1, a2, backend).Select(impl.Ntk));
        }
        if (a2 is null)
            for (int k = 0; k < results.Count; k++) results[k] = Symmetrize(results[k], _swap[k % Outputs]);
        return results.ToArray();
    }

    /// <summary>The kernels of one tile (flattened kind-major), exactly symmetric on a symmetric plan's diagonal tiles.</summary>
    internal Tensor[] ComputeTile(TilePlan plan, Tile t)
    {
        if (Untileable is not null) return Compute(_x1, _x2);
        var a1 = Slice(_x1, t.Start1, t.Count1);
        Tensor[]? a2 = _x2 is not null ? Slice(_x2, t.Start2, t.Count2)
            : t.IsDiagonal ? null : Slice(_x1, t.Start2, t.Count2);
        return Compute(a1, a2);   // a symmetric plan's diagonal tiles have a2 = null: symmetrized there
    }

    /// <summary>Where kernel <paramref name="k"/>'s tile goes: start index per kernel axis.</summary>
    internal int[] Offsets(int k, Tile t, bool mirrored)
    {
        var o = new int[Shapes[k].Rank];
        if (Untileable is not null) return o;
        int p = _pos[k % Outputs];
        o[p] = mirrored ? t.Start2 : t.Start1;
        if (!_diagonal) o[p + 1] = mirrored ? t.Start1 : t.Start2;
        return o;
    }

    /// <summary>The tile of the transposed block (x1 ↔ x2 swapped in every free pair of axes).</summary>
    internal Tensor Mirror(Tensor tile, int k) => tile.Transpose(_swap[k % Outputs]).Contiguous();

    /// <summary>
    /// x2 = x1: the kernel and its transpose (x1 ↔ x2 swapped in every free pair of axes) averaged in place, so
    /// K[i, j, a, b] = K[j, i, b, a] holds bit for bit whatever the implementation's summation order (NTK-vector products
    /// and structured derivatives without vmap axes differed in the last bit), the example-diagonal blocks included.
    /// Entries already equal to their partner (JacobianContraction's) are left as they are.
    /// </summary>
    internal static Tensor Symmetrize(Tensor k, int[] swap)
    {
        if (swap.Select((a, i) => a == i).All(x => x)) return k;   // no free pair: nothing to mirror
        var c = k.IsContiguous ? k : k.Contiguous();
        if (c.DType == DType.Float32) SymmetrizeInPlace(c.MutableSpan<float>(), c.Shape, swap);
        else SymmetrizeInPlace(c.MutableSpan<double>(), c.Shape, swap);
        return c;
    }

    /// <summary>Pairs each element with its partner under <paramref name="swap"/> (an involution of the axes) by walking the
    /// row-major index with an odometer that keeps the partner's offset too; both get <c>a/2 + b/2</c> (commutative, so
    /// exactly equal; no overflow).</summary>
    private static void SymmetrizeInPlace<T>(Span<T> data, Shape shape, int[] swap) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int r = shape.Rank;
        if (data.Length == 0) return;
        var stride = new long[r];
        long acc = 1;
        for (int a = r - 1; a >= 0; a--) { stride[a] = acc; acc *= shape[a]; }
        var partner = new long[r];
        for (int a = 0; a < r; a++) partner[a] = stride[swap[a]];
        var idx = new int[r];
        int inner = shape[r - 1];
        long step = partner[r - 1], e = 0, p = 0;
        T half = T.CreateChecked(0.5);
        while (true)
        {
            long q = p;
            for (int i = 0; i < inner; i++, q += step)
            {
                long at = e + i;
                if (q <= at) continue;
                T x = data[(int)at], y = data[(int)q];
                if (x == y) continue;
                T v = x * half + y * half;
                data[(int)at] = v; data[(int)q] = v;
            }
            e += inner;
            int ax = r - 2;
            for (; ax >= 0; ax--)
            {
                p += partner[ax];
                if (++idx[ax] < shape[ax]) break;
                p -= partner[ax] * shape[ax];
                idx[ax] = 0;
            }
            if (ax < 0) return;
        }
    }
}
