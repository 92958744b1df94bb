using System.Runtime.InteropServices;

namespace NeuralTangents.Cuda;

/// <summary>
/// A block of device memory owned by a <see cref="SafeHandle"/>: disposing (or finalising) returns it to the
/// device's <see cref="DeviceMemoryPool"/>. Copies are synchronous (<c>cudaMemcpy</c> on the default stream), so
/// a download sees every kernel queued before it. A zero-byte buffer holds a null pointer and copies nothing.
/// </summary>
internal sealed unsafe class DeviceBuffer : SafeHandle
{
    private readonly DeviceMemoryPool _pool;

    /// <summary>Size in bytes.</summary>
    public long ByteLength { get; }

    /// <summary>Ordinal of the device holding the memory.</summary>
    public int Device => _pool.Device;

    public override bool IsInvalid => handle == IntPtr.Zero;

    private DeviceBuffer(DeviceMemoryPool pool, long bytes) : base(IntPtr.Zero, ownsHandle: true)
    {
        _pool = pool;
        ByteLength = bytes;
        SetHandle(pool.Rent(bytes));
    }

    protected override bool ReleaseHandle()
    {
        _pool.Return(handle, ByteLength);
        return true;
    }

    /// <summary>Uninitialised device memory of <paramref name="bytes"/> bytes.</summary>
    /// <exception cref="InvalidOperationException">CUDA is unavailable.</exception>
    public static DeviceBuffer Allocate(long bytes, int device = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return new DeviceBuffer(CudaRuntime.State.Memory(device), bytes);
    }

    /// <summary>Uninitialised device memory for <paramref name="count"/> elements.</summary>
    public static DeviceBuffer Allocate<T>(long count, int device = 0) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Allocate(checked(count * sizeof(T)), device);
    }

    /// <summary>A device copy of <paramref name="data"/>.</summary>
    public static DeviceBuffer FromHost<T>(ReadOnlySpan<T> data, int device = 0) where T : unmanaged
    {
        var b = Allocate<T>(data.Length, device);
        try { b.Upload(data); }
        catch { b.Dispose(); throw; }
        return b;
    }

    /// <summary>Copies <paramref name="source"/> to the device, starting <paramref name="elementOffset"/> elements in.</summary>
    public void Upload<T>(ReadOnlySpan<T> source, long elementOffset = 0) where T : unmanaged
    {
        long offset = CheckRange(elementOffset * sizeof(T), (long)source.Length * sizeof(T), nameof(source));
        if (source.IsEmpty) return;
        using var lease = Acquire();
        fixed (T* p = source)
            Check(Rt.Memcpy((byte*)lease.Pointer + offset, p, (nuint)((long)source.Length * sizeof(T)), (int)CudaMemcpyKind.HostToDevice), "cudaMemcpy(HostToDevice)");
    }

    /// <summary>Copies device memory starting <paramref name="elementOffset"/> elements in into <paramref name="destination"/>.</summary>
    public void Download<T>(Span<T> destination, long elementOffset = 0) where T : unmanaged
    {
        long offset = CheckRange(elementOffset * sizeof(T), (long)destination.Length * sizeof(T), nameof(destination));
        if (destination.IsEmpty) return;
        using var lease = Acquire();
        fixed (T* p = destination)
            Check(Rt.Memcpy(p, (byte*)lease.Pointer + offset, (nuint)((long)destination.Length * sizeof(T)), (int)CudaMemcpyKind.DeviceToHost), "cudaMemcpy(DeviceToHost)");
    }

    /// <summary>The whole buffer as host elements.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        if (ByteLength % sizeof(T) != 0)
            throw new InvalidOperationException($"buffer of {ByteLength} bytes is not a whole number of {typeof(T).Name} ({sizeof(T)} bytes)");
        var a = new T[ByteLength / sizeof(T)];
        Download<T>(a);
        return a;
    }

    /// <summary>Device-to-device copy of <paramref name="bytes"/> bytes (both buffers may be on different devices).</summary>
    public void CopyFrom(DeviceBuffer source, long bytes, long sourceOffset = 0, long destinationOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(source);
        source.CheckRange(sourceOffset, bytes, nameof(source));
        CheckRange(destinationOffset, bytes, nameof(bytes));
        if (bytes == 0) return;
        using var src = source.Acquire();
        using var dst = Acquire();
        Check(Rt.Memcpy((byte*)dst.Pointer + destinationOffset, (byte*)src.Pointer + sourceOffset, (nuint)bytes, (int)CudaMemcpyKind.DeviceToDevice), "cudaMemcpy(DeviceToDevice)");
    }

    /// <summary>Sets every byte to zero (all-zero bits are +0.0 for float and double).</summary>
    public void Clear()
    {
        if (ByteLength == 0) return;
        using var lease = Acquire();
        Check(Rt.Memset((void*)lease.Pointer, 0, (nuint)ByteLength), "cudaMemset");
    }

    private CudartApi Rt => _pool.Runtime;

    private void Check(int status, string call) => Rt.Check(status, call);

    private long CheckRange(long offset, long bytes, string param)
    {
        if (offset < 0 || bytes < 0 || offset + bytes > ByteLength)
            throw new ArgumentOutOfRangeException(param, $"range of {bytes} bytes at offset {offset} does not fit a device buffer of {ByteLength} bytes");
        return offset;
    }

    /// <summary>
    /// Keeps the handle alive (AddRef) while the raw pointer is in use, so a concurrent Dispose cannot return the
    /// block to the pool under a running copy. Also makes the buffer's device current on this thread.
    /// </summary>
    internal PointerLease Acquire()
    {
        bool added = false;
        DangerousAddRef(ref added);
        try { Check(Rt.SetDevice(Device), "cudaSetDevice"); }
        catch { DangerousRelease(); throw; }
        return new PointerLease(this, DangerousGetHandle());
    }

    internal readonly ref struct PointerLease(DeviceBuffer owner, IntPtr pointer)
    {
        public IntPtr Pointer { get; } = pointer;
        public void Dispose() => owner.DangerousRelease();
    }
}
