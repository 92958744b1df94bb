#pragma warning disable CS1591
// TEMPORARY: signatures helpers are implementing; deleted on merge.
namespace NeuralTangents.Tensors;
public enum UnaryOp { Neg, Exp, Log, Tanh, Erf, Sin, Cos, Sqrt, Rsqrt, Abs, Sign, Logistic }
public enum BinaryOp { Add, Sub, Mul, Div, Max, Min, Pow }
public enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }
internal static class Elementwise {
  public static Tensor Unary(UnaryOp op, Tensor x) => throw new NotImplementedException();
  public static Tensor Binary(BinaryOp op, Tensor a, Tensor b) => throw new NotImplementedException();
  public static Tensor IntegerPow(Tensor x, int exponent) => throw new NotImplementedException();
  public static Tensor Compare(CompareOp op, Tensor a, Tensor b) => throw new NotImplementedException();
  public static Tensor Select(Tensor pred, Tensor onTrue, Tensor onFalse) => throw new NotImplementedException();
  public static Tensor Scale(Tensor x, double s) => throw new NotImplementedException();
  public static Tensor AddScaled(Tensor a, Tensor b, double s) => throw new NotImplementedException();
}
internal static class Reductions {
  public static Tensor Sum(Tensor x, int[] axes) => throw new NotImplementedException();
  public static Tensor Max(Tensor x, int[] axes) => throw new NotImplementedException();
  public static double SumAll(Tensor x) => throw new NotImplementedException();
  public static double Dot(Tensor a, Tensor b) => throw new NotImplementedException();
}
internal static class Structural {
  public static Tensor Pad(Tensor x, double value, (int Lo, int Hi, int Interior)[] config) => throw new NotImplementedException();
  public static Shape PadShape(Shape x, (int Lo, int Hi, int Interior)[] config) => throw new NotImplementedException();
  public static Tensor Concatenate(IReadOnlyList<Tensor> xs, int axis) => throw new NotImplementedException();
  public static Shape ConcatenateShape(IReadOnlyList<Shape> xs, int axis) => throw new NotImplementedException();
}
