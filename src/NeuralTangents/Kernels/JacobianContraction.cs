namespace NeuralTangents.Kernels;

/// <summary>
/// NTK by Jacobian contraction (Neural Tangents' <c>JACOBIAN_CONTRACTION</c>): <c>J = ∂f(x)/∂θ</c> by reverse mode,
/// with all parameter leaves flattened into one trailing axis of size P, then one <c>dot_general</c> contracting
/// P and the trace axes, batching the diagonal axes (summing over leaves is the same as concatenating them).
/// With <c>VmapAxes</c>, each example's Jacobian is computed on its own (batch of one), which is exact when
/// examples do not interact and much cheaper: the backward passes then run on single examples.
/// </summary>
internal static class JacobianContraction
{
    /// <summary>Jacobian of f at x, shape <c>f(x).Shape + (P,)</c>, in f's dtype.</summary>
    public static Tensor Jacobian(TracedApply f, Params p, Tensor x, int? vmapAxis)
    {
        if (vmapAxis is not { } axis) return WholeBatch(f, p, x);
        int inAxis = x.Shape.NormalizeAxis(axis, "vmapAxes");
        int n = x.Shape[inAxis];
        var oneShape = x.Shape.ToArray(); oneShape[inAxis] = 1;
        var g1 = f.GraphFor(p, new TensorType(new Shape(oneShape), x.DType));
        var out1 = g1.Outputs[0].Type.Shape;
        int outAxis = out1.NormalizeAxis(axis, "vmapAxes");
        if (out1[outAxis] != 1)
            throw new ArgumentException($"vmap_axes: output axis {outAxis} of f on one example has size {out1[outAxis]}, expected 1 (output shape {out1})", "vmapAxes");
        var wrt = Enumerable.Range(0, p.Count + 1).Select(i => i < p.Count).ToArray();
        var plan = Ad.JacobianPlan(g1, wrt);
        long pCount = p.ParameterCount;
        int rows = out1.Size;
        var dtype = g1.Outputs[0].Type.DType;
        var stacked = Tensor.Zeros(new Shape(n, rows, checked((int)pCount)), dtype);
        var start = new int[x.Rank];
        var limit = x.Shape.ToArray();
        Parallel.For(0, n, i =>
        {
            var s = (int[])start.Clone(); var l = (int[])limit.Clone();
            s[inAxis] = i; l[inAxis] = i + 1;
            var xi = x.Slice(s, l).Contiguous();
            plan.Fill(TracedApply.Inputs(p, xi), stacked, i);
        });
        // (n, out1…, P) → move the example axis into the size-1 output axis.
        var withOut = stacked.Reshape(new Shape(new[] { n }.Concat(out1).Append((int)pCount)));
        var perm = Enumerable.Range(1, out1.Rank + 1).ToList();
        perm[outAxis] = 0;
        var dims = withOut.Transpose(perm.Prepend(outAxis + 1).ToArray());
        // After the transpose axis 0 is the (size-1) original out axis; drop it.
        return dims.Squeeze(0).Contiguous();
    }

    private static Tensor WholeBatch(TracedApply f, Params p, Tensor x)
    {
        var g = f.GraphFor(p, TensorType.Of(x));
        var outType = g.Outputs[0].Type;
        var wrt = Enumerable.Range(0, p.Count + 1).Select(i => i < p.Count).ToArray();
        var plan = Ad.JacobianPlan(g, wrt);
        var j = Tensor.Zeros(new Shape(1, outType.Shape.Size, checked((int)p.ParameterCount)), outType.DType);
        plan.Fill(TracedApply.Inputs(p, x), j, 0);
        return j.Reshape(outType.Shape.Concat(new Shape((int)p.ParameterCount)));
    }

    public static Tensor Ntk(TracedApply f, Params p, Tensor x1, Tensor? x2, KernelAxes axes, int? vmapAxis)
    {
        var j1 = Jacobian(f, p, x1, vmapAxis);
        var j2 = x2 is null ? j1 : Jacobian(f, p, x2, vmapAxis);
        return axes.Contract(j1, j2, 1);
    }
}
