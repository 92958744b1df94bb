using NeuralTangents.Implementations;
using NeuralTangents.Tiles;

namespace NeuralTangents;

/// <summary>
/// Finite-width (empirical) NNGP and NTK kernels of any function <c>f(params, x)</c> written with the library's
/// tensor operations — the counterpart of <c>neural_tangents.empirical</c> (<c>empirical_nngp_fn</c>,
/// <c>empirical_ntk_fn</c>, <c>empirical_kernel_fn</c>, <c>empirical_ntk_vp_fn</c>; Novak, Sohl-Dickstein,
/// Schoenholz, ICML 2022).
/// <para>
/// Kernel layout (docs/conventions.md#kernel-layout): for output axes in order, a trace axis is contracted (and the kernel divided by its
/// size: a mean), a diagonal axis appears once at its own position, any other axis appears as the pair
/// (x1 axis, x2 axis). E.g. outputs (N1, 10) and (N2, 10) with the default <c>traceAxes = [-1]</c> give (N1, N2);
/// with <c>traceAxes = []</c> they give (N1, N2, 10, 10).
/// </para>
/// <para>
/// Errors, thrown before any numeric work (from the traced output types): <see cref="ArgumentOutOfRangeException"/>
/// for an axis out of range for the output rank; <see cref="ArgumentException"/> when trace and diagonal axes
/// overlap, when f(x1) and f(x2) differ in size on a trace or diagonal axis (the message gives both sizes), when
/// inputs and parameters differ in dtype, or when the function rejects the input shapes (or, with vmap axes, one
/// example); <see cref="TensorSizeException"/> when an in-memory kernel (or, for JacobianContraction, a Jacobian)
/// would exceed <see cref="TensorSizeException.MaxElements"/> elements. NaN/Inf in inputs or parameters propagate
/// into the kernel, as in Neural Tangents, unless <see cref="FiniteChecks.Enable"/> is in effect (then
/// <see cref="NonFiniteException"/>). An empty batch (x1 of shape (0, …)) gives an empty kernel ((0, N2) with the
/// default axes), as NumPy/JAX do.
/// </para>
/// </summary>
public static partial class Empirical
{
    /// <summary>
    /// Empirical NNGP <c>K = f(x1)·f(x2)ᵀ</c> traced over <paramref name="traceAxes"/> (a mean) and diagonal over
    /// <paramref name="diagonalAxes"/>. Mirrors <c>nt.empirical_nngp_fn(f, trace_axes=(-1,), diagonal_axes=())</c>.
    /// </summary>
    /// <param name="f">The function; its output must have the same rank for x1 and x2.</param>
    /// <param name="traceAxes">Output axes to contract and average; default <c>[-1]</c>.</param>
    /// <param name="diagonalAxes">Output axes kept once (x1 and x2 sizes must match); default <c>[]</c>.</param>
    /// <returns>A <see cref="KernelFunction"/> (errors as described on <see cref="Empirical"/>).</returns>
    public static KernelFunction NngpFn(ApplyFn f, int[]? traceAxes = null, int[]? diagonalAxes = null) =>
        NngpFn(f, traceAxes, diagonalAxes, null);

    /// <summary><see cref="NngpFn(ApplyFn, int[], int[])"/> with a memory budget, tiles over examples, progress and
    /// cancellation (<see cref="KernelOptions"/>; null = defaults). The returned function throws
    /// <see cref="KernelMemoryException"/> before any work when the kernel cannot be computed within the budget.</summary>
    public static KernelFunction NngpFn(ApplyFn f, int[]? traceAxes, int[]? diagonalAxes, KernelOptions? options) =>
        Single(NngpFn(ToMulti(f), traceAxes, diagonalAxes, options));

    /// <summary><see cref="NngpFn(ApplyFn, int[], int[])"/> for several inputs and outputs: one kernel per output.</summary>
    public static MultiKernelFunction NngpFn(MultiApplyFn f, int[]? traceAxes = null, int[]? diagonalAxes = null) =>
        NngpFn(f, traceAxes, diagonalAxes, null);

