namespace NeuralTangents;

/// <summary>
/// A function with several inputs and several outputs, <c>f(params, x₁…xₖ) → (y₁…yₘ)</c> — the counterpart of a
/// Neural Tangents <c>apply_fn</c> whose inputs and outputs are flat pytrees (lists/tuples of arrays). Kernels are
/// computed per output leaf, with no cross terms between different leaves (docs/conventions.md#outputs).
/// </summary>
public delegate Tracer[] MultiApplyFn(ParamTracers parameters, Tracer[] inputs);
