namespace NeuralTangents.Kernels;

/// <summary>
/// The AUTO cost model: FLOPs and peak memory of each implementation, estimated from the very graphs it would
/// evaluate (per-primitive FLOP rules summed over vmapped graphs, the kernel contraction, and for structured
/// derivatives the MJJMP einsum paths on shapes), without evaluating anything.
/// </summary>
internal static class CostModel
{
    /// <summary>Default memory budget of <see cref="Empirical.ExplainNtk"/>: 4 GiB.</summary>
    public const double DefaultBudgetBytes = 4.0 * (1L << 30);

    public static NtkExplanation Explain(TracedApply f, Params p, Tensor[] x1, Tensor[]? x2, KernelAxes[] axes, Batching? b1, Batching? b2, double budget)
    {
        var estimates = new[] { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives }
            .Select(impl =>
            {
                try
                {
                    var (flops, bytes) = Estimate(impl, f, p, x1, x2, axes, b1, b2);
                    return new NtkCostEstimate(impl, flops, bytes, bytes <= budget);
                }
                catch (TensorSizeException e)
                {
                    // One of its tensors cannot exist: it cannot run, and the others are still estimated.
                    return new NtkCostEstimate(impl, double.PositiveInfinity, double.PositiveInfinity, false, e.Reason);
                }
            }).ToArray();
        return new NtkExplanation(Choose(estimates), estimates, budget);
    }

    /// <summary>FLOPs (several outputs add up) and peak bytes (the largest output's) of one implementation, computed whole.</summary>
    public static (double Flops, double Bytes) Estimate(NtkImplementation impl, TracedApply f, Params p, Tensor[] x1, Tensor[]? x2, KernelAxes[] axes, Batching? b1, Batching? b2)
    {
        double flops = 0, bytes = 0;
        for (int j = 0; j < axes.Length; j++)
        {
            var (fl, by) = impl switch
            {
                NtkImplementation.JacobianContraction => Jc(f, p, x1, x2, j, axes[j], b1, b2),
                NtkImplementation.NtkVectorProducts => NtkVectorProducts.Estimate(f, p, x1, x2, j, b1, b2),
                _ => Sd(f, p, x1, x2, j, axes[j], b1, b2),
            };
            flops += fl; bytes = Math.Max(bytes, by);
        }
        return (flops, bytes);
    }

    /// <summary>
    /// FLOP estimates within this fraction of the cheapest are a tie. The estimates are not more precise than that,
    /// and implementations spend FLOPs at different rates: on the narrow CNN JacobianContraction is estimated at
    /// 12.7 GFLOP and structured derivatives at 14.9, yet SD runs in 0.65–0.76 s and JC in 1.04–1.22 s (its
    /// per-example weight gradients are grouped convolutions; SD's are large GEMMs).
    /// </summary>
    public const double TieBand = 0.25;

    /// <summary>
    /// The cheapest implementation that fits. A tie (within <see cref="TieBand"/>) goes to structured derivatives
    /// when it is among the tied — it was the measured fastest on every tied workload of perf/README.md's AUTO check
    /// (seed CNN with trace [-1] and [], its train-train kernel, a pooling CNN) — else to the smaller peak memory,
    /// then to the lower enum value. JacobianContraction when nothing fits.
    /// </summary>
    internal static NtkImplementation Choose(IReadOnlyList<NtkCostEstimate> estimates)
    {
        var fits = estimates.Where(e => e.FitsBudget).ToArray();
        if (fits.Length == 0) return NtkImplementation.JacobianContraction;
        double cheapest = fits.Min(e => e.Flops);
        return fits.Where(e => e.Flops <= cheapest * (1 + TieBand))
            .OrderBy(e => e.Implementation == NtkImplementation.StructuredDerivatives ? 0 : 1).ThenBy(e => e.PeakBytes).ThenBy(e => e.Implementation)
            .First().Implementation;
    }

