namespace NeuralTangents.Autodiff;

/// <summary>Boolean input masks for <c>wrt</c>, linear-input and unknown-input arguments (inputs are laid out as
/// parameters first, then data, then cotangents, so the masks needed are prefixes, suffixes and single entries).</summary>
internal static class Masks
{
    /// <summary>The first <paramref name="count"/> of <paramref name="n"/> inputs.</summary>
    public static bool[] First(int n, int count) => Enumerable.Range(0, n).Select(i => i < count).ToArray();

    /// <summary>Inputs <paramref name="start"/>… of <paramref name="n"/>.</summary>
    public static bool[] From(int n, int start) => Enumerable.Range(0, n).Select(i => i >= start).ToArray();

    /// <summary>Input <paramref name="index"/> alone of <paramref name="n"/>.</summary>
    public static bool[] Only(int n, int index) => Enumerable.Range(0, n).Select(i => i == index).ToArray();
}
