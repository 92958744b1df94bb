using System.Globalization;
using NeuralTangents.Tensors;

namespace NeuralTangents.Cuda;

/// <summary>
/// Where a computation runs: <see cref="Cpu"/> or <see cref="Cuda(int)"/>. Prints and parses as
/// <c>cpu</c>, <c>cuda</c> (= <c>cuda:0</c>) or <c>cuda:N</c>. Value equality (it is a record).
/// Select one for a block of code with <see cref="Use"/>:
/// <code>
/// using (Device.Cuda(0).Use())
/// {
///     var k = ntkFn(x1, x2, p);   // dot_general and convolutions run on cuda:0
/// }
/// </code>
/// </summary>
public abstract record Device
{
    private protected Device() { }

    /// <summary>
    /// The backend that runs the hot kernels (<c>dot_general</c>, convolutions) on this device:
    /// <see cref="ComputeBackend.Cpu"/>, or one <see cref="CudaBackend"/> per CUDA ordinal shared by the process
    /// (created on first use, thread-safe).
    /// </summary>
    /// <exception cref="InvalidOperationException">A CUDA device was asked for and CUDA is unavailable (the message gives the reason).</exception>
    /// <exception cref="ArgumentOutOfRangeException">The CUDA ordinal is not a device of this machine.</exception>
    public abstract ComputeBackend Backend { get; }

    /// <summary>
    /// Runs the computations of the current call flow on this device until the returned scope is disposed
    /// (<see cref="ComputeBackend.Use"/> with <see cref="Backend"/>); scopes nest, and other threads are unaffected.
    /// <code>using (Device.Cuda(0).Use()) { var k = ntkFn(x1, x2, p); }</code>
    /// </summary>
    /// <exception cref="InvalidOperationException">CUDA is unavailable (the message gives the reason).</exception>
    /// <exception cref="ArgumentOutOfRangeException">The CUDA ordinal is not a device of this machine.</exception>
    public IDisposable Use() => ComputeBackend.Use(Backend);

    /// <summary>The host CPU.</summary>
    public static Device Cpu { get; } = new CpuDevice();

    /// <summary>CUDA device number <paramref name="ordinal"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is negative.</exception>
    public static CudaDevice Cuda(int ordinal = 0) => new(ordinal);

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (case-insensitive, surrounding blanks ignored).</summary>
    /// <exception cref="ArgumentException"><paramref name="text"/> is none of these.</exception>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var d)
            ? d
            : throw new ArgumentException($"unknown device '{text}', expected 'cpu', 'cuda' or 'cuda:N' with N a non-negative integer", nameof(text));
    }

    /// <summary>Like <see cref="Parse"/> but returns false instead of throwing.</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Device? device)
    {
        device = null;
        if (text is null) return false;
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") { device = Cpu; return true; }
        if (t == "cuda") { device = Cuda(0); return true; }
        if (t.StartsWith("cuda:", StringComparison.Ordinal)
            && t.Length > 5 && t.Skip(5).All(char.IsAsciiDigit)
            && int.TryParse(t.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            device = Cuda(n);
            return true;
        }
        return false;
    }
}

/// <summary>The host CPU (<see cref="Device.Cpu"/>).</summary>
public sealed record CpuDevice : Device
{
    internal CpuDevice() { }

    /// <summary><see cref="ComputeBackend.Cpu"/>.</summary>
    public override ComputeBackend Backend => ComputeBackend.Cpu;

    /// <summary><c>cpu</c>.</summary>
    public override string ToString() => "cpu";
}

/// <summary>A CUDA device by ordinal (<see cref="Device.Cuda(int)"/>).</summary>
public sealed record CudaDevice : Device
{
    /// <summary>Device number as the CUDA runtime counts them.</summary>
    public int Ordinal { get; }

    /// <summary>CUDA device number <paramref name="ordinal"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is negative.</exception>
    public CudaDevice(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        Ordinal = ordinal;
    }

    /// <summary>The shared <see cref="CudaBackend"/> of this ordinal.</summary>
    /// <exception cref="InvalidOperationException">CUDA is unavailable (the message gives the reason).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Ordinal"/> is not a device of this machine.</exception>
    public override ComputeBackend Backend => CudaBackend.ForOrdinal(Ordinal);

    /// <summary><c>cuda:N</c>.</summary>
    public override string ToString() => $"cuda:{Ordinal.ToString(CultureInfo.InvariantCulture)}";
}
