namespace NeuralTangents.Stax;

public static partial class Stax
{
    /// <summary>
    /// <c>stax.Aggregate(aggregate_axis)</c> with the DENSE implementation (graph neural networks): every vertex is
    /// replaced by the weighted sum of its direct predecessors,
    /// <c>y[n, …, j…, …] = Σᵢ x[n, …, i…, …]·pattern[n, i…, j…]</c> over the <paramref name="aggregateAxis"/> axes
    /// (default: every spatial axis, i.e. all but the batch and channel axes). Neural Tangents passes <c>pattern</c> as a
    /// keyword argument of <c>apply_fn</c>; here the layer takes the list <c>[x, pattern]</c>, so a network using it is
    /// applied with <see cref="Layer.ApplyMany"/> to <c>[x, pattern]</c> (thread the pattern through earlier layers with
    /// <c>Parallel(…, Identity())</c>), and its kernels come from the <see cref="MultiApplyFn"/> overloads of
    /// <see cref="Empirical"/> with the patterns as a second input. <c>pattern</c> has shape
    /// <c>(N, X_i1…X_iK, X_i1…X_iK)</c>; the SPARSE (edge list) format is not supported.
    /// </summary>
    /// <exception cref="ArgumentException">At init/apply: not two inputs, bad axes, or a pattern of the wrong shape.</exception>
    public static Layer Aggregate(int[]? aggregateAxis = null)
    {
        var desc = aggregateAxis is null ? "Aggregate" : $"Aggregate({Tup(aggregateAxis)})";
        int[] Axes(Shape x, Shape pattern, string what)
        {
            var ax = aggregateAxis is null ? Enumerable.Range(1, Math.Max(0, x.Rank - 2)).ToArray()
                : aggregateAxis.Select(a => x.NormalizeAxis(a, "aggregateAxis")).Distinct().OrderBy(a => a).ToArray();
            if (ax.Length == 0 || ax.Any(a => a == 0))
                throw new ArgumentException($"{desc}: needs at least one aggregate axis other than the batch axis, input shape {x}", what);
            var expect = new Shape(ax.Select(a => x[a]).Concat(ax.Select(a => x[a])).Prepend(x[0]));
            if (pattern != expect)
                throw new ArgumentException($"{desc}: pattern must have shape {expect} (batch, aggregate axes twice) for input shape {x}, got {pattern}", what);
            return ax;
        }
        return Layer.Multi(desc, 2,
            shapes => { Axes(shapes[0], shapes[1], "inputShape"); return new[] { shapes[0] }; },
            xs =>
            {
                var (x, pattern) = (xs[0], xs[1]);
                var ax = Axes(x.Shape, pattern.Shape, "inputs");
                int k = ax.Length;
                var y = Lax.DotGeneral(x, pattern, new DotDimensionNumbers(ax, Enumerable.Range(1, k).ToArray(), new[] { 0 }, new[] { 0 }));
                // y axes: batch, x's other axes in order, then the k aggregate axes (j…): move each back to its place.
                var others = Enumerable.Range(1, x.Rank - 1).Where(a => !ax.Contains(a)).ToArray();
                var perm = new int[x.Rank];
                for (int i = 0; i < others.Length; i++) perm[others[i]] = 1 + i;
                for (int i = 0; i < k; i++) perm[ax[i]] = 1 + others.Length + i;
                return new[] { Lax.Transpose(y, perm) };
            });
    }
}
