namespace NeuralTangents.Tensors;

/// <summary>Element type of a <see cref="Tensor"/>. Kernels are computed in these IEEE types only.</summary>
public enum DType
{
    /// <summary>IEEE 754 binary32 (<see cref="float"/>).</summary>
    Float32,
    /// <summary>IEEE 754 binary64 (<see cref="double"/>).</summary>
    Float64,
}

/// <summary>Helpers for <see cref="DType"/>.</summary>
public static class DTypes
{
    /// <summary>Size of one element in bytes.</summary>
    public static int SizeOf(this DType d) => d == DType.Float32 ? 4 : 8;

    /// <summary>Lower-case name as NumPy spells it (<c>float32</c>, <c>float64</c>).</summary>
    public static string Name(this DType d) => d == DType.Float32 ? "float32" : "float64";

    /// <summary>The <see cref="DType"/> of a CLR element type.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public static DType Of<T>() =>
        typeof(T) == typeof(float) ? DType.Float32 :
        typeof(T) == typeof(double) ? DType.Float64 :
        throw new NotSupportedException($"element type {typeof(T).Name} is not supported; use float or double");

    /// <summary>Parses <c>float32</c>/<c>f32</c>/<c>float64</c>/<c>f64</c>.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static DType Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "float32" or "f32" or "float" or "single" => DType.Float32,
        "float64" or "f64" or "double" => DType.Float64,
        _ => throw new ArgumentException($"unknown dtype '{name}', expected float32 or float64", nameof(name)),
    };
}
