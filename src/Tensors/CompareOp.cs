namespace NeuralTangents.Tensors;

/// <summary>Element-wise IEEE comparisons (NaN compares unequal to everything, so only <see cref="Ne"/> is true for it).</summary>
public enum CompareOp
{
    /// <summary>a == b (<c>eq</c>).</summary>
    Eq,
    /// <summary>a != b (<c>ne</c>).</summary>
    Ne,
    /// <summary>a &lt; b (<c>lt</c>).</summary>
    Lt,
    /// <summary>a &lt;= b (<c>le</c>).</summary>
    Le,
    /// <summary>a &gt; b (<c>gt</c>).</summary>
    Gt,
    /// <summary>a &gt;= b (<c>ge</c>).</summary>
    Ge,
}
