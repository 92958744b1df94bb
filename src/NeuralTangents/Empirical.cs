using NeuralTangents.Kernels;

namespace NeuralTangents;

/// <summary>
/// Finite-width (empirical) NNGP and NTK kernels of any function <c>f(params, x)</c> written with the library's
/// tensor operations — the counterpart of <c>neural_tangents.empirical</c> (<c>empirical_nngp_fn</c>,
/// <c>empirical_ntk_fn</c>, <c>empirical_kernel_fn</c>; Novak, Sohl-Dickstein, Schoenholz, ICML 2022).
/// <para>
/// Kernel layout (spec §2): for output axes in order, a trace axis is contracted (and the kernel divided by its
/// size: a mean), a diagonal axis appears once at its own position, any other axis appears as the pair
/// (x1 axis, x2 axis). E.g. outputs (N1, 10) and (N2, 10) with the default <c>traceAxes = [-1]</c> give (N1, N2);
/// with <c>traceAxes = []</c> they give (N1, N2, 10, 10).
/// </para>
/// </summary>
public static partial class Empirical
{
    private static readonly int[] DefaultTrace = { -1 };

    /// <summary>
    /// Empirical NNGP <c>K = f(x1)·f(x2)ᵀ</c> traced over <paramref name="traceAxes"/> (a mean) and diagonal over
    /// <paramref name="diagonalAxes"/>. Mirrors <c>nt.empirical_nngp_fn(f, trace_axes=(-1,), diagonal_axes=())</c>.
    /// </summary>
    /// <param name="f">The function; its output must have the same rank for x1 and x2.</param>
    /// <param name="traceAxes">Output axes to contract and average; default <c>[-1]</c>.</param>
    /// <param name="diagonalAxes">Output axes kept once (x1 and x2 sizes must match); default <c>[]</c>.</param>
    /// <returns>
    /// A <see cref="KernelFunction"/>. It throws <see cref="ArgumentException"/> (before computing anything) when an
    /// axis is out of range for the output rank (<see cref="ArgumentOutOfRangeException"/>), trace and diagonal
    /// axes overlap, or f(x1) and f(x2) differ in size on a trace or diagonal axis; and when x1, x2 and the
    /// parameters differ in dtype.
    /// </returns>
    public static KernelFunction NngpFn(ApplyFn f, int[]? traceAxes = null, int[]? diagonalAxes = null)
    {
        var traced = new TracedApply(f);
        var t = traceAxes ?? DefaultTrace;
        var d = diagonalAxes ?? Array.Empty<int>();
        return (x1, x2, p) =>
        {
            var axes = Prepare(traced, x1, x2, p, t, d);
            var a = traced.Evaluate(p, x1);
            var b = x2 is null ? a : traced.Evaluate(p, x2);
            return axes.Contract(a, b, 0);
        };
    }

    /// <summary>
    /// Empirical NTK <c>Θ = Σ_θ ∂f(x1)/∂θ · ∂f(x2)/∂θ</c> (summed over every parameter leaf, weight 1), traced and
    /// diagonal as <see cref="NngpFn"/>. Mirrors <c>nt.empirical_ntk_fn(f, trace_axes, diagonal_axes, vmap_axes,
    /// implementation)</c>.
    /// </summary>
    /// <param name="f">The function.</param>
    /// <param name="traceAxes">Default <c>[-1]</c>.</param>
    /// <param name="diagonalAxes">Default <c>[]</c>.</param>
    /// <param name="vmapAxes">
    /// The batch axis of x and f(x) when examples do not interact (no batch norm): the Jacobian is then computed per
    /// example, which only changes speed and memory. Null (default) makes no such assumption. A network that couples
    /// examples gives a different, per-example result under <paramref name="vmapAxes"/>, as in Neural Tangents.
    /// </param>
    /// <param name="implementation">NTK method; see <see cref="NtkImplementation"/>.</param>
    /// <returns>A <see cref="KernelFunction"/>; errors as for <see cref="NngpFn"/>, and
    /// <see cref="NotSupportedException"/> for an implementation not available yet.</returns>
    public static KernelFunction NtkFn(ApplyFn f, int[]? traceAxes = null, int[]? diagonalAxes = null, int? vmapAxes = null,
        NtkImplementation implementation = NtkImplementation.JacobianContraction)
    {
        var traced = new TracedApply(f);
        var t = traceAxes ?? DefaultTrace;
        var d = diagonalAxes ?? Array.Empty<int>();
        CheckImplementation(implementation);
        return (x1, x2, p) =>
        {
            var axes = Prepare(traced, x1, x2, p, t, d);
            return JacobianContraction.Ntk(traced, p, x1, x2, axes, vmapAxes);
        };
    }

