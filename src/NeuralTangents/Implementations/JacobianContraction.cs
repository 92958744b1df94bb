namespace NeuralTangents.Implementations;

/// <summary>
/// NTK by Jacobian contraction (Neural Tangents' <c>JACOBIAN_CONTRACTION</c>): <c>J = ∂f(x)/∂θ</c> by reverse mode
/// (<c>jacrev</c>: the VJP vmapped over standard-basis cotangents; with <c>VmapAxes</c>, f is traced on one example and
/// that graph vmapped again over the examples), contracted over the parameters and the trace axes, batching the
/// diagonal axes. The Jacobian is never held whole: <see cref="JacobianChunkPlan"/> cuts it into chunks of parameter
/// leaves and trace-axis rows that fit the memory budget, and the kernel is accumulated as
/// <c>K = Σ_chunks J1_c·J2_cᵀ</c>, one GEMM per leaf over all examples of the call (only the upper triangle when
/// x2 = x1), reading each leaf's gradient in the layout the graph produced it.
/// </summary>
internal static class JacobianContraction
{
    /// <summary>After a chunk (or part) of more than this many bytes, a blocking collection, so the next chunk reuses the
    /// same (already touched) pages instead of faulting in fresh ones and letting the heap grow.</summary>
    internal const double CollectAboveBytes = 64.0 * (1 << 20);

    /// <summary>Diagnostics for perf probes: (phase "jacobian"/"contract", seconds, FLOPs of the contraction or 0).</summary>
    internal static Action<string, double, double>? Profiler;

    internal static void Collect() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);

    public static Tensor Ntk(KernelRequest r)
    {
        var plan = JacobianChunkPlan.For(r);
        return r.Out1.DType == DType.Float32 ? Ntk<float>(r, plan) : Ntk<double>(r, plan);
    }

    private static Tensor Ntk<T>(KernelRequest r, JacobianChunkPlan plan) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var ax = r.Axes;
        var fa = r.Out1.Shape; var fb = r.Out2.Shape;
        var free = Enumerable.Range(0, ax.Rank).Where(a => !ax.Trace.Contains(a) && !ax.Diagonal.Contains(a)).ToArray();
        var accShape = new Shape(ax.Diagonal.Select(a => fa[a]).Concat(free.Select(a => fa[a])).Concat(free.Select(a => fb[a])));
        var acc = new T[accShape.Size];
        bool cpu = ReferenceEquals(r.Backend, ComputeBackend.Cpu);
        for (int c = 0; c < plan.Chunks.Count; c++)
        {
            // In its own frame, so no temporary outlives the chunk (unoptimised first-call code keeps them to the end).
            double bytes = ContractChunk(r, plan, c, acc, accShape, cpu);
            if (bytes > CollectAboveBytes) Collect();
        }
        if (plan.Same && cpu) Mirror(acc, free.Aggregate(1, (a, x) => a * fa[x]));
        return ax.Lay(Tensor.Wrap(acc, accShape), fa, fb);
    }

    /// <summary>Adds chunk <paramref name="c"/>'s products to the accumulator; returns the bytes of its Jacobians.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static double ContractChunk<T>(KernelRequest r, JacobianChunkPlan plan, int c, T[] acc, Shape accShape, bool cpu)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var ax = r.Axes;
        var profiler = Profiler;
        var sw = Stopwatch.StartNew();
        var j1 = plan.Jacobians(plan.S1, c, second: false, r.Backend);
        var j2 = plan.Same ? j1 : plan.Jacobians(plan.S2, c, second: true, r.Backend);
        profiler?.Invoke("jacobian", sw.Elapsed.TotalSeconds, 0);
        sw.Restart();
        double bytes = 0;
        for (int l = 0; l < j1.Length; l++)
        {
            var dims = ax.ContractionDims(j1[l].Rank - ax.Rank);
            if (cpu) BufferPool.Run(() => DotGeneral.Multiply(j1[l], j2[l], dims, acc, accumulate: true, upperOnly: plan.Same));   // operand copies back to the pool
            else
            {
                var k = r.Backend.DotGeneral(j1[l], j2[l], dims).Contiguous().Span<T>();
                for (int i = 0; i < acc.Length; i++) acc[i] += k[i];
            }
            bytes += (j1[l].Shape.Elements + (plan.Same ? 0 : j2[l].Shape.Elements)) * r.Out1.DType.SizeOf();
        }
        profiler?.Invoke("contract", sw.Elapsed.TotalSeconds, ContractionFlops(j1, ax, accShape, plan.Same && cpu));
        BufferPool.Release(j1.Concat(j2));   // this chunk's Jacobians are dead: the next chunk reuses their storage
        return bytes;
    }

    /// <summary>Multiply-adds ×2 of one chunk's GEMMs (as performed: the upper-triangle share when symmetric).</summary>
    private static double ContractionFlops(Tensor[] j1, KernelAxes ax, Shape accShape, bool upper)
    {
        double batch = ax.Diagonal.Length == 0 ? 1 : accShape.Dims[..ax.Diagonal.Length].Aggregate(1.0, (a, d) => a * d);
        double m = Math.Sqrt(accShape.Elements / batch);   // rows per side when symmetric; only used then
        double total = 0;
        foreach (var j in j1)
        {
            double depth = ax.Trace.Aggregate(1.0, (a, t) => a * j.Shape[t]) * j.Shape.Dims[ax.Rank..].Aggregate(1.0, (a, d) => a * d);
            total += 2 * accShape.Elements * depth;
        }
        if (!upper) return total;
        int nb = (int)Math.Clamp(m / 128, 1, 8);
        return total * (nb + 1) / (2.0 * nb);
    }

    /// <summary>Copies each batch's upper triangle onto its lower one (the accumulator is [batch…, M, M]).</summary>
    private static void Mirror<T>(T[] acc, int m)
    {
        int b = m == 0 ? 0 : acc.Length / (m * m);
        for (int bb = 0; bb < b; bb++)
        {
            int o = bb * m * m;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < i; j++) acc[o + i * m + j] = acc[o + j * m + i];
        }
    }

    /// <summary>FLOPs of the chunk graphs and their contraction; peak bytes of the chunk plan (the Jacobian chunks,
    /// one evaluation and the accumulator; the kernel in its final layout is counted by the caller).</summary>
    public static (double Flops, double Bytes) Estimate(KernelRequest r)
    {
        var plan = JacobianChunkPlan.For(r);
        return (plan.Flops, plan.PeakBytes);
    }
}
