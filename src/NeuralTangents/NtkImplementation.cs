namespace NeuralTangents;

/// <summary>
/// How the empirical NTK is computed (Neural Tangents' <c>NtkImplementation</c>, values 0–3). All return the same
/// numbers up to rounding; only speed and memory differ (paper: Novak et al. 2022, "Fast Finite Width NTK", §3–4).
/// </summary>
public enum NtkImplementation
{
    /// <summary>Picks the implementation with the fewest estimated FLOPs among those within a memory budget, from a
    /// per-primitive cost model on the traced graphs (deterministic on every backend); estimates within 25 % of the
    /// cheapest are a tie, which goes to structured derivatives if tied, else to the smaller peak memory; cached per
    /// input types. See
    /// <see cref="Empirical.ExplainNtk"/>.</summary>
    Auto = 0,
    /// <summary>Materialises the Jacobians <c>∂f(x)/∂θ</c> by reverse mode and contracts them (the default).</summary>
    JacobianContraction = 1,
    /// <summary>Builds the NTK from VJP-then-JVP products (docs/conventions.md#implementations), never materialising a Jacobian.</summary>
    NtkVectorProducts = 2,
    /// <summary>Structured derivatives: MJJMPs of ∂f/∂y with structure-compressed ∂y/∂w (Novak et al. 2022 §4, docs/conventions.md#implementations).</summary>
    StructuredDerivatives = 3,
}
