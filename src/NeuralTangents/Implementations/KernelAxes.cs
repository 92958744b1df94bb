namespace NeuralTangents.Implementations;

/// <summary>
/// The output-shape convention of Neural Tangents' empirical kernels (docs/conventions.md#kernel-layout): canonical trace/diagonal axes,
/// validation, and the contraction that lays out <c>zip(fx1.shape, fx2.shape)</c> with trace axes removed (a mean)
/// and diagonal axes kept once at their own position.
/// </summary>
internal sealed class KernelAxes
{
    public int[] Trace { get; }
    public int[] Diagonal { get; }
    public int Rank { get; }
    public KernelLayout Layout { get; }

    private KernelAxes(int[] trace, int[] diagonal, int rank)
    {
        Trace = trace; Diagonal = diagonal; Rank = rank;
        Layout = KernelLayout.Of(trace, diagonal, rank);
    }

    /// <summary>Canonicalises axes for outputs of rank <paramref name="rank"/> (mod rank, deduplicated, sorted; Neural Tangents' <c>canonicalize_axis</c>).</summary>
    public static KernelAxes Canonicalize(int[] traceAxes, int[] diagonalAxes, int rank)
    {
        var t = Canon(traceAxes, rank, nameof(traceAxes));
        var d = Canon(diagonalAxes, rank, nameof(diagonalAxes));
        var both = t.Intersect(d).ToArray();
        if (both.Length > 0)
            throw new ArgumentException($"trace_axes ({string.Join(", ", traceAxes)}) and diagonal_axes ({string.Join(", ", diagonalAxes)}) must not overlap;" +
                $" for outputs of rank {rank} both contain axis {string.Join(", ", both)}", nameof(diagonalAxes));
        return new KernelAxes(t, d, rank);
    }

    private static int[] Canon(int[] axes, int rank, string name)
    {
        foreach (var a in axes)
            if (a < -rank || a >= rank)
                throw new ArgumentOutOfRangeException(name, $"{ToSnake(name)}: axis {a} is out of range for outputs of rank {rank}" +
                    (rank == 0 ? " (use trace_axes=[] for scalar outputs)" : ""));
        return axes.Select(a => a < 0 ? a + rank : a).Distinct().OrderBy(a => a).ToArray();
    }

    /// <summary>Neural Tangents' spelling of a parameter name in messages: <c>traceAxes</c> → <c>trace_axes</c>.</summary>
    internal static string ToSnake(string n) => string.Concat(n.Select(c => char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : c.ToString()));

    /// <summary>Checks that f(x1) and f(x2) agree on every trace and diagonal axis (the other axes may differ).</summary>
    public void Validate(Shape a, Shape b)
    {
        if (a.Rank != b.Rank) throw new ArgumentException($"f(x1) has shape {a} and f(x2) has shape {b}: ranks differ", "x2");
        foreach (var (axes, name) in new[] { (Trace, "traceAxes"), (Diagonal, "diagonalAxes") })
            foreach (var ax in axes)
                if (a[ax] != b[ax])
                    throw new ArgumentException($"{ToSnake(name)}: axis {ax} has size {a[ax]} in f(x1) {a} but {b[ax]} in f(x2) {b}; " +
                        "traced and diagonal axes must have equal sizes", name);
    }

    /// <summary>The kernel shape (<c>_ntk_shape</c>, docs/conventions.md#kernel-layout).</summary>
    public Shape KernelShape(Shape a, Shape b) => Layout.KernelShape(a, b);

    /// <summary>Product of the traced sizes (the normaliser |T|).</summary>
    public double TraceSize(Shape a) => Trace.Aggregate(1.0, (acc, t) => acc * a[t]);

    /// <summary>
    /// Contracts <paramref name="a"/> = fx1-shaped tensor plus <paramref name="extra"/> trailing axes with
    /// <paramref name="b"/> likewise: the trailing axes and the trace axes are summed, diagonal axes are batched,
    /// the result is laid out as docs/conventions.md#kernel-layout and divided by |T|. Used by the NNGP (extra = 0) and the Jacobian
    /// contraction (extra = 1, the flattened parameter axis). The product runs on <paramref name="backend"/>.
    /// </summary>
    public Tensor Contract(Tensor a, Tensor b, int extra, ComputeBackend backend)
    {
        var fa = new Shape(a.Shape.Dims[..Rank]);
        var fb = new Shape(b.Shape.Dims[..Rank]);
        var dims = ContractionDims(extra);
        var k = SymmetricDot.TryDotGeneral(a, b, dims, backend) ?? backend.DotGeneral(a, b, dims);
        return Lay(k, fa, fb);
    }

