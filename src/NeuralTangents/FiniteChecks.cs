namespace NeuralTangents;

/// <summary>
/// Optional checks that inputs, parameters, cotangents and results are finite — off by default, as in Neural
/// Tangents and JAX, where a NaN or Inf simply propagates into the kernel (JAX's closest switch is the global
/// <c>jax_debug_nans</c> flag). Inside <see cref="Enable"/> every kernel function of <see cref="Empirical"/>
/// (<c>NngpFn</c>, <c>NtkFn</c>, <c>KernelFn</c>, <c>NtkVpFn</c>) checks x1, x2 and the parameters before any work
/// and its result (and for <c>NtkVpFn</c> the cotangents) after, throwing <see cref="NonFiniteException"/>
/// naming the array and the first offending index. The scope is an <see cref="AsyncLocal{T}"/>, like
/// <see cref="ComputeBackend.Use"/>: it flows into tasks started inside it and never leaks to other threads.
/// <code>
/// using (FiniteChecks.Enable()) k = kernelFn(x1, x2, get, params);   // NonFiniteException on NaN/Inf
/// </code>
/// The checks cost one pass over each array (no copy for contiguous arrays).
/// </summary>
public static class FiniteChecks
{
    private static readonly AsyncLocal<bool> Ambient = new();

    /// <summary>Whether the checks are on for the current call flow.</summary>
    public static bool IsEnabled => Ambient.Value;

    /// <summary>Turns the checks on until the returned scope is disposed (scopes nest).</summary>
    public static IDisposable Enable() => new Scope(true);

    /// <summary>Turns the checks off until the returned scope is disposed (e.g. inside an enabled scope).</summary>
    public static IDisposable Disable() => new Scope(false);

    /// <summary>The first non-finite value of <paramref name="t"/> in C order (its index and value) and how many
    /// there are, or null when every value is finite.</summary>
    public static (int[] Index, double Value, long Count)? FindNonFinite(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Size == 0) return null;
        var c = t.Contiguous();
        return c.DType == DType.Float32 ? Find(c.Span<float>(), t.Shape) : Find(c.Span<double>(), t.Shape);
    }

    /// <summary>Throws <see cref="NonFiniteException"/> when <paramref name="t"/> has a NaN or Inf (always, whether or not enabled).</summary>
    public static void ThrowIfNonFinite(Tensor t, string arrayName, string? paramName = null)
    {
        if (FindNonFinite(t) is { } bad) throw new NonFiniteException(arrayName, bad.Index, bad.Value, bad.Count, paramName);
    }

    /// <summary>When enabled: every array of <paramref name="xs"/> (named <paramref name="name"/>, with <c>[i]</c> when several).</summary>
    internal static void CheckInputs(IReadOnlyList<Tensor> xs, string name)
    {
        if (!IsEnabled) return;
        for (int i = 0; i < xs.Count; i++) ThrowIfNonFinite(xs[i], xs.Count == 1 ? name : $"{name}[{i}]", name);
    }

    /// <summary>When enabled: every parameter array.</summary>
    internal static void CheckParams(Params p)
    {
        if (!IsEnabled) return;
        foreach (var (k, t) in p) ThrowIfNonFinite(t, $"parameter {k}", "parameters");
    }

    /// <summary>When enabled: results, named <paramref name="name"/>.</summary>
    internal static T[] CheckResults<T>(T[] results, Func<T, Tensor> tensor, string name)
    {
        if (!IsEnabled) return results;
        for (int i = 0; i < results.Length; i++) ThrowIfNonFinite(tensor(results[i]), results.Length == 1 ? name : $"{name} of output {i}");
        return results;
    }

    private static (int[], double, long)? Find<T>(ReadOnlySpan<T> data, Shape shape) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int first = -1;
        long count = 0;
        for (int i = 0; i < data.Length; i++)
            if (!T.IsFinite(data[i]))
            {
                if (first < 0) first = i;
                count++;
            }
        if (first < 0) return null;
        var index = new int[shape.Rank];
        for (int a = shape.Rank - 1, rest = first; a >= 0; a--) { index[a] = rest % shape[a]; rest /= shape[a]; }
        return (index, double.CreateTruncating(data[first]), count);
    }

    private sealed class Scope : IDisposable
    {
        private readonly bool _previous;
        private bool _disposed;

        public Scope(bool value) { _previous = Ambient.Value; Ambient.Value = value; }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Ambient.Value = _previous;
        }
    }
}