    /// <summary><see cref="NngpFn(MultiApplyFn, int[], int[])"/> with <see cref="KernelOptions"/>.</summary>
    public static MultiKernelFunction NngpFn(MultiApplyFn f, int[]? traceAxes, int[]? diagonalAxes, KernelOptions? options)
    {
        var kernels = Kernels(f, traceAxes, diagonalAxes, null, NtkImplementation.JacobianContraction, SdRules.All, options);
        return (x1, x2, p) => kernels(x1, x2, new[] { KernelKind.Nngp }, p).Select(e => e.Nngp!).ToArray();
    }

    /// <summary>
    /// Empirical NTK <c>Θ = Σ_θ ∂f(x1)/∂θ · ∂f(x2)/∂θ</c> (summed over every parameter leaf, weight 1), traced and
    /// diagonal as <see cref="NngpFn(ApplyFn, int[], int[])"/>. Mirrors <c>nt.empirical_ntk_fn(f, trace_axes,
    /// diagonal_axes, vmap_axes, implementation)</c>.
    /// </summary>
    /// <param name="f">The function.</param>
    /// <param name="traceAxes">Default <c>[-1]</c>.</param>
    /// <param name="diagonalAxes">Default <c>[]</c>.</param>
    /// <param name="vmapAxes">The batch axis of x and f(x) when examples do not interact (see <see cref="VmapAxes"/>);
    /// null (default) makes no such assumption. Only speed and memory change.</param>
    /// <param name="implementation">NTK method; see <see cref="NtkImplementation"/>.</param>
    /// <returns>A <see cref="KernelFunction"/>; errors as described on <see cref="Empirical"/>, and
    /// <see cref="ArgumentOutOfRangeException"/> for an unknown implementation value.</returns>
    public static KernelFunction NtkFn(ApplyFn f, int[]? traceAxes = null, int[]? diagonalAxes = null, VmapAxes? vmapAxes = null,
        NtkImplementation implementation = NtkImplementation.JacobianContraction) =>
        NtkFn(f, traceAxes, diagonalAxes, vmapAxes, implementation, null);

    /// <summary>
    /// <see cref="NtkFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/> with a memory budget, tiles over
    /// examples (<c>nt.batch</c>), progress and cancellation (<see cref="KernelOptions"/>; null = defaults: a budget
    /// of <see cref="MemoryBudget.DefaultBytes"/>, tiles only when the budget needs them and <paramref name="vmapAxes"/>
    /// is given). Every implementation is estimated at its tile size; AUTO chooses with those costs. The returned
    /// function throws <see cref="KernelMemoryException"/> before any work when even the smallest tile does not fit.
    /// </summary>
    public static KernelFunction NtkFn(ApplyFn f, int[]? traceAxes, int[]? diagonalAxes, VmapAxes? vmapAxes,
        NtkImplementation implementation, KernelOptions? options) =>
        Single(NtkFn(ToMulti(f), traceAxes, diagonalAxes, vmapAxes, implementation, SdRules.All, options));

    /// <summary><see cref="NtkFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/> for several inputs and outputs:
    /// one kernel per output (no cross terms, docs/conventions.md#outputs).</summary>
    public static MultiKernelFunction NtkFn(MultiApplyFn f, int[]? traceAxes = null, int[]? diagonalAxes = null, VmapAxes? vmapAxes = null,
        NtkImplementation implementation = NtkImplementation.JacobianContraction) => NtkFn(f, traceAxes, diagonalAxes, vmapAxes, implementation, SdRules.All, null);

    /// <summary><see cref="NtkFn(MultiApplyFn, int[], int[], VmapAxes, NtkImplementation)"/> with <see cref="KernelOptions"/>.</summary>
    public static MultiKernelFunction NtkFn(MultiApplyFn f, int[]? traceAxes, int[]? diagonalAxes, VmapAxes? vmapAxes,
        NtkImplementation implementation, KernelOptions? options) => NtkFn(f, traceAxes, diagonalAxes, vmapAxes, implementation, SdRules.All, options);

