using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Implementations;
using NeuralTangents.Tensors.Ops;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Implementations;

/// <summary>
/// JcGraphCost, the estimate JacobianContraction plans its chunks with, counts what evaluating a chunk graph really
/// allocates: run equation by equation on the CPU, no equation allocates more than the output and scratch the
/// estimate gives it (measured with the calling thread's allocation counter, on a second evaluation: the copies and
/// outputs are allocated there, and the per-thread GEMM packing buffers the first one grows are the kernels' own). Without vmap the graph contracts and reduces (basis, examples, features) products over the middle axis,
/// whose operand copies the estimate used to miss (digits FCN: 795 MiB estimated, 1,037 MiB measured).
/// </summary>
public class JcGraphCostTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NoEquationAllocatesMoreThanItsEstimatedOutputAndScratch(bool vmap)
    {
        var net = Serial(Dense(128, 1.5, 0.05), Relu(), Dense(128, 1.5, 0.05), Relu(), Dense(10, 1.5, 0.05));
        var x = Tensor.RandomNormal(new Random(1), new Shape(24, 16));
        var p = net.Init(0, x.Shape).Params;
        var req = KernelRequest.ForOutputs(new TracedApply(net.Apply), p, [x], null, [KernelAxes.Canonicalize([-1], [], 2)],
            vmap ? 0 : null, 1L << 30, SdRules.All)[0];
        var plan = JacobianChunkPlan.For(req);
        int checkedEqs = 0, withScratch = 0;
        for (int c = 0; c < plan.Chunks.Count; c++)
        {
            var s = plan.S1;
            var g = JacobianChunkPlan.Evaluation(p, s, plan.Chunks[c], plan.TraceAxis, plan.Parts[c].Part1);
            var steps = JcGraphCost.Steps(g);
            var box = s.Out.ToArray();
            if (plan.TraceAxis >= 0) box[plan.TraceAxis] = plan.Chunks[c].Tc;
            var inputs = s.Batching is null
                ? TracedApply.Inputs(p, s.Xs).Append(StandardBasis.Of(new Shape(box), DType.Float64, 0, plan.Parts[c].Part1)).ToArray()
                : TracedApply.Inputs(p, s.Batching.Stack(s.Xs, 0, plan.Parts[c].Part1)).Append(StandardBasis.Of(new Shape(box), DType.Float64, 0, new Shape(box).Size)).ToArray();
            var env = new Tensor?[g.VarCount];
            for (int i = 0; i < inputs.Length; i++) env[g.Inputs[i].Id] = inputs[i];
            for (int k = 0; k < g.Equations.Count; k++)
            {
                var e = g.Equations[k];
                var a = e.Inputs.Select(t => t is Literal l ? l.Value : env[((Var)t).Id]!).ToArray();
                // Once to grow the kernels' per-thread scratch (GEMM packing buffers, kept for later calls), then measured.
                e.Primitive.Evaluate(a, ComputeBackend.Cpu);
                long before = GC.GetAllocatedBytesForCurrentThread();
                var y = e.Primitive.Evaluate(a, ComputeBackend.Cpu);
                long alloc = GC.GetAllocatedBytesForCurrentThread() - before;
                env[e.Output.Id] = y;
                // Only the arrays matter: a few KiB of tensor objects, shapes and closures per equation are not data.
                Assert.True(alloc <= steps[k].Output + steps[k].Scratch + (64 << 10),
                    $"vmap {vmap}, chunk {c}, equation {k} ({e}): allocated {alloc} B, estimated output {steps[k].Output} B + scratch {steps[k].Scratch} B");
                checkedEqs++;
                if (steps[k].Scratch > 0) withScratch++;
            }
        }
        Assert.True(checkedEqs > 20, $"{checkedEqs} equations");
        // Without vmap the (basis, examples, 128) products are contracted and reduced over the examples: scratch.
        if (!vmap) Assert.True(withScratch >= 2, $"{withScratch} equations with scratch");
    }

    [Fact]
    public void ReductionScratchIsTheOperandCopyItMakes()
    {
        var x = Tensor.RandomNormal(new Random(2), new Shape(40, 30, 50));
        double operand = x.Size * 8.0;
        Assert.Equal(0, Reductions.ScratchBytes(x, [2], max: false));                   // trailing axes: rows in place
        Assert.Equal(50 * 30 * 8.0, Reductions.ScratchBytes(x, [0], max: false));        // leading: the float64 accumulator
        Assert.Equal(0, Reductions.ScratchBytes(x, [0], max: true));
        Assert.Equal(operand, Reductions.ScratchBytes(x, [1], max: false));             // middle: a permuted copy
        Assert.Equal(operand, Reductions.ScratchBytes(x.Transpose(2, 1, 0), [0], max: true));   // strided: a copy
        Assert.Equal(0, Reductions.ScratchBytes(x.Transpose(1, 0, 2).Transpose(1, 0, 2), [2], max: false));
        // And the reductions do allocate that much (the calling thread's counter; the result is 40·50 doubles).
        foreach (var (t, axes) in new[] { (x, new[] { 1 }), (x, new[] { 2 }), (x.Transpose(2, 1, 0), new[] { 0 }) })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var r = Reductions.Sum(t, axes);
            long alloc = GC.GetAllocatedBytesForCurrentThread() - before;
            double result = r.Size * 8.0;
            Assert.InRange(alloc, result + Reductions.ScratchBytes(t, axes, max: false), result + Reductions.ScratchBytes(t, axes, max: false) + (16 << 10));
        }
    }
}
