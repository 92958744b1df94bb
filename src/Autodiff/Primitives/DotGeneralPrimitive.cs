using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>
/// <c>lax.dot_general</c>: contraction with batch dimensions. Output axes: batch, lhs free, rhs free. Bilinear.
/// </summary>
internal sealed class DotGeneralPrimitive : BilinearPrimitive
{
    /// <summary>Contracting and batch dimensions.</summary>
    public DotDimensionNumbers Dims { get; }
    internal DotGeneralPrimitive(DotDimensionNumbers dims) => Dims = dims;
    /// <inheritdoc/>
    public override string Name => "dot_general";
    /// <inheritdoc/>
    public override string ParamsText() =>
        $"contract={L(Dims.LhsContracting)}x{L(Dims.RhsContracting)} batch={L(Dims.LhsBatch)}x{L(Dims.RhsBatch)}";
    private protected override object? Parameters => Dims;

    internal override TensorType InferType(TensorType[] i)
    {
        RequireSameDType(Name, i[0], i[1]);
        return new TensorType(DotGeneral.InferShape(i[0].Shape, i[1].Shape, Dims), i[0].DType);
    }
    internal override Tensor Evaluate(Tensor[] i, ComputeBackend backend) => backend.DotGeneral(i[0], i[1], Dims);