    /// <summary>Structured derivatives with NT's private rule switches (tests and ablation benchmarks).</summary>
    internal static KernelFunction NtkFn(ApplyFn f, int[]? traceAxes, int[]? diagonalAxes, VmapAxes? vmapAxes, SdRules rules) =>
        Single(NtkFn(ToMulti(f), traceAxes, diagonalAxes, vmapAxes, NtkImplementation.StructuredDerivatives, rules, null));

    private static MultiKernelFunction NtkFn(MultiApplyFn f, int[]? traceAxes, int[]? diagonalAxes, VmapAxes? vmapAxes,
        NtkImplementation implementation, SdRules rules, KernelOptions? options)
    {
        var kernels = Kernels(f, traceAxes, diagonalAxes, vmapAxes, implementation, rules, options);
        return (x1, x2, p) => kernels(x1, x2, new[] { KernelKind.Ntk }, p).Select(e => e.Ntk!).ToArray();
    }

    /// <summary>
    /// Both kernels from one function (<c>nt.empirical_kernel_fn</c>): the returned function takes
    /// <c>(x1, x2, get, params)</c>; <c>get</c> lists the kernels wanted (null = NNGP then NTK; order kept) and only
    /// those are computed. <paramref name="vmapAxes"/> and <paramref name="implementation"/> apply to the NTK only.
    /// The returned function throws <see cref="ArgumentException"/> when <c>get</c> is empty or repeats a kernel.
    /// </summary>
    public static KernelsFunction KernelFn(ApplyFn f, int[]? traceAxes = null, int[]? diagonalAxes = null, VmapAxes? vmapAxes = null,
        NtkImplementation implementation = NtkImplementation.JacobianContraction) =>
        KernelFn(f, traceAxes, diagonalAxes, vmapAxes, implementation, null);

    /// <summary><see cref="KernelFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/> with <see cref="KernelOptions"/>
    /// (one budget and one tile plan for all kernels of <c>get</c>).</summary>
    public static KernelsFunction KernelFn(ApplyFn f, int[]? traceAxes, int[]? diagonalAxes, VmapAxes? vmapAxes,
        NtkImplementation implementation, KernelOptions? options)
    {
        var multi = KernelFn(ToMulti(f), traceAxes, diagonalAxes, vmapAxes, implementation, options);
        return (x1, x2, get, p) =>
        {
            ArgumentNullException.ThrowIfNull(x1);
            return multi(new[] { x1 }, x2 is null ? null : new[] { x2 }, get, p)[0];
        };
    }

    /// <summary><see cref="KernelFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/> for several inputs and outputs.</summary>
    public static MultiKernelsFunction KernelFn(MultiApplyFn f, int[]? traceAxes = null, int[]? diagonalAxes = null, VmapAxes? vmapAxes = null,
        NtkImplementation implementation = NtkImplementation.JacobianContraction) =>
        KernelFn(f, traceAxes, diagonalAxes, vmapAxes, implementation, null);

    /// <summary><see cref="KernelFn(MultiApplyFn, int[], int[], VmapAxes, NtkImplementation)"/> with <see cref="KernelOptions"/>.</summary>
    public static MultiKernelsFunction KernelFn(MultiApplyFn f, int[]? traceAxes, int[]? diagonalAxes, VmapAxes? vmapAxes,
        NtkImplementation implementation, KernelOptions? options) =>
        Kernels(f, traceAxes, diagonalAxes, vmapAxes, implementation, SdRules.All, options);

