using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralTangents.Tensors.Ops;

/// <summary>Where a fused step reads an operand: a leaf tensor, an earlier step's result, or a constant.</summary>
internal enum FusedArgKind : byte { Leaf, Step, Constant }

/// <summary>An operand of a <see cref="FusedStep"/>.</summary>
internal readonly record struct FusedArg(FusedArgKind Kind, int Index, double Value)
{
    public static FusedArg Leaf(int i) => new(FusedArgKind.Leaf, i, 0);
    public static FusedArg Step(int i) => new(FusedArgKind.Step, i, 0);
    public static FusedArg Constant(double v) => new(FusedArgKind.Constant, -1, v);

    public override string ToString() => Kind switch
    {
        FusedArgKind.Leaf => "in" + Index,
        FusedArgKind.Step => "s" + Index,
        _ => Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>What a fused step computes.</summary>
internal enum FusedStepKind : byte { Binary, Compare, Unary }

/// <summary>One element-wise operation of a fused program (<see cref="Op"/> is a <see cref="BinaryOp"/>,
/// <see cref="CompareOp"/> or <see cref="UnaryOp"/> by <see cref="Kind"/>; <see cref="B"/> unused for unary).</summary>
internal readonly record struct FusedStep(FusedStepKind Kind, int Op, FusedArg A, FusedArg B)
{
    public override string ToString() => Kind switch
    {
        FusedStepKind.Binary => $"{Elementwise.Name((BinaryOp)Op)}({A},{B})",
        FusedStepKind.Compare => $"{Elementwise.Name((CompareOp)Op)}({A},{B})",
        _ => $"{Elementwise.Name((UnaryOp)Op)}({A})",
    };
}

/// <summary>
/// Evaluates a chain of element-wise operations in one pass over the output (XLA's loop fusion): each leaf is read in
/// place through a view map (broadcast, transposed or with size-1 axes inserted: leaf axis j is output axis
/// <c>maps[i][j]</c>, −1 for a size-1 axis), intermediate results live in small per-thread blocks, and only the final
/// result is written to memory — one output buffer instead of one per operation. Every step applies the same
/// span kernels as the unfused operations (<see cref="Elementwise"/>) to the same values in the same order, so
/// results equal the unfused evaluation bit for bit (up to the sign of a zero where a size-1 contraction became a
/// product); block boundaries depend only on the shape, never on the thread count.
/// </summary>
internal static class FusedElementwise
{
    /// <summary>Elements per block of the inner loop (intermediates of one block stay in L1/L2).</summary>
    internal const int Block = 2048;

    /// <summary>The fused result (a fresh contiguous tensor of <paramref name="shape"/>).</summary>
    /// <exception cref="ArgumentException">A leaf's dtype differs from <paramref name="dtype"/>, or a map does not fit the leaf.</exception>
    public static Tensor Evaluate(Shape shape, DType dtype, IReadOnlyList<Tensor> leaves, int[][] maps, FusedStep[] steps)
    {
        if (leaves.Count != maps.Length) throw new ArgumentException($"fused: {leaves.Count} leaves but {maps.Length} maps", nameof(maps));
        for (int i = 0; i < leaves.Count; i++)
        {
            if (leaves[i].DType != dtype) throw new ArgumentException($"fused: leaf {i} has dtype {leaves[i].DType.Name()}, expected {dtype.Name()}", nameof(leaves));
            if (maps[i].Length != leaves[i].Rank) throw new ArgumentException($"fused: map of leaf {i} has {maps[i].Length} entries for shape {leaves[i].Shape}", nameof(maps));
        }
        if (steps.Length == 0) throw new ArgumentException("fused: empty program", nameof(steps));
        return dtype == DType.Float32 ? Evaluate<float>(shape, leaves, maps, steps) : Evaluate<double>(shape, leaves, maps, steps);
    }

    /// <summary>The output axes as collapsed loops: sizes outer → inner and each leaf's element stride per loop.</summary>
    private sealed class Loops
    {
        public readonly int[] Sizes;
        public readonly int[][] Strides; // [leaf][loop]
        public Loops(int[] sizes, int[][] strides) { Sizes = sizes; Strides = strides; }
    }

    private static Loops Collapse(Shape shape, IReadOnlyList<Tensor> leaves, int[][] maps)
    {
        int r = shape.Rank, nl = leaves.Count;
        var st = new int[nl][];
        for (int i = 0; i < nl; i++)
        {
            st[i] = new int[r];
            var t = leaves[i];
            for (int j = 0; j < t.Rank; j++)
            {
                int d = maps[i][j];
                if (t.Shape[j] == 1) continue;
                if (d < 0 || d >= r || t.Shape[j] != shape[d])
                    throw new ArgumentException($"fused: leaf {i} of shape {t.Shape} axis {j} does not map onto output {shape}", nameof(maps));
                st[i][d] += t.Strides[j];
            }
        }
        // Drop size-1 output axes, then merge neighbours that every leaf walks as one (stride[d-1] = stride[d]·size[d]).
        var sizes = new List<int>();
        var strides = Enumerable.Range(0, nl).Select(_ => new List<int>()).ToArray();
        for (int d = 0; d < r; d++)
        {
            if (shape[d] == 1) continue;
            int k = sizes.Count - 1;
            if (k >= 0 && Enumerable.Range(0, nl).All(i => strides[i][k] == st[i][d] * shape[d]))
            {
                sizes[k] *= shape[d];
                for (int i = 0; i < nl; i++) strides[i][k] = st[i][d];
            }
            else
            {
                sizes.Add(shape[d]);
                for (int i = 0; i < nl; i++) strides[i].Add(st[i][d]);
            }
        }
        if (sizes.Count == 0) { sizes.Add(1); foreach (var s in strides) s.Add(0); }
        return new Loops(sizes.ToArray(), strides.Select(s => s.ToArray()).ToArray());
    }

    /// <summary>Register slot of each step's result (−1: the last step, written to the output) by liveness.</summary>
    private static int[] Registers(FusedStep[] steps, out int count)
    {
        var last = new int[steps.Length];
        for (int k = 0; k < steps.Length; k++)
        {
            if (steps[k].A.Kind == FusedArgKind.Step) last[steps[k].A.Index] = k;
            if (steps[k].Kind != FusedStepKind.Unary && steps[k].B.Kind == FusedArgKind.Step) last[steps[k].B.Index] = k;
        }
        var slot = new int[steps.Length];
        var free = new Stack<int>();
        count = 0;
        for (int k = 0; k < steps.Length; k++)
        {
            // Operands whose last reader is this step free their slots after it (a kernel may write over its input).
            slot[k] = k == steps.Length - 1 ? -1 : free.Count > 0 ? free.Pop() : count++;
            foreach (var a in steps[k].Kind == FusedStepKind.Unary ? new[] { steps[k].A } : new[] { steps[k].A, steps[k].B })
                if (a.Kind == FusedArgKind.Step && last[a.Index] == k && slot[a.Index] >= 0 && !free.Contains(slot[a.Index]))
                    free.Push(slot[a.Index]);
        }
        return slot;
    }

    private static Tensor Evaluate<T>(Shape shape, IReadOnlyList<Tensor> leaves, int[][] maps, FusedStep[] steps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dst = BufferPool.Rent<T>(shape.Size);   // every element is written (the blocks tile the output)
        if (dst.Length == 0) return Tensor.Wrap(dst, shape);
        var loops = Collapse(shape, leaves, maps);
        var slots = Registers(steps, out int regs);
        int nl = leaves.Count, inner = loops.Sizes[^1];
        int bl = Math.Min(inner, Block), perRow = (inner + bl - 1) / bl;
        long rows = dst.Length / inner, items = rows * perRow;
        var storage = leaves.Select(t => (T[])t.Storage).ToArray();
        var offsets = leaves.Select(t => t.Offset).ToArray();
        // Leaves strided along the inner loop are gathered into a block of their own.
        int gathers = Enumerable.Range(0, nl).Count(i => loops.Strides[i][^1] is not (0 or 1));
        int scratch = (regs + gathers) * bl;
        void Run(long from, long to)
        {
            var buf = ArrayPool<T>.Shared.Rent(Math.Max(1, scratch));
            try
            {
                for (long w = from; w < to; w++)
                {
                    long row = w / perRow;
                    int c0 = (int)(w - row * perRow) * bl, n = Math.Min(bl, inner - c0);
                    RunBlock(steps, slots, loops, storage, offsets, row, c0, n, bl, regs, buf, dst.AsSpan((int)(row * inner) + c0, n));
                }
            }
            finally { ArrayPool<T>.Shared.Return(buf); }
        }
        long perTask = Math.Max(1, Chunks.Size / bl);
        long tasks = (items + perTask - 1) / perTask;
        if (dst.Length >= Chunks.ParallelThreshold && Environment.ProcessorCount > 1 && tasks > 1)
            Parallel.For(0L, tasks, t => Run(t * perTask, Math.Min(items, (t + 1) * perTask)));
        else Run(0, items);
        return Tensor.Wrap(dst, shape);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 (see Blas.Tile)
    private static void RunBlock<T>(FusedStep[] steps, int[] slots, Loops loops, T[][] storage, int[] offsets, long row, int c0, int n,
        int bl, int regs, T[] buf, Span<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nl = storage.Length, depth = loops.Sizes.Length;
        // Leaf base offsets for this row (outer loops) and column c0 (inner loop).
        Span<int> leafOff = nl <= 32 ? stackalloc int[nl] : new int[nl];
        Span<int> gatherSlot = nl <= 32 ? stackalloc int[nl] : new int[nl];
        int g = regs;
        for (int i = 0; i < nl; i++)
        {
            int off = offsets[i];
            long rem = row;
            var st = loops.Strides[i];
            for (int d = depth - 2; d >= 0; d--)
            {
                int size = loops.Sizes[d];
                off += (int)(rem % size) * st[d];
                rem /= size;
            }
            int s = st[depth - 1];
            off += c0 * s;
            leafOff[i] = off;
            gatherSlot[i] = -1;
            if (s is not (0 or 1))
            {
                var gb = buf.AsSpan(g * bl, n);
                var src = storage[i];
                for (int k = 0, o = off; k < n; k++, o += s) gb[k] = src[o];
                gatherSlot[i] = g++;
            }
        }
        // Per step: a scalar for this block (all its operands constant here) or a span in its register / the output.
        Span<bool> isScalar = steps.Length <= 64 ? stackalloc bool[steps.Length] : new bool[steps.Length];
        Span<T> scalar = steps.Length <= 64 ? stackalloc T[steps.Length] : new T[steps.Length];
        Span<T> one = stackalloc T[2];
        for (int k = 0; k < steps.Length; k++)
        {
            var step = steps[k];
            bool sa = ScalarOf(step.A, loops, storage, leafOff, isScalar, scalar, out T va);
            bool sb = step.Kind == FusedStepKind.Unary || ScalarOf(step.B, loops, storage, leafOff, isScalar, scalar, out _);
            T vb = step.Kind == FusedStepKind.Unary ? T.Zero : ScalarOrZero(step.B, loops, storage, leafOff, scalar);
            Span<T> y = slots[k] < 0 ? output : buf.AsSpan(slots[k] * bl, n);
            if (sa && sb)
            {
                one[0] = va; one[1] = vb;
                Apply(step, one[..1], one.Slice(1, 1), one[..1]);
                isScalar[k] = true;
                scalar[k] = one[0];
                if (slots[k] < 0) y.Fill(scalar[k]);
                continue;
            }
            isScalar[k] = false;
            if (sa) ApplyScalarSpan(step, va, SpanOf(step.B, storage, leafOff, gatherSlot, slots, buf, bl, n, output), y);
            else if (sb && step.Kind != FusedStepKind.Unary) ApplySpanScalar(step, SpanOf(step.A, storage, leafOff, gatherSlot, slots, buf, bl, n, output), vb, y);
            else if (step.Kind == FusedStepKind.Unary) Elementwise.UnarySpan((UnaryOp)step.Op, SpanOf(step.A, storage, leafOff, gatherSlot, slots, buf, bl, n, output), y);
            else Apply(step, SpanOf(step.A, storage, leafOff, gatherSlot, slots, buf, bl, n, output), SpanOf(step.B, storage, leafOff, gatherSlot, slots, buf, bl, n, output), y);
        }
    }

    private static bool ScalarOf<T>(FusedArg a, Loops loops, T[][] storage, Span<int> leafOff, Span<bool> isScalar, Span<T> scalar, out T v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (a.Kind)
        {
            case FusedArgKind.Constant: v = T.CreateTruncating(a.Value); return true;
            case FusedArgKind.Step: v = scalar[a.Index]; return isScalar[a.Index];
            default:
                if (loops.Strides[a.Index][^1] == 0) { v = storage[a.Index][leafOff[a.Index]]; return true; }
                v = T.Zero; return false;
        }
    }

    private static T ScalarOrZero<T>(FusedArg a, Loops loops, T[][] storage, Span<int> leafOff, Span<T> scalar) where T : unmanaged, IFloatingPointIeee754<T> =>
        a.Kind switch
        {
            FusedArgKind.Constant => T.CreateTruncating(a.Value),
            FusedArgKind.Step => scalar[a.Index],
            _ => loops.Strides[a.Index][^1] == 0 ? storage[a.Index][leafOff[a.Index]] : T.Zero,
        };

    private static ReadOnlySpan<T> SpanOf<T>(FusedArg a, T[][] storage, Span<int> leafOff, Span<int> gatherSlot, int[] slots, T[] buf, int bl, int n, Span<T> output)
    {
        if (a.Kind == FusedArgKind.Step) return slots[a.Index] < 0 ? output : buf.AsSpan(slots[a.Index] * bl, n);
        int i = a.Index;
        return gatherSlot[i] >= 0 ? buf.AsSpan(gatherSlot[i] * bl, n) : storage[i].AsSpan(leafOff[i], n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Apply<T>(FusedStep s, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (s.Kind)
        {
            case FusedStepKind.Binary: Elementwise.BinarySpan((BinaryOp)s.Op, a, b, y); break;
            case FusedStepKind.Compare: CompareSpans((CompareOp)s.Op, a, b, y); break;
            default: Elementwise.UnarySpan((UnaryOp)s.Op, a, y); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ApplySpanScalar<T>(FusedStep s, ReadOnlySpan<T> a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (s.Kind == FusedStepKind.Binary) Elementwise.BinarySpanScalar((BinaryOp)s.Op, a, b, y);
        else CompareScalar((CompareOp)s.Op, a, b, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ApplyScalarSpan<T>(FusedStep s, T a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (s.Kind == FusedStepKind.Binary) { Elementwise.BinaryScalarSpan((BinaryOp)s.Op, a, b, y); return; }
        SimdSpan.Compare((CompareOp)s.Op, a, b, y);
    }

    // Vector compares (SimdSpan): the scalar loop's branch mispredicted on random signs (relu masks).
    private static void CompareSpans<T>(CompareOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> z, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        SimdSpan.Compare(op, x, z, y);

    private static void CompareScalar<T>(CompareOp op, ReadOnlySpan<T> x, T s, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        SimdSpan.Compare(op, x, s, y);
}
