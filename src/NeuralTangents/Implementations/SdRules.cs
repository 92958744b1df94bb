namespace NeuralTangents.Implementations;

/// <summary>
/// Neural Tangents' private <c>_s_rules</c> / <c>_j_rules</c> switches of structured derivatives (docs/conventions.md#implementations):
/// without structure rules nothing is compressed, without Jacobian rules every compressed Jacobian is the generic
/// one. <paramref name="ShareCotangents"/> (ours, no NT counterpart): uses whose ∂f/∂y meet at one sum (a Dense
/// layer's W and b) read one root cotangent and share its Gram; off, each use records its own ∂f/∂y, as NT does.
/// The kernel is the same either way; only speed and memory change. For tests and ablation benchmarks.
/// </summary>
internal sealed record SdRules(bool Structure = true, bool Jacobian = true, bool ShareCotangents = true)
{
    public static readonly SdRules All = new();
}