    /// <summary>dot_general dimension numbers contracting the trace axes and <paramref name="extra"/> trailing axes
    /// (after the <see cref="Rank"/> output axes), batching the diagonal axes.</summary>
    public DotDimensionNumbers ContractionDims(int extra)
    {
        var contract = Trace.Concat(Enumerable.Range(Rank, extra)).ToArray();
        return new DotDimensionNumbers(contract, contract, Diagonal, Diagonal);
    }

    /// <summary>
    /// From a dot_general result laid out <c>[diagonal…, free of fx1…, free of fx2…]</c> (trace axes summed) to the
    /// kernel layout of docs/conventions.md#kernel-layout, divided by |T| of <paramref name="fa"/>. <paramref name="k"/>
    /// is consumed (scaled in place): pass only a result the caller owns.
    /// </summary>
    public Tensor Lay(Tensor k, Shape fa, Shape fb)
    {
        // dot_general output: [diagonal…, free of a…, free of b…] (each in axis order); put each at its kernel position.
        int nd = Diagonal.Length, nf = Layout.Axes.Count(x => x.Kind == KernelAxisKind.Free);
        var perm = new int[Layout.KernelRank];
        int di = 0, fi = 0;
        foreach (var x in Layout.Axes)
        {
            if (x.Kind == KernelAxisKind.Diagonal) perm[x.X1] = di++;
            else if (x.Kind == KernelAxisKind.Free) { perm[x.X1] = nd + fi; perm[x.X2] = nd + nf + fi; fi++; }
        }
        // k is the caller's own result: scaled in place before the layout copy, so the peak is two kernel-sized arrays
        // (one when the permutation is the identity); scaling the transposed view made a contiguous copy and then a
        // scaled one (three: 6 GB for a 1.6 GB kernel). The same products, so the same values.
        double norm = TraceSize(fa);
        if (norm != 1)
        {
            if (k.IsContiguous) Elementwise.ScaleInPlace(k, 1.0 / norm);
            else k = Elementwise.Scale(k, 1.0 / norm);
        }
        var r = k.Transpose(perm).Contiguous();
        Debug.Assert(r.Shape == KernelShape(fa, fb));
        return r;
    }

    /// <summary>
    /// Neural Tangents' <c>_trace_and_diagonal</c>: from the un-zipped full kernel of shape
    /// <c>fx1.shape + fx2.shape</c>, takes the diagonals of the pairs (t, r+t) and (d, r+d) as zero-copy views,
    /// lays the axes out as docs/conventions.md#kernel-layout, then sums the trace axes and divides by |T|.
    /// </summary>
    public Tensor FromFull(Tensor full)
    {
        int r = Rank;
        Debug.Assert(full.Rank == 2 * r);
        // View: fx1 axes (trace and diagonal pairs merged by adding strides), then the free fx2 axes.
        var dims = new List<int>(); var strides = new List<int>();
        foreach (var x in Layout.Axes)
        {
            int a = x.Axis;
            bool merged = x.Kind != KernelAxisKind.Free;
            if (merged && full.Shape[a] != full.Shape[r + a])
                throw new ArgumentException($"axis {a} has size {full.Shape[a]} in f(x1) but {full.Shape[r + a]} in f(x2)");
            dims.Add(full.Shape[a]);
            strides.Add(merged ? full.Strides[a] + full.Strides[r + a] : full.Strides[a]);
        }
        var order = new List<int>();
        foreach (var x in Layout.Axes)
        {
            if (x.Kind == KernelAxisKind.Trace) continue;
            order.Add(x.Axis);
            if (x.Kind == KernelAxisKind.Free)
            {
                order.Add(dims.Count);
                dims.Add(full.Shape[r + x.Axis]); strides.Add(full.Strides[r + x.Axis]);
            }
        }
        var view = new Tensor(full.Storage, new Shape(dims), strides.ToArray(), full.Offset);
        order.AddRange(Trace);
        var laid = view.Transpose(order.ToArray());
        int kept = order.Count - Trace.Length;
        var summed = Trace.Length == 0 ? laid.Contiguous() : Reductions.Sum(laid, Enumerable.Range(kept, Trace.Length).ToArray());
        double norm = TraceSize(new Shape(full.Shape.Dims[..r]));
        return norm == 1 ? summed : Elementwise.Scale(summed, 1.0 / norm);
    }
}