    /// <summary>
    /// Plans a kernel as tiles over examples without computing it: the counterpart of <c>nt.batch</c> whose output
    /// need not fit in memory (see <see cref="TiledKernel.WriteNpy"/>, which streams tiles into an .npy file,
    /// resumably). The whole kernel does not count against the budget, only one tile's computation; the tile size
    /// is <see cref="KernelOptions.BatchSize"/> or the largest that fits (with <paramref name="vmapAxes"/>).
    /// </summary>
    /// <exception cref="KernelMemoryException">Even the smallest tile does not fit the budget (nothing is computed).</exception>
    /// <exception cref="ArgumentException">As for <see cref="KernelFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/>.</exception>
    public static TiledKernel Tiled(ApplyFn f, Tensor x1, Tensor? x2, Params parameters, IReadOnlyList<KernelKind>? get = null,
        int[]? traceAxes = null, int[]? diagonalAxes = null, VmapAxes? vmapAxes = null,
        NtkImplementation implementation = NtkImplementation.JacobianContraction, KernelOptions? options = null) =>
        Plan(f, x1, x2, parameters, get, traceAxes, diagonalAxes, vmapAxes, implementation, options, kernelInMemory: false);

    /// <summary>As <see cref="Tiled"/>, planned for <see cref="TiledKernel.Compute"/>: the kernels are held in memory,
    /// so they count against the budget and the tiles are sized to what is left (what <c>nt kernel --out K.npz</c> runs).</summary>
    internal static TiledKernel TiledInMemory(ApplyFn f, Tensor x1, Tensor? x2, Params parameters, IReadOnlyList<KernelKind> get,
        int[]? traceAxes, int[]? diagonalAxes, VmapAxes? vmapAxes, NtkImplementation implementation, KernelOptions? options) =>
        Plan(f, x1, x2, parameters, get, traceAxes, diagonalAxes, vmapAxes, implementation, options, kernelInMemory: true);

    private static TiledKernel Plan(ApplyFn f, Tensor x1, Tensor? x2, Params parameters, IReadOnlyList<KernelKind>? get,
        int[]? traceAxes, int[]? diagonalAxes, VmapAxes? vmapAxes, NtkImplementation implementation, KernelOptions? options, bool kernelInMemory)
    {
        ArgumentNullException.ThrowIfNull(x1);
        var traced = new TracedApply(ToMulti(f));
        var spec = KernelSpec.Resolve(traceAxes, diagonalAxes, vmapAxes, implementation, options);
        var xs1 = new[] { x1 }; var xs2 = x2 is null ? null : new[] { x2 };
        var kinds = CheckGet(get ?? new[] { KernelKind.Ntk });
        var axes = Prepare(traced, xs1, xs2, parameters, spec);
        if (kinds.Contains(KernelKind.Ntk)) CheckVmapAxes(traced, parameters, spec.VmapAxes, xs1, xs2);
        // Held in memory, a kernel larger than one tensor can be is the reason to refuse, whatever the budget.
        if (kernelInMemory) CheckKernelSizes(traced, xs1, xs2, parameters, axes);
        var job = KernelJob.Create(traced, parameters, xs1, xs2, kinds, axes, spec, inMemory: kernelInMemory);
        return new TiledKernel(job, spec.Options);
    }