    private static (double, double) JacobianCost(TracedApply f, Params p, Tensor[] xs, int j, Batching? b, string name)
    {
        var g = f.OutputGraph(f.GraphFor(p, b?.ExampleTypes(xs) ?? xs.Select(TensorType.Of).ToArray()), j);
        var one = g.Outputs[0].Type.Shape;
        JacobianContraction.CheckSize(name, b is null ? one.Select(d => (long)d) : JacobianContraction.WithExamples(one, b.Out[j], b.Count), p.ParameterCount);
        var plan = f.PlanFor(g, p.Count);
        var axes = Enumerable.Range(0, p.Count).Select(_ => (int?)null).Concat(b?.StackAxes ?? Array.Empty<int?>()).ToArray();
        double size = plan.OutputType.DType.SizeOf();
        double rowBytes = (double)plan.OutputType.Shape.Size * plan.ParameterCount * size;
        if (b is null)
            return (plan.Flops(0, null), 2 * rowBytes);   // row chunks, then their concatenation
        int chunk = JacobianContraction.ChunkFor(b.Count, rowBytes);
        double flops = plan.Flops(b.Count, axes, exampleChunk: chunk);
        // The preallocated Jacobian plus one chunk's evaluation (its inputs, intermediates and output).
        return (flops, b.Count * rowBytes + plan.PeakBytes(chunk, axes));
    }

    private static (double, double) Jc(TracedApply f, Params p, Tensor[] x1, Tensor[]? x2, int j, KernelAxes axes, Batching? b1, Batching? b2)
    {
        var (f1, m1) = JacobianCost(f, p, x1, j, b1, "x1");
        var (f2, m2) = x2 is null ? (0.0, 0.0) : JacobianCost(f, p, x2, j, b2, "x2");
        var o1 = f.OutputTypes(p, x1.Select(TensorType.Of).ToArray())[j];
        var o2 = x2 is null ? o1 : f.OutputTypes(p, x2.Select(TensorType.Of).ToArray())[j];
        double contraction = 2.0 * axes.KernelShape(o1.Shape, o2.Shape).Elements * axes.TraceSize(o1.Shape) * p.ParameterCount;
        // J1 stays while J2 is built; the contraction's output is counted by the caller.
        return (f1 + f2 + contraction, x2 is null ? m1 : m1 + m2);
    }

    private static (double, double) Sd(TracedApply f, Params p, Tensor[] x1, Tensor[]? x2, int j, KernelAxes axes, Batching? b1, Batching? b2)
    {
        var s1 = StructuredDerivatives.Prepare(f, p, x1, j, b1);
        var s2 = x2 is null ? s1 : StructuredDerivatives.Prepare(f, p, x2, j, b2 ?? b1);
        var compressed = StructuredDerivatives.CompressedAxes(s1, s2);
        var (macs, largest) = StructuredDerivatives.ContractionPlan(s1, s2, axes, b1?.Out[j], (b2 ?? b1)?.Out[j], compressed);
        double einsum = 2 * macs;
        // Forward pass, ∂f/∂y pass (one backward pass per output element that stops at the parameter consumers) and
        // the compressed Jacobians, from the very graphs SD evaluates.
        double passes = StructuredDerivatives.PassFlops(s1, p, compressed, b1) + (x2 is null ? 0 : StructuredDerivatives.PassFlops(s2, p, compressed, b2 ?? b1));
        // Held at once: ∂f/∂y and the compressed ∂y/∂w of every use, plus the largest einsum intermediate.
        double bytes = 0;
        foreach (var s in x2 is null ? new[] { s1 } : new[] { s1, s2 })
            foreach (var u in s.Uses)
            {
                var eq = s.Linear.Equations[u.Eqn];
                var rule = u.Rule.Restrict(compressed[u.W]);
                double n = Math.Max(1, s.Examples), size = eq.Output.Type.DType.SizeOf();
                bytes += n * size * (s.Fx.Size * (double)u.Y.Size + rule.TrimY(u.Y).Elements * rule.TrimW(eq.Inputs[u.Input].Type.Shape).Elements);
            }
        return (passes + einsum, bytes + largest * s1.Linear.Outputs[0].Type.DType.SizeOf());
    }
}
