using System.Collections.Concurrent;

namespace NeuralTangents.Cuda;

/// <summary>
/// cuBLAS handles for one device, lent to one caller at a time: a handle is not safe for concurrent use, but any
/// thread may use it in turn. Handles are created on demand (one per concurrent caller) and live for the process.
/// </summary>
internal sealed unsafe class CublasHandlePool
{
    private readonly CudartApi _rt;
    private readonly CublasApi _blas;
    private readonly ConcurrentBag<IntPtr> _idle = [];

    public int Device { get; }

    internal CublasHandlePool(CudartApi rt, CublasApi blas, int device)
    {
        _rt = rt;
        _blas = blas;
        Device = device;
    }

    /// <summary>Makes <see cref="Device"/> current on this thread and lends a handle set to <paramref name="math"/>.</summary>
    internal Lease Rent(CublasMath math)
    {
        _rt.Check(_rt.SetDevice(Device), "cudaSetDevice");
        if (!_idle.TryTake(out var h))
        {
            IntPtr created;
            _blas.Check(_blas.Create(&created), "cublasCreate_v2");
            h = created;
        }
        try
        {
            // Set on every lease: the mode is per handle and the previous borrower may have asked for another one.
            _blas.Check(_blas.SetMathMode(h, (int)math), "cublasSetMathMode");
        }
        catch
        {
            _idle.Add(h);
            throw;
        }
        return new Lease(this, h);
    }

    /// <summary>A borrowed handle; dispose to give it back.</summary>
    internal readonly struct Lease(CublasHandlePool pool, IntPtr handle) : IDisposable
    {
        public IntPtr Handle => handle;
        public CublasApi Api => pool._blas;
        public void Dispose() => pool._idle.Add(handle);
    }
}