    private static MultiKernelsFunction Kernels(MultiApplyFn f, int[]? traceAxes, int[]? diagonalAxes, VmapAxes? vmapAxes,
        NtkImplementation implementation, SdRules rules, KernelOptions? options)
    {
        var traced = new TracedApply(f);
        var spec = KernelSpec.Resolve(traceAxes, diagonalAxes, vmapAxes, implementation, options, rules);
        // Buffers of dead intermediates, reused by later equations and later calls (thread-safe; see BufferPool).
        var pool = new BufferPool(0);
        return (x1, x2, get, p) =>
        {
            var kinds = CheckGet(get ?? new[] { KernelKind.Nngp, KernelKind.Ntk });
            var axes = Prepare(traced, x1, x2, p, spec);
            if (EmptyKernels(traced, x1, x2, p, axes) is { } empty)
                return empty.Select(k => new EmpiricalKernel(kinds.Select(kind => (kind, k)).ToArray())).ToArray();
            CheckKernelSizes(traced, x1, x2, p, axes);
            if (kinds.Contains(KernelKind.Ntk)) CheckVmapAxes(traced, p, spec.VmapAxes, x1, x2);
            var job = KernelJob.Create(traced, p, x1, x2, kinds, axes, spec, inMemory: true);
            // Free and rented buffers kept within the call's estimated peak: memory the estimate already counts. A pool
            // the caller made ambient (tests, A/B runs with BufferPool.Off) takes precedence.
            bool own = BufferPool.Current is null;
            if (own) pool.CapBytes = (long)Math.Min(job.EstimatedBytes, long.MaxValue / 2);
            Tensor[] flat;
            using (own ? BufferPool.Use(pool) : null)
                flat = TiledKernel.Run(job, job.Plan, spec.Options, inMemoryPlanned: job.Plan is not null);
            int outputs = axes.Length;
            if (FiniteChecks.IsEnabled)
                for (int i = 0; i < flat.Length; i++)
                    FiniteChecks.ThrowIfNonFinite(flat[i], $"the {kinds[i / outputs].ToString().ToUpperInvariant()}" + (outputs > 1 ? $" of output {i % outputs}" : ""));
            return Enumerable.Range(0, outputs)
                .Select(j => new EmpiricalKernel(kinds.Select((k, i) => (k, flat[i * outputs + j])).ToArray())).ToArray();
        };
    }

    private static KernelKind[] CheckGet(IReadOnlyList<KernelKind> kinds)
    {
        if (kinds.Count == 0) throw new ArgumentException("\"get\" must be non-empty.", "get");
        foreach (var bad in kinds.Where(k => !Enum.IsDefined(k)))
            throw new ArgumentOutOfRangeException("get", $"\"get\" has the undefined kernel kind {(int)bad}; expected {KernelKind.Nngp} or {KernelKind.Ntk}");
        if (kinds.Distinct().Count() != kinds.Count) throw new ArgumentException($"\"get\" must not repeat a kernel, got [{string.Join(", ", kinds)}]", "get");
        return kinds.ToArray();
    }

    /// <summary>
    /// NTK-vector products without materialising the NTK (<c>nt.empirical_ntk_vp_fn</c>, docs/conventions.md#implementations): returns
    /// <c>v ↦ J1·(J2ᵀ·v)</c> for cotangents v shaped like f(x2) (f(x1) when <paramref name="x2"/> is null),
    /// giving results shaped like f(x1). No trace, no diagonal, no normalisation. The forward passes run once here;
    /// each call costs one VJP and one JVP.
    /// </summary>
    /// <exception cref="ArgumentException">(from the returned function) A cotangent of the wrong shape or dtype.</exception>
    public static Func<Tensor, Tensor> NtkVpFn(ApplyFn f, Tensor x1, Tensor? x2, Params parameters)
    {
        ArgumentNullException.ThrowIfNull(x1);
        ArgumentNullException.ThrowIfNull(parameters);
        var traced = new TracedApply(f);
        CheckDTypes(new[] { x1 }, x2 is null ? null : new[] { x2 }, parameters);
        var xs1 = new[] { x1 }; var xs2 = new[] { x2 ?? x1 };
        FiniteChecks.CheckInputs(xs1, nameof(x1));
        if (x2 is not null) FiniteChecks.CheckInputs(xs2, nameof(x2));
        FiniteChecks.CheckParams(parameters);
        TraceTypes(traced, parameters, xs1, nameof(x1));
        if (x2 is not null) TraceTypes(traced, parameters, xs2, nameof(x2));
        var vp = NtkVectorProducts.VpGraph(traced, parameters, xs1.Select(TensorType.Of).ToArray(), xs2.Select(TensorType.Of).ToArray(), 0);
        var ctType = vp.Inputs[^1].Type;
        var staged = Ad.Linearize(vp, Masks.Only(vp.Inputs.Count, vp.Inputs.Count - 1));
        var residuals = staged.Bind(TracedApply.Inputs(parameters, xs1.Concat(xs2).ToArray()));
        return v =>
        {
            ArgumentNullException.ThrowIfNull(v);
            if (v.Shape != ctType.Shape || v.DType != ctType.DType)
                throw new ArgumentException($"cotangents must be shaped like f(x2) (f(x1) when x2 is null): expected {ctType}, got {TensorType.Of(v)}", "cotangents");
            FiniteChecks.CheckInputs(new[] { v }, "cotangents");
            var r = staged.Apply(residuals, v)[0];
            if (FiniteChecks.IsEnabled) FiniteChecks.ThrowIfNonFinite(r, "the NTK-vector product");
            return r;
        };
    }

