using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Transforms;

namespace NeuralTangents.Autodiff;

/// <summary>
/// A prepared reverse-mode Jacobian of a single-output graph with respect to some inputs: the VJP graph split
/// into its forward part (run once per call) and its backward part (run once per output element). Immutable and
/// safe to use from several threads.
/// </summary>
internal sealed class JacobianPlan
{
    private readonly Graph _known, _unknown;
    private readonly bool[] _wrt;
    private readonly TensorType _out;

    internal JacobianPlan(Graph g, bool[] wrt)
    {
        if (g.Outputs.Count != 1) throw new ArgumentException($"jacobian: expected one output, got {g.Outputs.Count}", nameof(g));
        _wrt = wrt;
        _out = g.Outputs[0].Type;
        var vjp = Ad.VjpGraph(g, wrt);
        (_known, _unknown) = PartialEval.Split(vjp, Enumerable.Range(0, g.Inputs.Count + 1).Select(i => i == g.Inputs.Count).ToArray());
    }

    /// <summary>
    /// Writes the Jacobian at <paramref name="inputs"/> into slot <paramref name="slot"/> of <paramref name="dest"/>
    /// (contiguous, shape <c>(slots, out.Size, P)</c>, P = total size of the wrt inputs, in their order).
    /// </summary>
    public void Fill(Tensor[] inputs, Tensor dest, int slot)
    {
        if (dest.DType == DType.Float32) FillT<float>(inputs, dest, slot); else FillT<double>(inputs, dest, slot);
    }

    private void FillT<T>(Tensor[] inputs, Tensor dest, int slot) where T : unmanaged
    {
        var residuals = Interpreter.Evaluate(_known, inputs);
        int rows = _out.Shape.Size, p = dest.Shape[2];
        var storage = (T[])dest.Storage;
        var ct = Tensor.Zeros(_out.Shape, _out.DType);
        var ctData = (T[])ct.Storage;
        var args = residuals.Append(ct).ToArray();
        int nOut = _unknown.Outputs.Count;
        for (int r = 0; r < rows; r++)
        {
            ctData[r] = (T)Convert.ChangeType(1.0, typeof(T));
            var res = Interpreter.Evaluate(_unknown, args);
            ctData[r] = default;
            int off = dest.Offset + (slot * rows + r) * p;
            // res[0] is the primal output; the gradients follow, one per wrt input.
            for (int k = 1; k < nOut; k++)
            {
                var gk = res[k].Contiguous();
                gk.Span<T>().CopyTo(storage.AsSpan(off, gk.Size));
                off += gk.Size;
            }
        }
    }
}
