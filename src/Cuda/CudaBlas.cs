using System.Numerics;

namespace NeuralTangents.Cuda;

/// <summary>
/// Row-major GEMM on the GPU through cuBLAS (see <see cref="GemmPlan"/> for the column-major mapping):
/// <c>C = op(A)·op(B)</c> on host spans (upload, compute, download) or <c>C = α·op(A)·op(B) + β·C</c> on device
/// buffers, single or strided-batched. cuBLAS handles come from a per-device pool, one borrower at a time, so
/// concurrent callers never share a handle. float32 never uses TF32 unless <see cref="CublasMath.Tf32TensorOp"/>
/// is passed.
/// </summary>
internal static unsafe class CudaBlas
{
    /// <summary>Row-major <c>C = op(A)·op(B)</c> on host memory; only C's m×n entries are written.</summary>
    public static void Gemm<T>(int m, int n, int k, ReadOnlySpan<T> a, int lda, bool transA, ReadOnlySpan<T> b, int ldb, bool transB,
                               Span<T> c, int ldc, int device = 0, CublasMath math = CublasMath.Default)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GemmStridedBatched(1, m, n, k, a, lda, 0, transA, b, ldb, 0, transB, c, ldc, 0, device, math);

    /// <summary>
    /// Row-major batched GEMM on host memory: for each i &lt; <paramref name="batch"/>, matrix i of A starts at
    /// element i·strideA (likewise B and C). A zero stride for A or B reuses one matrix for the whole batch.
    /// </summary>
    public static void GemmStridedBatched<T>(int batch, int m, int n, int k, ReadOnlySpan<T> a, int lda, long strideA, bool transA,
                                             ReadOnlySpan<T> b, int ldb, long strideB, bool transB, Span<T> c, int ldc, long strideC,
                                             int device = 0, CublasMath math = CublasMath.Default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        _ = DTypeOf<T>();
        var plan = GemmPlan.RowMajor(m, n, k, transA, lda, transB, ldb, ldc);
        var (needA, needB, needC) = BatchExtents(batch, plan, strideA, strideB, strideC);
        CheckLength(a.Length, needA, nameof(a));
        CheckLength(b.Length, needB, nameof(b));
        CheckLength(c.Length, needC, nameof(c));
        if (batch == 0 || m == 0 || n == 0) return;
        if (k == 0)
        {
            // An empty sum: no GPU needed.
            for (int i = 0; i < batch; i++)
                for (int r = 0; r < m; r++)
                    c.Slice((int)(i * strideC + (long)r * ldc), n).Clear();
            return;
        }
        CudaRuntime.Require().CheckOrdinal(device);
        using var da = DeviceBuffer.FromHost(a[..checked((int)needA)], device);
        using var db = DeviceBuffer.FromHost(b[..checked((int)needB)], device);
        using var dc = DeviceBuffer.Allocate<T>(needC, device);
        var cHost = c[..checked((int)needC)];
        // Padding between rows or matrices must survive the round trip, so upload C when it has any.
        if (needC != (long)batch * m * n) dc.Upload<T>(cHost);
        Run<T>(plan, batch, da, strideA, db, strideB, dc, strideC, 1, 0, math);
        dc.Download(cHost);
    }

    /// <summary>Row-major <c>C = α·op(A)·op(B) + β·C</c> on device buffers (all on one device).</summary>
    public static void Gemm<T>(int m, int n, int k, DeviceBuffer a, int lda, bool transA, DeviceBuffer b, int ldb, bool transB,
                               DeviceBuffer c, int ldc, double alpha = 1, double beta = 0, CublasMath math = CublasMath.Default)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GemmStridedBatched<T>(1, m, n, k, a, lda, 0, transA, b, ldb, 0, transB, c, ldc, 0, alpha, beta, math);

