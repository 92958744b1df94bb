namespace NeuralTangents.Stax;

/// <summary>Convolution / pooling padding, as Stax's <c>Padding</c> enum.</summary>
public enum Padding
{
    /// <summary>No padding: <c>out = floor((L − f) / s) + 1</c>.</summary>
    Valid,
    /// <summary><c>out = ceil(L / s)</c>; the total pad is split with the extra element on the high side.</summary>
    Same,
    /// <summary>Periodic boundary conditions: the input is wrapped around by SAME's pad amounts (<c>jnp.pad(mode='wrap')</c>)
    /// and then processed with VALID, so output sizes are SAME's (Conv, AvgPool, SumPool; not ConvTranspose).</summary>
    Circular,
}
