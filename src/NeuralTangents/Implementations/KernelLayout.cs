namespace NeuralTangents.Implementations;

/// <summary>What becomes of an output axis in the kernel (docs/conventions.md#kernel-layout).</summary>
internal enum KernelAxisKind
{
    /// <summary>Contracted (and averaged): absent from the kernel.</summary>
    Trace,
    /// <summary>Kept once, at its own position (x1 and x2 sizes equal).</summary>
    Diagonal,
    /// <summary>Kept as the pair (x1 axis, x2 axis).</summary>
    Free,
}

/// <summary>Output axis <paramref name="Axis"/> and where its x1 and x2 copies sit in the kernel: -1 for a trace axis,
/// the same position for a diagonal axis, adjacent positions for a free axis.</summary>
internal readonly record struct KernelAxis(int Axis, KernelAxisKind Kind, int X1, int X2);

/// <summary>
/// The kernel layout of one output (Neural Tangents' <c>_ntk_shape</c> / <c>_trace_and_diagonal</c>): for the output
/// axes in order, a trace axis is gone, a diagonal axis appears once, any other axis appears as the pair
/// (x1 axis, x2 axis). Derived once from the canonical axes; every consumer (kernel shape, contraction, the full-kernel
/// reduction, structured derivatives' einsum ids, tile placement) iterates this list.
/// </summary>
internal sealed class KernelLayout
{
    public IReadOnlyList<KernelAxis> Axes { get; }

    /// <summary>Rank of the kernel.</summary>
    public int KernelRank { get; }

    private KernelLayout(KernelAxis[] axes, int kernelRank) { Axes = axes; KernelRank = kernelRank; }

    /// <summary>The layout for canonical (in range, deduplicated, disjoint) trace and diagonal axes of outputs of rank <paramref name="rank"/>.</summary>
    public static KernelLayout Of(IReadOnlyCollection<int> trace, IReadOnlyCollection<int> diagonal, int rank)
    {
        var axes = new KernelAxis[rank];
        int q = 0;
        for (int ax = 0; ax < rank; ax++)
        {
            if (trace.Contains(ax)) axes[ax] = new KernelAxis(ax, KernelAxisKind.Trace, -1, -1);
            else if (diagonal.Contains(ax)) { axes[ax] = new KernelAxis(ax, KernelAxisKind.Diagonal, q, q); q++; }
            else { axes[ax] = new KernelAxis(ax, KernelAxisKind.Free, q, q + 1); q += 2; }
        }
        return new KernelLayout(axes, q);
    }

    public KernelAxis this[int outputAxis] => Axes[outputAxis];

    /// <summary>The kernel shape for outputs <paramref name="a"/> (of x1) and <paramref name="b"/> (of x2).</summary>
    public Shape KernelShape(Shape a, Shape b)
    {
        var dims = new int[KernelRank];
        foreach (var k in Axes)
            if (k.Kind != KernelAxisKind.Trace) { dims[k.X1] = a[k.Axis]; dims[k.X2] = k.Kind == KernelAxisKind.Free ? b[k.Axis] : a[k.Axis]; }
        return new Shape(dims);
    }

    /// <summary>The permutation of kernel axes that swaps x1 and x2 (a free pair's two axes; diagonal axes stay).</summary>
    public int[] SwapPermutation()
    {
        var perm = new int[KernelRank];
        foreach (var k in Axes)
            if (k.Kind != KernelAxisKind.Trace) { perm[k.X1] = k.X2; perm[k.X2] = k.X1; }
        return perm;
    }
}