    /// <summary>Row-major strided-batched <c>C = α·op(A)·op(B) + β·C</c> on device buffers (all on one device).</summary>
    public static void GemmStridedBatched<T>(int batch, int m, int n, int k, DeviceBuffer a, int lda, long strideA, bool transA,
                                             DeviceBuffer b, int ldb, long strideB, bool transB, DeviceBuffer c, int ldc, long strideC,
                                             double alpha = 1, double beta = 0, CublasMath math = CublasMath.Default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        _ = DTypeOf<T>();
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        var plan = GemmPlan.RowMajor(m, n, k, transA, lda, transB, ldb, ldc);
        var (needA, needB, needC) = BatchExtents(batch, plan, strideA, strideB, strideC);
        CheckLength(a.ByteLength / sizeof(T), needA, nameof(a));
        CheckLength(b.ByteLength / sizeof(T), needB, nameof(b));
        CheckLength(c.ByteLength / sizeof(T), needC, nameof(c));
        if (a.Device != c.Device || b.Device != c.Device)
            throw new ArgumentException($"gemm: buffers must be on one device, got a on cuda:{a.Device}, b on cuda:{b.Device}, c on cuda:{c.Device}", nameof(c));
        if (batch == 0 || m == 0 || n == 0) return;
        Run<T>(plan, batch, a, strideA, b, strideB, c, strideC, alpha, beta, math);
    }

