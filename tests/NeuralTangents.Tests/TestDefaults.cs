namespace NeuralTangents.Tests;

/// <summary>
/// The NTK implementation tests use unless they compare implementations: structured derivatives, as Neural
/// Tangents' own tests do (<c>test_utils._DEFAULT_TESTING_NTK_IMPLEMENTATION</c>). The user-facing default stays
/// <see cref="NtkImplementation.JacobianContraction"/>; tests that compare implementations name each one explicitly.
/// </summary>
internal static class TestDefaults
{
    public const NtkImplementation Ntk = NtkImplementation.StructuredDerivatives;
}
