using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Implementations;
using NeuralTangents.Stax;
using NeuralTangents.Tests.Empirical;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Implementations;

/// <summary>
/// JacobianContraction cut into chunks (parameter leaves, trace-axis slices, parts along examples/rows) by a tiny budget
/// equals the independent loop kernel over the whole Jacobian (float64, 1e-12 relative), and the plan really chunks.
/// </summary>
public class JacobianChunkTests
{
    private static readonly Layer Net = Serial(Dense(7, bStd: 0.3), Relu(), Dense(5, wStd: 1.3, bStd: 0.2));
    private static readonly Tensor X1 = Tensor.RandomNormal(new Random(1), new Shape(6, 4));
    private static readonly Tensor X2 = Tensor.RandomNormal(new Random(2), new Shape(3, 4));
    private static readonly Params P = Net.Init(0, X1.Shape).Params;

    private static KernelRequest Request(int[] trace, int[] diag, bool vmap, bool withX2, long budget) =>
        KernelRequest.ForOutputs(new TracedApply(Net.Apply), P, [X1], withX2 ? [diag.Contains(0) ? X1Rev() : X2] : null,
            [KernelAxes.Canonicalize(trace, diag, 2)], vmap ? 0 : null, budget, SdRules.All)[0];

    // A second input with as many examples as x1 (a diagonal example axis pairs example i with example i).
    private static Tensor X1Rev() => Tensor.RandomNormal(new Random(3), X1.Shape);

    /// <summary>J of f at x with all parameter leaves flattened into one trailing axis, by plain reverse mode.</summary>
    private static Tensor FullJacobian(Tensor x)
    {
        var f = new TracedApply(Net.Apply);
        var g = f.GraphFor(P, [TensorType.Of(x)]);
        var jac = Ad.JacRev(g, TracedApply.Inputs(P, [x]))[0];
        var outShape = g.Outputs[0].Type.Shape;
        var parts = jac.Take(P.Count).Select(t => t.Reshape(new Shape(outShape.Concat(new Shape(t.Size / outShape.Size))))).ToArray();
        return Structural.Concatenate(parts, outShape.Rank);
    }

    [Theory]
    [InlineData(new[] { -1 }, new int[0], true, false)]
    [InlineData(new[] { -1 }, new int[0], true, true)]
    [InlineData(new[] { -1 }, new int[0], false, false)]
    [InlineData(new[] { -1 }, new int[0], false, true)]
    [InlineData(new int[0], new int[0], true, false)]
    [InlineData(new int[0], new int[0], false, true)]
    [InlineData(new int[0], new[] { 1 }, true, false)]
    [InlineData(new int[0], new[] { 1 }, false, true)]
    [InlineData(new int[0], new[] { 0 }, true, false)]
    [InlineData(new int[0], new[] { 0 }, true, true)]
    [InlineData(new[] { 0, 1 }, new int[0], false, false)]
    public void ChunkedEqualsTheLoopKernel(int[] trace, int[] diag, bool vmap, bool withX2)
    {
        var whole = Request(trace, diag, vmap, withX2, 1L << 30);
        // A budget a little above the accumulator: every leaf alone, one trace index at a time, parts of a few rows.
        long tiny = (long)JacobianChunkPlan.AccumulatorBytes(whole) + 2500;
        var small = Request(trace, diag, vmap, withX2, tiny);
        var plan = JacobianChunkPlan.For(small);
        var wholePlan = JacobianChunkPlan.For(whole);
        Assert.Single(wholePlan.Chunks);
        Assert.True(plan.Chunks.Count > 1, $"{plan.Chunks.Count} chunks");
        if (plan.TraceAxis >= 0) Assert.Contains(plan.Chunks, c => c.Tc < plan.S1.Out[plan.TraceAxis]);
        // Some chunk is evaluated in several parts (examples with vmap, basis rows without).
        int Count(JacobianChunkPlan.Chunk c) => vmap ? X1.Shape[0] : plan.S1.Out.Size / (plan.TraceAxis >= 0 ? plan.S1.Out[plan.TraceAxis] : 1) * c.Tc;
        Assert.Contains(plan.Chunks.Select((c, i) => plan.Parts[i].Part1 < Count(c)), b => b);

        var expected = NaiveKernel.Compute(FullJacobian(X1), FullJacobian(small.SameInputs ? X1 : small.X2[0]), trace, diag, trailingP: true);
        var chunked = JacobianContraction.Ntk(small);
        var single = JacobianContraction.Ntk(whole);
        Assert.Equal(expected.Shape, chunked.Shape);
        TestUtil.AssertClose(expected, chunked, 1e-12);
        TestUtil.AssertClose(expected, single, 1e-12);
        if (!withX2 && diag.Length == 0 && trace.Length == 1)
        {
            var k = chunked.ToDoubleArray(); int n = X1.Shape[0];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) Assert.Equal(k[i * n + j], k[j * n + i]);   // mirrored, exactly
        }
    }

    [Fact]
    public void LargestChunksComeFirstAndTheEstimateGrowsWithTheBudgetOnlyUpToTheTarget()
    {
        var big = Request([-1], [], true, false, 1L << 30);
        var tiny = Request([-1], [], true, false, (long)JacobianChunkPlan.AccumulatorBytes(big) + 2500);
        var plan = JacobianChunkPlan.For(tiny);
        var sizes = plan.Chunks.Select(c => c.Tc * c.Leaves.Sum(l => (double)P.Values.ElementAt(l).Size)).ToArray();
        Assert.Equal(sizes.OrderByDescending(s => s), sizes);
        Assert.True(JacobianChunkPlan.For(big).PeakBytes > plan.PeakBytes);
    }

    [Theory]
    [InlineData(300, 700, 3, false)]
    [InlineData(129, 50, 1, true)]
    public void UpperTriangleProductMatchesTheFullProductOnAndAboveTheDiagonal(int m, int k, int batch, bool transposedLayout)
    {
        // (batch, m, k) or its transposed storage (batch, k, m) read through a transpose view.
        var x = transposedLayout
            ? Tensor.RandomNormal(new Random(m), new Shape(batch, k, m)).Transpose(0, 2, 1)
            : Tensor.RandomNormal(new Random(m), new Shape(batch, m, k));
        var dims = new DotDimensionNumbers([2], [2], [0], [0]);
        var full = DotGeneral.Compute(x, x, dims).ToDoubleArray();
        var upper = new double[batch * m * m];
        Array.Fill(upper, 1.0);   // accumulate: 1 + x·xᵀ above the diagonal, untouched (1) below
        DotGeneral.Multiply(x, x, dims, upper, accumulate: true, upperOnly: true);
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++)
                {
                    int at = (b * m + i) * m + j;
                    bool computed = Math.Abs(upper[at] - 1 - full[at]) <= 1e-12 * (1 + Math.Abs(full[at]));
                    // On and above the diagonal: computed; below it: untouched, or computed (inside a diagonal block).
                    if (j >= i) Assert.True(computed, $"({b},{i},{j})");
                    else Assert.True(computed || upper[at] == 1.0, $"({b},{i},{j}) below the diagonal: {upper[at]}");
                }
    }
}
