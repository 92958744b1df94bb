using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>
/// A primitive bilinear in its two operands (JAX's <c>defbilinear</c>): <c>dot_general</c> and the three
/// convolutions. The JVP is <c>f(ṫ0, p1) + f(p0, ṫ1)</c>, emitted through the given builder, skipping zero tangents;
/// each keeps its own transpose (one of the others). These are the hot kernels, so they evaluate on the compute
/// backend the interpreter passes.
/// </summary>
internal abstract class BilinearPrimitive : Primitive
{
    internal sealed override Tracer? Jvp(GraphBuilder b, Tracer[] p, Tracer?[] t, Tracer y)
    {
        Tracer? a = t[0] is null ? null : b.Emit(this, t[0]!, p[1]);
        Tracer? c = t[1] is null ? null : b.Emit(this, p[0], t[1]!);
        return a is null ? c : c is null ? a : b.Emit(new AddPrimitive(), a, c);
    }

    /// <summary>Computes the result with <paramref name="backend"/>.</summary>
    internal abstract override Tensor Evaluate(Tensor[] inputs, ComputeBackend backend);

    /// <summary>Constant folding while tracing runs on the CPU: a traced graph (cached across calls) must not depend
    /// on the backend in effect when it was traced.</summary>
    internal sealed override Tensor Evaluate(Tensor[] inputs) => Evaluate(inputs, ComputeBackend.Cpu);
}