    /// <summary>
    /// Both kernels from one function (<c>nt.empirical_kernel_fn</c>): the returned function takes
    /// <c>(x1, x2, get, params)</c>; <c>get</c> lists the kernels wanted (null = NNGP then NTK; order kept) and only
    /// those are computed. <paramref name="vmapAxes"/> and <paramref name="implementation"/> apply to the NTK only.
    /// </summary>
    /// <exception cref="ArgumentException">(from the returned function) <c>get</c> is empty or repeats a kernel; and as <see cref="NtkFn"/>.</exception>
    public static KernelsFunction KernelFn(ApplyFn f, int[]? traceAxes = null, int[]? diagonalAxes = null, int? vmapAxes = null,
        NtkImplementation implementation = NtkImplementation.JacobianContraction)
    {
        var nngp = NngpFn(f, traceAxes, diagonalAxes);
        var ntk = NtkFn(f, traceAxes, diagonalAxes, vmapAxes, implementation);
        return (x1, x2, get, p) =>
        {
            var kinds = get ?? new[] { KernelKind.Nngp, KernelKind.Ntk };
            if (kinds.Count == 0) throw new ArgumentException("\"get\" must be non-empty.", nameof(get));
            if (kinds.Distinct().Count() != kinds.Count) throw new ArgumentException($"\"get\" must not repeat a kernel, got [{string.Join(", ", kinds)}]", nameof(get));
            return new EmpiricalKernel(kinds.Select(k => (k, k == KernelKind.Nngp ? nngp(x1, x2, p) : ntk(x1, x2, p))).ToArray());
        };
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

    private static void CheckImplementation(NtkImplementation implementation)
    {
        switch (implementation)
        {
            case NtkImplementation.Auto:
            case NtkImplementation.JacobianContraction:
                return;
            case NtkImplementation.NtkVectorProducts:
            case NtkImplementation.StructuredDerivatives:
                throw new NotSupportedException($"NtkImplementation.{implementation} is not implemented yet; use JacobianContraction");
            default:
                throw new ArgumentOutOfRangeException(nameof(implementation), $"unknown NtkImplementation {(int)implementation}; expected 0..3");
        }
    }

    /// <summary>Validates inputs and axes from the traced output types only — before any numeric work.</summary>
    private static KernelAxes Prepare(TracedApply f, Tensor x1, Tensor? x2, Params p, int[] traceAxes, int[] diagonalAxes)
    {
        ArgumentNullException.ThrowIfNull(x1);
        ArgumentNullException.ThrowIfNull(p);
        if (x2 is not null && x2.DType != x1.DType)
            throw new ArgumentException($"x1 and x2 must have the same dtype, got {x1.DType.Name()} and {x2.DType.Name()}", nameof(x2));
        foreach (var kv in p)
            if (kv.Value.DType != x1.DType)
                throw new ArgumentException($"parameter '{kv.Key}' is {kv.Value.DType.Name()} but x1 is {x1.DType.Name()}; convert with Params.AsType", "parameters");
        var a = f.OutputType(p, TensorType.Of(x1)).Shape;
        var b = x2 is null ? a : f.OutputType(p, TensorType.Of(x2)).Shape;
        var axes = KernelAxes.Canonicalize(traceAxes, diagonalAxes, a.Rank);
        axes.Validate(a, b);
        return axes;
    }
}
