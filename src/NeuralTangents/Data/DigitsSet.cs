using NeuralTangents.Tensors;

namespace NeuralTangents.Data;

/// <summary>A labelled batch of 8×8 digit images.</summary>
/// <param name="Images">NHWC images of shape <c>(N, 8, 8, 1)</c> with values in <c>[0, 1]</c>.</param>
/// <param name="Labels">The <c>N</c> class labels, each in <c>0..9</c>.</param>
public sealed record DigitsSet(Tensor Images, int[] Labels)
{
    /// <summary>Number of examples.</summary>
    public int Count => Labels.Length;

    /// <summary>One-hot targets of shape <c>(N, classes)</c> (1 at the label, 0 elsewhere) in the dtype of
    /// <see cref="Images"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/> is not positive, or a label is not below it.</exception>
    public Tensor OneHot(int classes = 10)
    {
        if (classes < 1)
            throw new ArgumentOutOfRangeException(nameof(classes), $"classes must be positive, got {classes}");
        var data = new double[Labels.Length * classes];
        for (int i = 0; i < Labels.Length; i++)
        {
            int y = Labels[i];
            if ((uint)y >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(classes), $"label {y} of example {i} is outside [0, {classes})");
            data[i * classes + y] = 1;
        }
        var t = Tensor.Wrap(data, new Shape(Labels.Length, classes));
        return t.AsType(Images.DType);
    }
}
