namespace NeuralTangents.Kernels;

/// <summary>
/// Neural Tangents' private <c>_s_rules</c> / <c>_j_rules</c> switches of structured derivatives (docs/conventions.md#implementations):
/// without structure rules nothing is compressed, without Jacobian rules every compressed Jacobian is the generic
/// one. The kernel is the same either way; only speed and memory change. For tests and ablation benchmarks.
/// </summary>
internal sealed record SdRules(bool Structure = true, bool Jacobian = true)
{
    public static readonly SdRules All = new();
}
