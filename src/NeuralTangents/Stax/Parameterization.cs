namespace NeuralTangents.Stax;

/// <summary>Weight parameterization of <c>Dense</c>, <c>Conv</c> and <c>ConvTranspose</c> (Stax's <c>parameterization</c>).</summary>
public enum Parameterization
{
    /// <summary><c>"ntk"</c> (the default): weights N(0, 1), the forward pass multiplies by <c>W_std/√fan_in</c> and the
    /// bias by <c>b_std</c>.</summary>
    Ntk,
    /// <summary><c>"standard"</c>: weights drawn N(0, W_std²/(fan_in/s₀)) and biases N(0, b_std²); the forward pass
    /// multiplies by <c>1/√s₀</c> only; the output width is <c>s₁·out</c>.</summary>
    Standard,
}