    internal override bool HasBatchingRule => true;
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims)
    {
        Tracer lhs = args[0], rhs = args[1];
        int[] Shift(int[] a) => a.Select(x => x + 1).ToArray();
        int[] lc = Dims.LhsContracting, rc = Dims.RhsContracting, lb = Dims.LhsBatch, rb = Dims.RhsBatch;
        if (dims[0] is { } da) { lhs = Transforms.BatchingUtil.Move(b, lhs, da, 0); lc = Shift(lc); lb = Shift(lb); }
        if (dims[1] is { } db) { rhs = Transforms.BatchingUtil.Move(b, rhs, db, 0); rc = Shift(rc); rb = Shift(rb); }
        if (dims[0] is not null && dims[1] is not null)
            return (b.DotGeneral(lhs, rhs, new DotDimensionNumbers(lc, rc, lb.Prepend(0).ToArray(), rb.Prepend(0).ToArray())), 0);
        var y = b.DotGeneral(lhs, rhs, new DotDimensionNumbers(lc, rc, lb, rb));
        // The batch axis is the first free axis of its operand: output = [dot batch…, lhs free…, rhs free…].
        int nLhsFree = args[0].Rank - Dims.LhsContracting.Length - Dims.LhsBatch.Length;
        return (y, dims[0] is not null ? Dims.LhsBatch.Length : Dims.LhsBatch.Length + nLhsFree);
    }

    /// <summary>w's free axes are traced against their output positions (batch dims first, then lhs free, then rhs
    /// free); its batch axes are block-diagonal with output axes 0…nb−1 (the blocks are the other operand's slices).</summary>
    internal override StructureRule Structure(int w, TensorType[] types, Atom[] inputs)
    {
        int[] contract = w == 0 ? Dims.LhsContracting : Dims.RhsContracting, batch = w == 0 ? Dims.LhsBatch : Dims.RhsBatch;
        var free = Enumerable.Range(0, types[w].Rank).Where(a => !contract.Contains(a) && !batch.Contains(a)).ToArray();
        int lhsFree = types[0].Rank - Dims.LhsContracting.Length - Dims.LhsBatch.Length;
        int offset = Dims.LhsBatch.Length + (w == 0 ? 0 : lhsFree);
        return new StructureRule(free.Select((a, i) => (offset + i, a)).ToArray()) { Diagonal = batch.Select((a, k) => (k, a)).ToArray() };
    }

    /// <summary>Without batch dimensions and with all of w's free axes trimmed, ∂y'/∂w' is the other operand itself,
    /// its free axes first and its contracting axes in w's order, with size-1 axes for the trimmed ones.</summary>
    internal override Tracer? Jacobian(GraphBuilder b, int w, Tracer?[] inputs, TensorType[] types, StructureRule active)
    {
        var pairs = active.Trace;
        if (Dims.LhsBatch.Length > 0 || active.Diagonal.Length > 0 || active.Broadcast.Length > 0) return null;
        int[] wc = w == 0 ? Dims.LhsContracting : Dims.RhsContracting, oc = w == 0 ? Dims.RhsContracting : Dims.LhsContracting;
        var other = inputs[1 - w]!;
        int rw = types[w].Rank;
        var wFree = Enumerable.Range(0, rw).Where(a => !wc.Contains(a)).ToArray();
        if (wFree.Any(a => !pairs.Any(p => p.W == a))) return null;
        var oFree = Enumerable.Range(0, other.Rank).Where(a => !oc.Contains(a)).ToArray();
        // Other's contracting axes ordered by the w axis they pair with.
        var ocByW = Enumerable.Range(0, wc.Length).OrderBy(i => wc[i]).Select(i => oc[i]).ToArray();
        var t = b.Transpose(other, oFree.Concat(ocByW).ToArray());
        var ones = Enumerable.Repeat(1, wFree.Length);
        var yShape = w == 0 ? ones.Concat(oFree.Select(a => other.Shape[a])) : oFree.Select(a => other.Shape[a]).Concat(ones);
        var wShape = Enumerable.Range(0, rw).Select(a => wc.Contains(a) ? types[w].Shape[a] : 1);
        return b.Reshape(t, new Shape(yShape.Concat(wShape)));
    }

    internal override double Flops(TensorType[] i, TensorType o) =>
        2.0 * o.Shape.Elements * Dims.LhsContracting.Aggregate(1.0, (acc, a) => acc * i[0].Shape[a]);

    internal override Tracer?[] Transpose(GraphBuilder b, Tracer ct, Tracer?[] inputs, TensorType[] types)
    {
        if (inputs[0] is null && inputs[1] is null) throw new InvalidOperationException("dot_general: cannot transpose with both operands linear");
        return new[]
        {
            inputs[0] is null ? TransposeLhs(b, ct, inputs[1]!, types[0].Rank, Dims, swapAns: false) : null,
            inputs[1] is null ? TransposeLhs(b, ct, inputs[0]!, types[1].Rank,
                new DotDimensionNumbers(Dims.RhsContracting, Dims.LhsContracting, Dims.RhsBatch, Dims.LhsBatch), swapAns: true) : null,
        };
    }

    // JAX's _dot_general_transpose_lhs: contract the cotangent with the other operand, then permute into x's axes.
    private static Tracer TransposeLhs(GraphBuilder b, Tracer g, Tracer y, int xRank, DotDimensionNumbers d, bool swapAns)
    {
        int[] xContract = d.LhsContracting, yContract = d.RhsContracting, xBatch = d.LhsBatch, yBatch = d.RhsBatch;
        var xKept = Enumerable.Range(0, xRank).Where(a => !xContract.Contains(a) && !xBatch.Contains(a)).ToArray();
        var yKept = Enumerable.Range(0, y.Rank).Where(a => !yContract.Contains(a) && !yBatch.Contains(a)).ToArray();
        int nb = xBatch.Length;
        var ansBatch = Enumerable.Range(0, nb).ToArray();
        var ansY = swapAns ? Enumerable.Range(nb, yKept.Length).ToArray() : Enumerable.Range(nb + xKept.Length, yKept.Length).ToArray();
        var dims = new DotDimensionNumbers(ansY, yKept, ansBatch, yBatch);
        var order = Enumerable.Range(0, yContract.Length).OrderBy(k => yContract[k]).ToArray();
        var xContractSortedByY = order.Select(k => xContract[k]);
        var layout = xBatch.Concat(xKept).Concat(xContractSortedByY).ToArray();
        var outAxes = Enumerable.Range(0, layout.Length).OrderBy(k => layout[k]).ToArray();
        return b.Transpose(b.DotGeneral(g, y, dims), outAxes);
    }
}
