namespace NeuralTangents.Kernels;

/// <summary>
/// NTK by Jacobian contraction (Neural Tangents' <c>JACOBIAN_CONTRACTION</c>): <c>J = ∂f(x)/∂θ</c> by reverse mode,
/// with all parameter leaves flattened into one trailing axis of size P, then one <c>dot_general</c> contracting
/// P and the trace axes, batching the diagonal axes (summing over leaves is the same as concatenating them).
/// Jacobians are <c>jacrev</c> as in JAX: the VJP vmapped over standard-basis cotangents. With <c>VmapAxes</c>,
/// f is traced on one example and that Jacobian graph is vmapped again over chunks of examples, which is exact
/// when examples do not interact and much cheaper (no cotangent ever runs through the whole batch).
/// </summary>
internal static class JacobianContraction
{
    /// <summary>At most this many examples per evaluation of the per-example Jacobian graph (the GEMMs inside are parallel).</summary>
    private const int ExampleChunk = 32;

    /// <summary>Target bytes of one chunk of per-example Jacobians: wide networks get fewer examples per evaluation.</summary>
    private const double ChunkBytes = 128.0 * (1 << 20);

    /// <summary>Examples per evaluation for Jacobian rows of <paramref name="rowBytes"/> bytes per example.</summary>
    internal static int ChunkFor(int examples, double rowBytes) =>
        Math.Max(1, Math.Min(Math.Min(ExampleChunk, Math.Max(1, examples)), (int)(ChunkBytes / Math.Max(1, rowBytes))));

    /// <summary>Jacobian of output <paramref name="j"/> of f at xs, shape <c>f(xs)[j].Shape + (P,)</c>, in f's dtype.</summary>
    public static Tensor Jacobian(TracedApply f, Params p, Tensor[] xs, int j, Batching? batching, string name = "x")
    {
        if (batching is null)
        {
            var g = f.OutputGraph(f.GraphFor(p, xs.Select(TensorType.Of).ToArray()), j);
            CheckSize(name, g.Outputs[0].Type.Shape.Select(d => (long)d), p.ParameterCount);
            var plan = f.PlanFor(g, p.Count);
            return plan.Rows(TracedApply.Inputs(p, xs)).Reshape(plan.OutputType.Shape.Concat(new Shape(plan.ParameterCount)));
        }
        var g1 = f.OutputGraph(f.GraphFor(p, batching.ExampleTypes(xs)), j);
        var out1 = g1.Outputs[0].Type.Shape;
        CheckSize(name, WithExamples(out1, batching.Out[j], batching.Count), p.ParameterCount);
        int outAxis = batching.Out[j];
        if (out1[outAxis] != 1)
            throw new ArgumentException($"vmap_axes: output axis {outAxis} of f on one example has size {out1[outAxis]}, expected 1 (output shape {out1})", "vmapAxes");
        var plan1 = f.PlanFor(g1, p.Count);
        var batchedInputs = InAxes.Concat(InAxes.None(p.Count), batching.StackAxes);
        int n = batching.Count;
        // Chunks are copied into one preallocated (n, out1.Size·P) array: the Jacobian is held once, not twice.
        long row = (long)out1.Size * plan1.ParameterCount;
        int chunk = ChunkFor(n, row * plan1.OutputType.DType.SizeOf());
        var stacked = Tensor.Zeros(new Shape(n, out1.Size, plan1.ParameterCount), plan1.OutputType.DType);
        for (int s = 0; s < n; s += chunk)
        {
            int c = Math.Min(chunk, n - s);
            var part = plan1.PerExample(TracedApply.Inputs(p, batching.Stack(xs, s, c)), batchedInputs, c).Contiguous();
            Array.Copy(part.Storage, part.Offset, stacked.Storage, s * row, c * row);
        }
        var withOut = stacked.Reshape(new Shape(new[] { n }.Concat(out1).Append(plan1.ParameterCount)));
        return Batching.Fold(withOut, 0, 1 + outAxis);
    }

    /// <summary>f's output shape for <paramref name="examples"/> examples, from one example's (size 1 on <paramref name="axis"/>).</summary>
    internal static IEnumerable<long> WithExamples(Shape one, int axis, int examples) =>
        one.Select((d, a) => a == (axis < 0 ? axis + one.Rank : axis) ? examples : (long)d);

    /// <summary>The whole Jacobian (outputs…, P) is one tensor: refuse before tracing anything of that size.</summary>
    internal static void CheckSize(string name, IEnumerable<long> outDims, long parameters) =>
        TensorSizeException.Check($"the Jacobian of f({name}) (outputs × {parameters} parameters)", outDims.Append(parameters).ToArray(), name,
            "JacobianContraction holds it whole; StructuredDerivatives or NtkVectorProducts need far less");

    public static Tensor Ntk(KernelRequest r)
    {
        var j1 = Jacobian(r.F, r.Parameters, r.X1, r.Output, r.Batching1, "x1").Contiguous();
        // With x2 = x1 the same tensor: a symmetric contraction.
        var j2 = r.SameInputs ? j1 : Jacobian(r.F, r.Parameters, r.X2, r.Output, r.Batching2, "x2").Contiguous();
        return r.Axes.Contract(j1, j2, 1);
    }

    /// <summary>FLOPs of both Jacobians and their contraction; bytes held at once (J1 stays while J2 is built; the
    /// contraction's output is counted by the caller).</summary>
    public static (double Flops, double Bytes) Estimate(KernelRequest r)
    {
        var (f1, m1) = JacobianCost(r.F, r.Parameters, r.X1, r.Output, r.Batching1, "x1");
        var (f2, m2) = r.SameInputs ? (0.0, 0.0) : JacobianCost(r.F, r.Parameters, r.X2, r.Output, r.Batching2, "x2");
        double contraction = 2.0 * r.Axes.KernelShape(r.Out1.Shape, r.Out2.Shape).Elements * r.Axes.TraceSize(r.Out1.Shape) * r.Parameters.ParameterCount;
        return (f1 + f2 + contraction, r.SameInputs ? m1 : m1 + m2);
    }

    private static (double, double) JacobianCost(TracedApply f, Params p, Tensor[] xs, int j, Batching? b, string name)
    {
        var g = f.OutputGraph(f.GraphFor(p, b?.ExampleTypes(xs) ?? xs.Select(TensorType.Of).ToArray()), j);
        var one = g.Outputs[0].Type.Shape;
        CheckSize(name, b is null ? one.Select(d => (long)d) : WithExamples(one, b.Out[j], b.Count), p.ParameterCount);
        var plan = f.PlanFor(g, p.Count);
        var axes = InAxes.Concat(InAxes.None(p.Count), b?.StackAxes ?? Array.Empty<int?>());
        double size = plan.OutputType.DType.SizeOf();
        double rowBytes = (double)plan.OutputType.Shape.Size * plan.ParameterCount * size;
        if (b is null)
            return (plan.Flops(0, null), 2 * rowBytes);   // row chunks, then their concatenation
        int chunk = ChunkFor(b.Count, rowBytes);
        double flops = plan.Flops(b.Count, axes, exampleChunk: chunk);
        // The preallocated Jacobian plus one chunk's evaluation (its inputs, intermediates and output).
        return (flops, b.Count * rowBytes + plan.PeakBytes(chunk, axes));
    }
}
