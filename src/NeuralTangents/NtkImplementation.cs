namespace NeuralTangents;

/// <summary>
/// How the empirical NTK is computed (Neural Tangents' <c>NtkImplementation</c>, values 0–3). All return the same
/// numbers up to rounding; only speed and memory differ (paper: Novak et al. 2022, "Fast Finite Width NTK", §3–4).
/// </summary>
public enum NtkImplementation
{
    /// <summary>Picks an implementation from a cost model. Until the other implementations land it always picks
    /// <see cref="JacobianContraction"/>.</summary>
    Auto = 0,
    /// <summary>Materialises the Jacobians <c>∂f(x)/∂θ</c> by reverse mode and contracts them (the default).</summary>
    JacobianContraction = 1,
    /// <summary>Builds the NTK from VJP-then-JVP products (not yet available: throws <see cref="NotSupportedException"/>).</summary>
    NtkVectorProducts = 2,
    /// <summary>Structured derivatives (MJJMPs) (not yet available: throws <see cref="NotSupportedException"/>).</summary>
    StructuredDerivatives = 3,
}
