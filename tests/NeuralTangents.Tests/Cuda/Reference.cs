using NeuralTangents.Tensors;

namespace NeuralTangents.Tests.Cuda;

/// <summary>Naive float64 references for GEMM and dot_general.</summary>
internal static class Reference
{
    /// <summary>Row-major C = op(A)·op(B) in float64, plus Σ|a||b| per entry (the scale of rounding error).</summary>
    public static (double[] C, double[] Scale) Gemm(int batch, int m, int n, int k, double[] a, int lda, long strideA, bool transA,
                                                     double[] b, int ldb, long strideB, bool transB, int ldc, long strideC, long cLength)
    {
        var c = new double[cLength];
        var scale = new double[cLength];
        for (int bi = 0; bi < batch; bi++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0, abs = 0;
                    for (int l = 0; l < k; l++)
                    {
                        double x = transA ? a[bi * strideA + (long)l * lda + i] : a[bi * strideA + (long)i * lda + l];
                        double y = transB ? b[bi * strideB + (long)j * ldb + l] : b[bi * strideB + (long)l * ldb + j];
                        s += x * y;
                        abs += Math.Abs(x * y);
                    }
                    c[bi * strideC + (long)i * ldc + j] = s;
                    scale[bi * strideC + (long)i * ldc + j] = abs;
                }
        return (c, scale);
    }

    /// <summary>dot_general by summing over every contracting index, output batch ++ lhs free ++ rhs free.</summary>
    public static double[] DotGeneral(Tensor lhs, Tensor rhs, int[] lc, int[] rc, int[] lb, int[] rb, out Shape shape)
    {
        var lf = Enumerable.Range(0, lhs.Rank).Except(lb).Except(lc).ToArray();
        var rf = Enumerable.Range(0, rhs.Rank).Except(rb).Except(rc).ToArray();
        var bDims = lb.Select(i => lhs.Shape[i]).ToArray();
        var lfDims = lf.Select(i => lhs.Shape[i]).ToArray();
        var rfDims = rf.Select(i => rhs.Shape[i]).ToArray();
        var cDims = lc.Select(i => lhs.Shape[i]).ToArray();
        shape = new Shape(bDims.Concat(lfDims).Concat(rfDims));
        var outp = new List<double>();
        foreach (var bi in Indices(bDims))
            foreach (var li in Indices(lfDims))
                foreach (var ri in Indices(rfDims))
                {
                    double s = 0;
                    foreach (var ci in Indices(cDims))
                    {
                        var lix = new int[lhs.Rank];
                        var rix = new int[rhs.Rank];
                        for (int t = 0; t < lb.Length; t++) { lix[lb[t]] = bi[t]; rix[rb[t]] = bi[t]; }
                        for (int t = 0; t < lc.Length; t++) { lix[lc[t]] = ci[t]; rix[rc[t]] = ci[t]; }
                        for (int t = 0; t < lf.Length; t++) lix[lf[t]] = li[t];
                        for (int t = 0; t < rf.Length; t++) rix[rf[t]] = ri[t];
                        s += lhs[lix] * rhs[rix];
                    }
                    outp.Add(s);
                }
        return outp.ToArray();
    }

    /// <summary>All index tuples of a shape in C order (one empty tuple for rank 0).</summary>
    public static IEnumerable<int[]> Indices(int[] dims)
    {
        if (dims.Any(d => d == 0)) yield break;
        var ix = new int[dims.Length];
        while (true)
        {
            yield return (int[])ix.Clone();
            int a = dims.Length - 1;
            while (a >= 0 && ++ix[a] == dims[a]) ix[a--] = 0;
            if (a < 0) yield break;
        }
    }

    public static double[] RandomArray(Random rng, long n)
    {
        var d = new double[n];
        for (long i = 0; i < n; i++) d[i] = rng.NextDouble() * 2 - 1;
        return d;
    }
}
