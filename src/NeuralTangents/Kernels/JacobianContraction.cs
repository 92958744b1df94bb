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
    /// <summary>Examples per evaluation of the per-example Jacobian graph (bounds memory; the GEMMs inside are parallel).</summary>
    private const int ExampleChunk = 32;

    /// <summary>Jacobian of f at x, shape <c>f(x).Shape + (P,)</c>, in f's dtype.</summary>
    public static Tensor Jacobian(TracedApply f, Params p, Tensor x, int? vmapAxis)
    {
        if (vmapAxis is not { } axis)
        {
            var g = f.GraphFor(p, TensorType.Of(x));
            var plan = f.PlanFor(g);
            return plan.Rows(TracedApply.Inputs(p, x)).Reshape(plan.OutputType.Shape.Concat(new Shape(plan.ParameterCount)));
        }
        int inAxis = x.Shape.NormalizeAxis(axis, "vmapAxes");
        int n = x.Shape[inAxis];
        var oneShape = x.Shape.ToArray(); oneShape[inAxis] = 1;
        var g1 = f.GraphFor(p, new TensorType(new Shape(oneShape), x.DType));
        var out1 = g1.Outputs[0].Type.Shape;
        int outAxis = out1.NormalizeAxis(axis, "vmapAxes");
        if (out1[outAxis] != 1)
            throw new ArgumentException($"vmap_axes: output axis {outAxis} of f on one example has size {out1[outAxis]}, expected 1 (output shape {out1})", "vmapAxes");
        var plan1 = f.PlanFor(g1);
        int pc = plan1.ParameterCount;
        // Examples to the front, each keeping a size-1 axis at inAxis: (n, …1 at inAxis…).
        var perm = Enumerable.Range(0, x.Rank).Where(a => a != inAxis).Prepend(inAxis).ToArray();
        var front = x.Transpose(perm).Reshape(new Shape(new[] { n }.Concat(Enumerable.Range(0, x.Rank).Select(a => a == inAxis ? 1 : x.Shape[a]))));
        var inputs = TracedApply.Inputs(p, x);
        var chunks = new List<Tensor>();
        for (int s = 0; s < n; s += ExampleChunk)
        {
            int c = Math.Min(ExampleChunk, n - s);
            var ex = front.Slice(new[] { s }.Concat(new int[x.Rank]).ToArray(), new[] { s + c }.Concat(front.Shape.Skip(1)).ToArray()).Contiguous();
            chunks.Add(plan1.PerExample(inputs, p.Count, ex));
        }
        var stacked = chunks.Count == 1 ? chunks[0] : Structural.Concatenate(chunks, 0);      // (n, out1.Size, P)
        // (n, out1…, P) → move the example axis into the size-1 output axis.
        var withOut = stacked.Reshape(new Shape(new[] { n }.Concat(out1).Append(pc)));
        var order = Enumerable.Range(1, out1.Rank + 1).ToList();
        order[outAxis] = 0;
        return withOut.Transpose(order.Prepend(outAxis + 1).ToArray()).Squeeze(0).Contiguous();
    }

    public static Tensor Ntk(TracedApply f, Params p, Tensor x1, Tensor? x2, KernelAxes axes, int? vmapAxis)
    {
        var j1 = Jacobian(f, p, x1, vmapAxis);
        var j2 = x2 is null ? j1 : Jacobian(f, p, x2, vmapAxis);
        return axes.Contract(j1, j2, 1);
    }
}