    /// <summary>
    /// The AUTO cost model's estimates for computing the NTK of <paramref name="f"/> on these inputs: FLOPs and peak
    /// memory of JacobianContraction, NtkVectorProducts and StructuredDerivatives, derived from the traced graphs
    /// (nothing is evaluated), and the implementation <see cref="NtkImplementation.Auto"/> picks: the fewest FLOPs
    /// among those within <paramref name="memoryBudgetBytes"/> (default 4 GiB). Several outputs add up.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="NtkFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/>.</exception>
    public static NtkExplanation ExplainNtk(ApplyFn f, Tensor x1, Tensor? x2, Params parameters, int[]? traceAxes = null, int[]? diagonalAxes = null,
        VmapAxes? vmapAxes = null, double memoryBudgetBytes = CostModel.DefaultBudgetBytes) =>
        ExplainPlan(f, x1, x2, parameters, traceAxes, diagonalAxes, vmapAxes,
            new KernelOptions { MemoryBudget = (long)Math.Clamp(memoryBudgetBytes, 1, long.MaxValue / 2) }, kernelInMemory: true);

    /// <summary>The estimates for the plan a run with these <paramref name="options"/> (budget, batch size) follows:
    /// with <paramref name="kernelInMemory"/> false the kernel goes to a file tile by tile (<see cref="Tiled"/>), so it
    /// does not count against the budget and the tiles can be larger (what <c>nt kernel --explain --out K.npy</c> shows).</summary>
    internal static NtkExplanation ExplainPlan(ApplyFn f, Tensor x1, Tensor? x2, Params parameters, int[]? traceAxes, int[]? diagonalAxes,
        VmapAxes? vmapAxes, KernelOptions options, bool kernelInMemory)
    {
        var traced = new TracedApply(ToMulti(f));
        var spec = KernelSpec.Resolve(traceAxes, diagonalAxes, vmapAxes, NtkImplementation.Auto, options);
        var xs1 = new[] { x1 }; var xs2 = x2 is null ? null : new[] { x2 };
        var axes = Prepare(traced, xs1, xs2, parameters, spec);
        if (EmptyKernels(traced, xs1, xs2, parameters, axes) is not null)
            return new NtkExplanation(NtkImplementation.JacobianContraction,
                NtkImplementations.All.Select(m => new NtkCostEstimate(m.Kind, 0, 0, true)).ToArray(), options.Budget);
        CheckVmapAxes(traced, parameters, vmapAxes, xs1, xs2);
        return KernelJob.Create(traced, parameters, xs1, xs2, new[] { KernelKind.Ntk }, axes, spec,
            inMemory: kernelInMemory, explainOnly: true).Explanation!;
    }

    /// <summary>Parses <c>"ntk"</c>, <c>"nngp"</c> or <c>"ntk,nngp"</c> (case-insensitive) into a <c>get</c> list.</summary>
    /// <exception cref="ArgumentException">Unknown kernel name.</exception>
    public static KernelKind[] ParseGet(string get) => get.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(s => s.ToLowerInvariant() switch
        {
            "ntk" => KernelKind.Ntk,
            "nngp" => KernelKind.Nngp,
            _ => throw new ArgumentException($"unknown kernel '{s}' in get; expected 'ntk' or 'nngp'", nameof(get)),
        }).ToArray();

