using System.Globalization;
using NeuralTangents.Stax;

namespace NeuralTangents.Testing;

/// <summary>
/// A generated test case: a Stax network (as <see cref="LayerSpec"/>s), its inputs, parameters and kernel axes.
/// <see cref="ToString"/> prints it as an <c>nt kernel</c> command line, so a shrunk counterexample can be
/// replayed (<c>--x1</c>/<c>--x2</c> are the standard-normal draws of <see cref="InputSeed"/>).
/// </summary>
/// <param name="Layers">The layers, applied in order (<c>Stax.Serial</c>).</param>
/// <param name="InputShape">x1's shape, batch first: (N, D) for fully connected, (N, H, W, C) for convolutional networks.</param>
/// <param name="Batch2">x2's batch size, or null for x2 = null (x2 = x1).</param>
/// <param name="ParamSeed">Seed of <c>Layer.Init</c>.</param>
/// <param name="InputSeed">Seed of the N(0, 1) inputs.</param>
/// <param name="TraceAxes">Kernel trace axes: <c>[-1]</c> (Neural Tangents' default) or <c>[]</c>.</param>
/// <param name="DiagonalAxes">Kernel diagonal axes: <c>[]</c>, or <c>[-1]</c> when nothing is traced.</param>
/// <param name="VmapAxes">0 (per-example Jacobians) or null.</param>
/// <param name="DType">float64 (default) or float32.</param>
public sealed record NetworkCase(IReadOnlyList<LayerSpec> Layers, Shape InputShape, int? Batch2, int ParamSeed, int InputSeed,
    int[] TraceAxes, int[] DiagonalAxes, int? VmapAxes, DType DType = DType.Float64)
{
    /// <summary>The network, <c>Stax.Serial(layers…)</c>.</summary>
    public Layer Network => Stax.Stax.Serial(Layers.Select(l => l.ToLayer()).ToArray());

    /// <summary>The network in <c>nt --net</c> syntax.</summary>
    public string Spec => Network.Description;

    /// <summary>x1: N(0, 1) draws from <see cref="InputSeed"/>.</summary>
    public Tensor X1 => Tensor.RandomNormal(new Random(InputSeed), InputShape, DType);

    /// <summary>x2 (its own draws from <see cref="InputSeed"/> + 1), or null.</summary>
    public Tensor? X2 => Batch2 is { } b
        ? Tensor.RandomNormal(new Random(InputSeed + 1), new Shape(new[] { b }.Concat(InputShape.ToArray()[1..]).ToArray()), DType)
        : null;

    /// <summary>Parameters from <see cref="ParamSeed"/> for x1's shape.</summary>
    public Params Params => Network.Init(ParamSeed, InputShape, DType).Params;

    /// <summary>The network's output shape for x1.</summary>
    public Shape OutputShape => Network.Init(ParamSeed, InputShape, DType).OutputShape;

    /// <summary>Whether the network accepts the input shape (every generated and shrunk case does).</summary>
    public bool IsValid()
    {
        try
        {
            var s = OutputShape;
            return s.Rank == 2 && Layers.Any(l => l.HasWeights);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Axes(int[] a) => a.Length == 0 ? "\"\"" : string.Join(",", a);

    /// <summary>The case as an <c>nt kernel</c> command line plus the input draws.</summary>
    public override string ToString() =>
        $"nt kernel --net \"{Spec}\" --seed {ParamSeed} --trace-axes {Axes(TraceAxes)} --diagonal-axes {Axes(DiagonalAxes)} " +
        $"--vmap-axes {(VmapAxes is { } v ? v.ToString(CultureInfo.InvariantCulture) : "none")} --dtype {(DType == DType.Float32 ? "float32" : "float64")}" +
        $"  # x1 {InputShape}, x2 {(Batch2 is { } b ? $"batch {b}" : "= x1")}, N(0,1) inputs from seed {InputSeed}";
}
