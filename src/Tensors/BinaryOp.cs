namespace NeuralTangents.Tensors;

/// <summary>Element-wise binary primitives (lax names in parentheses).</summary>
public enum BinaryOp
{
    /// <summary>a + b (<c>add</c>).</summary>
    Add,
    /// <summary>a − b (<c>sub</c>).</summary>
    Sub,
    /// <summary>a · b (<c>mul</c>).</summary>
    Mul,
    /// <summary>a / b (<c>div</c>).</summary>
    Div,
    /// <summary>Maximum, NaN-propagating (<c>max</c>).</summary>
    Max,
    /// <summary>Minimum, NaN-propagating (<c>min</c>).</summary>
    Min,
    /// <summary>aᵇ with real exponent (<c>pow</c>).</summary>
    Pow,
}