    private static MultiApplyFn ToMulti(ApplyFn f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return (p, xs) => new[] { f(p, xs[0]) };
    }

    private static KernelFunction Single(MultiKernelFunction k) =>
        (x1, x2, p) =>
        {
            ArgumentNullException.ThrowIfNull(x1);
            return k(new[] { x1 }, x2 is null ? null : new[] { x2 }, p)[0];
        };

    private static void CheckDTypes(Tensor[] x1, Tensor[]? x2, Params p)
    {
        var dt = x1.Length > 0 ? x1[0].DType : DType.Float64;
        foreach (var x in x1.Concat(x2 ?? Array.Empty<Tensor>()))
            if (x.DType != dt) throw new ArgumentException($"inputs must share one dtype, got {dt.Name()} and {x.DType.Name()}", nameof(x2));
        foreach (var kv in p)
            if (kv.Value.DType != dt)
                throw new ArgumentException($"parameter '{kv.Key}' is {kv.Value.DType.Name()} but the inputs are {dt.Name()}; convert with Params.AsType", "parameters");
    }

    /// <summary>f's output types for these inputs. A shape error raised while tracing f (inside a layer) is re-raised
    /// naming the kernel argument that caused it; a missing parameter becomes an ArgumentException on
    /// <c>parameters</c>.</summary>
    private static TensorType[] TraceTypes(TracedApply f, Params p, Tensor[] xs, string name)
    {
        var types = xs.Select(TensorType.Of).ToArray();
        try { return f.OutputTypes(p, types); }
        catch (KeyNotFoundException e) { throw new ArgumentException(e.Message, "parameters", e); }
        catch (ArgumentException e) when (e.ParamName != name)
        {
            // x1 is traced first, so a parameter that does not fit the network surfaces here too.
            var what = name == "x1" ? "x1 (or the parameters)" : name;
            throw new ArgumentException($"f cannot be applied to {what} of type {string.Join(", ", types.Select(t => t.ToString()))}: {e.Message}", name, e);
        }
    }

    /// <summary>
    /// When every kernel has no elements (an empty batch: x1 of shape (0, …) gives a (0, N2) kernel, as NumPy and JAX
    /// do), those empty kernels in f's dtype, without running an implementation; otherwise null.
    /// </summary>
    private static Tensor[]? EmptyKernels(TracedApply f, Tensor[] x1, Tensor[]? x2, Params p, KernelAxes[] axes)
    {
        if (x1.All(x => x.Size > 0) && (x2 is null || x2.All(x => x.Size > 0))) return null;
        var a = f.OutputTypes(p, x1.Select(TensorType.Of).ToArray());
        var b = x2 is null ? a : f.OutputTypes(p, x2.Select(TensorType.Of).ToArray());
        var shapes = axes.Select((ax, j) => ax.KernelShape(a[j].Shape, b[j].Shape)).ToArray();
        return shapes.All(s => s.LongSize == 0) ? shapes.Select((s, j) => Tensor.Zeros(s, a[j].DType)).ToArray() : null;
    }

    /// <summary>An in-memory kernel is one tensor: refuse one over <see cref="TensorSizeException.MaxElements"/> elements
    /// by name (a disk-backed <see cref="Tiled"/> kernel may be larger).</summary>
    private static void CheckKernelSizes(TracedApply f, Tensor[] x1, Tensor[]? x2, Params p, KernelAxes[] axes)
    {
        var a = f.OutputTypes(p, x1.Select(TensorType.Of).ToArray());
        var b = x2 is null ? a : f.OutputTypes(p, x2.Select(TensorType.Of).ToArray());
        for (int j = 0; j < axes.Length; j++)
            TensorSizeException.Check(axes.Length == 1 ? "the kernel" : $"the kernel of output {j}", axes[j].KernelShape(a[j].Shape, b[j].Shape),
                hint: "write it to disk in tiles (Empirical.Tiled, nt kernel --out k.npy)");
    }

