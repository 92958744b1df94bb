namespace NeuralTangents;

/// <summary>
/// A network or any function <c>f(params, x)</c> written with the library's tensor operations (<see cref="Lax"/>,
/// <see cref="Np"/>, operators on <see cref="Tracer"/>). The counterpart of Neural Tangents' <c>apply_fn</c>.
/// It is traced once per input shapes and dtypes, so it must not branch on values.
/// </summary>
public delegate Tracer ApplyFn(ParamTracers parameters, Tracer x);
