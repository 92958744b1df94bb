namespace NeuralTangents.Tensors;

/// <summary>Element-wise unary primitives (lax names in parentheses).</summary>
public enum UnaryOp
{
    /// <summary>−x (<c>neg</c>).</summary>
    Neg,
    /// <summary>eˣ (<c>exp</c>).</summary>
    Exp,
    /// <summary>Natural logarithm (<c>log</c>); −∞ at 0, NaN below.</summary>
    Log,
    /// <summary>Hyperbolic tangent (<c>tanh</c>).</summary>
    Tanh,
    /// <summary>Gauss error function (<c>erf</c>).</summary>
    Erf,
    /// <summary>Sine (<c>sin</c>).</summary>
    Sin,
    /// <summary>Cosine (<c>cos</c>).</summary>
    Cos,
    /// <summary>Square root (<c>sqrt</c>).</summary>
    Sqrt,
    /// <summary>1/√x (<c>rsqrt</c>).</summary>
    Rsqrt,
    /// <summary>|x| (<c>abs</c>).</summary>
    Abs,
    /// <summary>−1, 0 or 1; keeps ±0 and NaN (<c>sign</c>).</summary>
    Sign,
    /// <summary>1/(1+e⁻ˣ) (<c>logistic</c>).</summary>
    Logistic,
}