    /// <summary>
    /// With vmap axes, f traced on one example of x1 and x2 (size 1 on each batch axis), so that a vmap axis that is
    /// not the batch axis is reported as a vmap_axes error before any work, not as a shape error inside f.
    /// </summary>
    private static void CheckVmapAxes(TracedApply f, Params p, VmapAxes? vmapAxes, Tensor[] x1, Tensor[]? x2)
    {
        if (vmapAxes is null) return;
        foreach (var (xs, name) in x2 is null ? new[] { (x1, "x1") } : new[] { (x1, "x1"), (x2, "x2") })
        {
            var b = Batching.Resolve(vmapAxes, xs, f.OutputTypes(p, xs.Select(TensorType.Of).ToArray()));
            if (b is null) continue;
            var types = b.ExampleTypes(xs);
            try { f.OutputTypes(p, types); }
            catch (ArgumentException e) when (e.ParamName != "vmapAxes")
            {
                // An input that is only its batch axis (shape (N,)) has no features per example: that is the input's
                // fault, not the vmap axis's (a Dense net wants (N, features)).
                if (xs.Select((x, i) => (x, i)).FirstOrDefault(t => t.x.Rank == 1 && b.In[t.i] == 0) is { x: { } only } hit)
                    throw new ArgumentException($"{(xs.Length > 1 ? $"input {hit.i}: " : "")}expected examples with features, shape (N, …) with the batch " +
                        $"on axis 0, got shape {only.Shape}, which is the batch axis alone (one feature per example: reshape to ({only.Shape[0]}, 1))", name, e);
                throw new ArgumentException($"vmap_axes: f cannot be applied to one example of {name} ({string.Join(", ", types.Select(t => t.ToString()))}: " +
                    $"size 1 on the batch axis {string.Join(", ", b.In.Where(a => a is not null))}): {e.Message}; is that the batch axis?", "vmapAxes", e);
            }
        }
    }

    /// <summary>Validates inputs and axes from the traced output types only — before any numeric work.</summary>
    private static KernelAxes[] Prepare(TracedApply f, Tensor[] x1, Tensor[]? x2, Params p, KernelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(x1);
        ArgumentNullException.ThrowIfNull(p);
        if (x2 is not null && x2.Length != x1.Length)
            throw new ArgumentException($"x1 has {x1.Length} inputs but x2 has {x2.Length}", nameof(x2));
        CheckDTypes(x1, x2, p);
        FiniteChecks.CheckInputs(x1, nameof(x1));
        if (x2 is not null) FiniteChecks.CheckInputs(x2, nameof(x2));
        FiniteChecks.CheckParams(p);
        var a = TraceTypes(f, p, x1, nameof(x1));
        var b = x2 is null ? a : TraceTypes(f, p, x2, nameof(x2));
        // Outputs of different ranks usually mean x2 lacks (or adds) an axis: say so in the inputs' terms.
        if (x2 is not null && a.Zip(b).Any(t => t.First.Rank != t.Second.Rank))
            for (int i = 0; i < x1.Length; i++)
                if (x1[i].Rank != x2[i].Rank)
                    throw new ArgumentException($"{(x1.Length > 1 ? $"input {i}: " : "")}expected the axes of x1 {x1[i].Shape} (the batch axis first, " +
                        $"then the same feature axes), got shape {x2[i].Shape}{(x2[i].Rank == 1 && x1[i].Rank == 2 ? $" (one example with these features is (1, {x2[i].Shape[0]}))" : "")}", nameof(x2));
        return a.Select((ta, j) =>
        {
            var axes = KernelAxes.Canonicalize(spec.TraceAxes, spec.DiagonalAxes, ta.Rank);
            axes.Validate(ta.Shape, b[j].Shape);
            return axes;
        }).ToArray();
    }
}
