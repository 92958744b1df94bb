using System.Collections.Concurrent;

namespace NeuralTangents.Cuda;

/// <summary>
/// Caches freed device blocks by exact byte size so repeated kernels of the same shapes skip cudaMalloc/cudaFree
/// (both synchronise the device). Thread-safe; the cache is capped at <see cref="MaxCachedBytes"/> and emptied
/// (then the allocation retried once) when cudaMalloc reports out-of-memory.
/// </summary>
internal sealed unsafe class DeviceMemoryPool
{
    private const int CudaErrorMemoryAllocation = 2;

    private readonly CudartApi _rt;
    private readonly ConcurrentDictionary<long, ConcurrentStack<IntPtr>> _free = new();
    private long _cachedBytes;

    public int Device { get; }

    internal CudartApi Runtime => _rt;

    /// <summary>Upper bound on bytes held in the cache (not on bytes in use).</summary>
    public long MaxCachedBytes { get; }

    public long CachedBytes => Interlocked.Read(ref _cachedBytes);

    internal DeviceMemoryPool(CudartApi rt, int device, long maxCachedBytes = 4L << 30)
    {
        _rt = rt;
        Device = device;
        MaxCachedBytes = maxCachedBytes;
    }

    /// <summary>A block of exactly <paramref name="bytes"/> bytes (zero bytes gives a null pointer).</summary>
    internal IntPtr Rent(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0) return IntPtr.Zero;
        if (_free.TryGetValue(bytes, out var stack) && stack.TryPop(out var cached))
        {
            Interlocked.Add(ref _cachedBytes, -bytes);
            return cached;
        }
        _rt.Check(_rt.SetDevice(Device), "cudaSetDevice");
        void* p;
        int status = _rt.Malloc(&p, (nuint)bytes);
        if (status == CudaErrorMemoryAllocation)
        {
            Trim();
            status = _rt.Malloc(&p, (nuint)bytes);
        }
        _rt.Check(status, $"cudaMalloc({bytes} bytes)");
        return (IntPtr)p;
    }

    /// <summary>Takes a block back; may run on the finalizer thread, so it never throws.</summary>
    internal void Return(IntPtr ptr, long bytes)
    {
        if (ptr == IntPtr.Zero) return;
        if (Interlocked.Add(ref _cachedBytes, bytes) <= MaxCachedBytes)
        {
            _free.GetOrAdd(bytes, _ => new ConcurrentStack<IntPtr>()).Push(ptr);
            return;
        }
        Interlocked.Add(ref _cachedBytes, -bytes);
        FreeQuietly(ptr);
    }

    /// <summary>Frees every cached block.</summary>
    internal void Trim()
    {
        foreach (var (bytes, stack) in _free)
            while (stack.TryPop(out var p))
            {
                Interlocked.Add(ref _cachedBytes, -bytes);
                FreeQuietly(p);
            }
    }

    private void FreeQuietly(IntPtr p)
    {
        // Errors here mean the runtime is shutting down (cudaErrorCudartUnloading) or the context is already
        // broken; the memory is gone either way, and finalizers must not throw.
        _rt.SetDevice(Device);
        _rt.Free((void*)p);
    }
}
