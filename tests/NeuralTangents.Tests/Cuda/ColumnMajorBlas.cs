using NeuralTangents.Cuda;

namespace NeuralTangents.Tests.Cuda;

/// <summary>
/// A managed stand-in for cuBLAS gemm with the reference BLAS semantics (column-major, leading-dimension checks of
/// cuBLAS), and a <see cref="IBatchedGemm"/> that goes through <see cref="GemmPlan"/> exactly as the GPU path does.
/// </summary>
internal static class ColumnMajorBlas
{
    /// <summary>C = alpha·op(A)·op(B) + beta·C, all column-major, starting at the given offsets.</summary>
    public static void Gemm(CublasOperation ta, CublasOperation tb, int m, int n, int k, double alpha,
                            double[] a, long aOff, int lda, double[] b, long bOff, int ldb, double beta, double[] c, long cOff, int ldc)
    {
        // cuBLAS returns CUBLAS_STATUS_INVALID_VALUE for these; the plan must never produce them.
        if (m < 0 || n < 0 || k < 0) throw new InvalidOperationException("negative size");
        if (lda < Math.Max(1, ta == CublasOperation.N ? m : k)) throw new InvalidOperationException($"lda {lda} too small");
        if (ldb < Math.Max(1, tb == CublasOperation.N ? k : n)) throw new InvalidOperationException($"ldb {ldb} too small");
        if (ldc < Math.Max(1, m)) throw new InvalidOperationException($"ldc {ldc} too small");
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++)
            {
                double s = 0;
                for (int l = 0; l < k; l++)
                {
                    double x = ta == CublasOperation.N ? a[aOff + i + (long)l * lda] : a[aOff + l + (long)i * lda];
                    double y = tb == CublasOperation.N ? b[bOff + l + (long)j * ldb] : b[bOff + j + (long)l * ldb];
                    s += x * y;
                }
                long ci = cOff + i + (long)j * ldc;
                c[ci] = alpha * s + (beta == 0 ? 0 : beta * c[ci]);
            }
    }

    /// <summary>Runs a row-major GEMM through the plan: B is cuBLAS's first operand, A its second.</summary>
    public static void RunPlan(GemmPlan p, int batch, double[] a, long strideA, double[] b, long strideB, double[] c, long strideC)
    {
        for (int i = 0; i < batch; i++)
            Gemm(p.TransA, p.TransB, p.M, p.N, p.K, 1, b, i * strideB, p.Lda, a, i * strideA, p.Ldb, 0, c, i * strideC, p.Ldc);
    }

    /// <summary>IBatchedGemm over the plan and the emulator, checking operand extents like CudaBlas does.</summary>
    public sealed class Executor : IBatchedGemm
    {
        private readonly object _lock = new();

        /// <summary>GEMM calls executed (a program counts each of its calls).</summary>
        public int Calls { get; private set; }

        /// <summary>Programs (transfers of A and B) executed.</summary>
        public int Programs { get; private set; }

        public List<(bool TransA, bool TransB)> Transposes { get; } = [];

        public List<GemmCall> History { get; } = [];

        public void EnsureReady() { }

        public void Run<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, IReadOnlyList<GemmCall> calls)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            lock (_lock)
            {
                Programs++;
                foreach (var q in calls)
                {
                    Calls++;
                    Transposes.Add((q.TransA, q.TransB));
                    History.Add(q);
                    var plan = GemmPlan.RowMajor(q.M, q.N, q.K, q.TransA, q.Lda, q.TransB, q.Ldb, q.Ldc);
                    var (needA, needB, needC) = CudaBlas.BatchExtents(q.Batch, plan, q.StrideA, q.StrideB, q.StrideC);
                    // Exactly-sized copies: any read outside the declared extent throws.
                    var da = ToDouble(a.Slice((int)q.AOffset, (int)needA));
                    var db = ToDouble(b.Slice((int)q.BOffset, (int)needB));
                    var cs = c.Slice((int)q.COffset, (int)needC);
                    var dc = ToDouble((ReadOnlySpan<T>)cs);
                    RunPlan(plan, q.Batch, da, q.StrideA, db, q.StrideB, dc, q.StrideC);
                    for (int i = 0; i < dc.Length; i++) cs[i] = T.CreateTruncating(dc[i]);
                }
            }
        }

        private static double[] ToDouble<T>(ReadOnlySpan<T> s) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            var d = new double[s.Length];
            for (int i = 0; i < s.Length; i++) d[i] = double.CreateChecked(s[i]);
            return d;
        }
    }
}