    /// <summary>
    /// A GEMM program on host memory: uploads <paramref name="a"/> and <paramref name="b"/> once, runs every call on
    /// the device (one cuBLAS handle for the whole program), downloads C. C is uploaded first only when the calls do
    /// not write all of it, so entries no call writes keep their values.
    /// </summary>
    internal static void RunProgram<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, IReadOnlyList<GemmCall> calls,
                                       int device, CublasMath math)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        _ = DTypeOf<T>();
        ArgumentNullException.ThrowIfNull(calls);
        var plans = new GemmPlan[calls.Count];
        long written = 0;
        bool anyGpu = false;
        for (int i = 0; i < calls.Count; i++)
        {
            var q = calls[i];
            plans[i] = GemmPlan.RowMajor(q.M, q.N, q.K, q.TransA, q.Lda, q.TransB, q.Ldb, q.Ldc);
            var (na, nb, nc) = BatchExtents(q.Batch, plans[i], q.StrideA, q.StrideB, q.StrideC);
            CheckWithin(a.Length, q.AOffset, na, nameof(a), i);
            CheckWithin(b.Length, q.BOffset, nb, nameof(b), i);
            CheckWithin(c.Length, q.COffset, nc, nameof(c), i);
            if (q.Batch == 0 || q.M == 0 || q.N == 0) continue;
            written += (long)q.Batch * q.M * q.N;
            anyGpu |= q.K > 0;
        }
        if (anyGpu)
        {
            CudaRuntime.Require().CheckOrdinal(device);
            using var da = DeviceBuffer.FromHost(a, device);
            using var db = DeviceBuffer.FromHost(b, device);
            using var dc = DeviceBuffer.Allocate<T>(c.Length, device);
            if (written < c.Length) dc.Upload<T>(c);
            using (var lease = CudaRuntime.Require().Handles(device).Rent(math))
            {
                using var pa = da.Acquire();
                using var pb = db.Acquire();
                using var pc = dc.Acquire();
                for (int i = 0; i < calls.Count; i++)
                {
                    var q = calls[i];
                    if (q.Batch == 0 || q.M == 0 || q.N == 0 || q.K == 0) continue;
                    Launch<T>(lease, plans[i], q.Batch,
                        pa.Pointer + (nint)(q.AOffset * sizeof(T)), q.StrideA,
                        pb.Pointer + (nint)(q.BOffset * sizeof(T)), q.StrideB,
                        pc.Pointer + (nint)(q.COffset * sizeof(T)), q.StrideC, 1, 0);
                }
            }
            dc.Download(c);
        }
        // Empty sums need no GPU: their outputs are zeros.
        foreach (var q in calls)
            if (q.K == 0)
                for (int bi = 0; bi < q.Batch; bi++)
                    for (int r = 0; r < q.M; r++)
                        c.Slice(checked((int)(q.COffset + bi * q.StrideC + (long)r * q.Ldc)), q.N).Clear();
    }

    private static void CheckWithin(long length, long offset, long extent, string name, int call)
    {
        if (offset < 0 || (extent > 0 && offset + extent > length))
            throw new ArgumentException($"gemm program call {call}: {name} needs elements [{offset}, {offset + extent}) but has {length}", name);
    }

    /// <summary>Device buffers: leases a handle and pins the buffers for one call.</summary>
    private static void Run<T>(GemmPlan p, int batch, DeviceBuffer a, long strideA, DeviceBuffer b, long strideB,
                               DeviceBuffer c, long strideC, double alpha, double beta, CublasMath math)
        where T : unmanaged
    {
        using var lease = CudaRuntime.Require().Handles(c.Device).Rent(math);
        using var pa = a.Acquire();
        using var pb = b.Acquire();
        using var pc = c.Acquire();
        Launch<T>(lease, p, batch, pa.Pointer, strideA, pb.Pointer, strideB, pc.Pointer, strideC, alpha, beta);
    }

    /// <summary>The cuBLAS call itself: our B is cuBLAS's first operand, our A its second.</summary>
    private static void Launch<T>(CublasHandlePool.Lease lease, GemmPlan p, int batch, IntPtr a, long strideA, IntPtr b, long strideB,
                                  IntPtr c, long strideC, double alpha, double beta)
        where T : unmanaged
    {
        var api = lease.Api;
        var h = lease.Handle;
        int ta = (int)p.TransA, tb = (int)p.TransB;
        if (typeof(T) == typeof(float))
        {
            float al = (float)alpha, be = (float)beta;
            float* first = (float*)b, second = (float*)a, dst = (float*)c;
            if (batch == 1)
                api.Check(api.Sgemm(h, ta, tb, p.M, p.N, p.K, &al, first, p.Lda, second, p.Ldb, &be, dst, p.Ldc), "cublasSgemm_v2");
            else
                api.Check(api.SgemmStridedBatched(h, ta, tb, p.M, p.N, p.K, &al, first, p.Lda, strideB, second, p.Ldb, strideA,
                                                  &be, dst, p.Ldc, strideC, batch), "cublasSgemmStridedBatched");
        }
        else
        {
            double al = alpha, be = beta;
            double* first = (double*)b, second = (double*)a, dst = (double*)c;
            if (batch == 1)
                api.Check(api.Dgemm(h, ta, tb, p.M, p.N, p.K, &al, first, p.Lda, second, p.Ldb, &be, dst, p.Ldc), "cublasDgemm_v2");
            else
                api.Check(api.DgemmStridedBatched(h, ta, tb, p.M, p.N, p.K, &al, first, p.Lda, strideB, second, p.Ldb, strideA,
                                                  &be, dst, p.Ldc, strideC, batch), "cublasDgemmStridedBatched");
        }
    }

    /// <summary>Validates batch and strides; returns the elements each operand spans.</summary>
    internal static (long A, long B, long C) BatchExtents(int batch, GemmPlan plan, long strideA, long strideB, long strideC)
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "gemm: batch count must be non-negative");
        if (strideA < 0 || strideB < 0)
            throw new ArgumentException($"gemm: strides must be non-negative, got strideA={strideA}, strideB={strideB}", nameof(strideA));
        // Overlapping outputs would make the result depend on execution order. Our n and ldc are the plan's M and Ldc.
        bool stacked = strideC >= plan.ElementsC;
        bool sideBySide = strideC >= plan.M && (batch - 1) * strideC + plan.M <= plan.Ldc;
        if (batch > 1 && !stacked && !sideBySide)
            throw new ArgumentException($"gemm: strideC must be at least {plan.ElementsC} (one C matrix) or place the outputs side by side within ldc {plan.Ldc}, so outputs do not overlap; got {strideC}", nameof(strideC));
        return (GemmPlan.BatchedExtent(batch, plan.ElementsA, strideA),
                GemmPlan.BatchedExtent(batch, plan.ElementsB, strideB),
                GemmPlan.BatchedExtent(batch, plan.ElementsC, strideC));
    }

    private static void CheckLength(long have, long need, string name)
    {
        if (have < need) throw new ArgumentException($"gemm: {name} needs at least {need} elements for these sizes, got {have}", name);
    }

    private static NeuralTangents.Tensors.DType DTypeOf<T>() => NeuralTangents.Tensors.DTypes.Of<T>();
}
