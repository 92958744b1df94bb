using System.Globalization;

namespace NeuralTangents.Cuda;

/// <summary>
/// Where a computation runs: <see cref="Cpu"/> or <see cref="Cuda(int)"/>. Prints and parses as
/// <c>cpu</c>, <c>cuda</c> (= <c>cuda:0</c>) or <c>cuda:N</c>. Value equality (it is a record).
/// </summary>
public abstract record Device
{
    private protected Device() { }

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

    /// <summary><c>cuda:N</c>.</summary>
    public override string ToString() => $"cuda:{Ordinal.ToString(CultureInfo.InvariantCulture)}";
}
