namespace NeuralTangents.Tests.Empirical;

/// <summary>
/// An independent, slow implementation of the kernel layout's shape and value rules (docs/conventions.md#kernel-layout,
/// Neural Tangents' <c>_ntk_shape</c>) by explicit index loops:
/// <c>K[zip(I1, I2, d)] = (1/|T|) Σ_t Σ_p A[I1, d, t, p] · B[I2, d, t, p]</c>, where p runs over an optional
/// trailing axis (the flattened parameters of a Jacobian).
/// </summary>
internal static class NaiveKernel
{
    public static Tensor Compute(Tensor a, Tensor b, int[] trace, int[] diag, bool trailingP = false)
    {
        int r = a.Rank - (trailingP ? 1 : 0);
        var T = trace.Select(x => x < 0 ? x + r : x).Distinct().OrderBy(x => x).ToArray();
        var D = diag.Select(x => x < 0 ? x + r : x).Distinct().OrderBy(x => x).ToArray();
        int P = trailingP ? a.Shape[-1] : 1;
        var dims = new List<int>();
        for (int ax = 0; ax < r; ax++)
        {
            if (T.Contains(ax)) continue;
            if (D.Contains(ax)) dims.Add(a.Shape[ax]); else { dims.Add(a.Shape[ax]); dims.Add(b.Shape[ax]); }
        }
        var outShape = new Shape(dims);
        var res = new double[outShape.Size];
        var tSizes = T.Select(t => a.Shape[t]).ToArray();
        int tCount = tSizes.Aggregate(1, (x, y) => x * y);
        var ia = new int[a.Rank]; var ib = new int[b.Rank];
        var outIdx = new int[outShape.Rank];
        for (int o = 0; o < res.Length; o++)
        {
            int rem = o;
            for (int k = outShape.Rank - 1; k >= 0; k--) { outIdx[k] = rem % outShape[k]; rem /= outShape[k]; }
            int pos = 0;
            for (int ax = 0; ax < r; ax++)
            {
                if (T.Contains(ax)) continue;
                if (D.Contains(ax)) { ia[ax] = ib[ax] = outIdx[pos++]; }
                else { ia[ax] = outIdx[pos++]; ib[ax] = outIdx[pos++]; }
            }
            double s = 0;
            for (int tc = 0; tc < tCount; tc++)
            {
                int tr = tc;
                for (int k = T.Length - 1; k >= 0; k--) { ia[T[k]] = ib[T[k]] = tr % tSizes[k]; tr /= tSizes[k]; }
                for (int p = 0; p < P; p++)
                {
                    if (trailingP) { ia[r] = p; ib[r] = p; }
                    s += a[ia] * b[ib];
                }
            }
            res[o] = s / tCount;
        }
        return Tensor.FromArray(res, outShape);
    }
}
