#pragma warning disable CS1591
// TEMPORARY: signatures a helper is implementing; deleted on merge.
namespace NeuralTangents.Tensors;
/// <summary>x</summary>
public sealed record DotDimensionNumbers(int[] LhsContracting, int[] RhsContracting, int[] LhsBatch, int[] RhsBatch);
internal static class DotGeneral {
  public static Shape InferShape(Shape lhs, Shape rhs, DotDimensionNumbers d) => throw new NotImplementedException();
  public static Tensor Compute(Tensor lhs, Tensor rhs, DotDimensionNumbers d) => throw new NotImplementedException();
}
/// <summary>x</summary>
public sealed record ConvParams(int[] Strides, (int Lo, int Hi)[] Padding, int[] RhsDilation, int FeatureGroupCount = 1);
internal static class ConvPadding {
  public static (int Lo, int Hi)[] Valid(int d) => throw new NotImplementedException();
  public static (int Lo, int Hi)[] Same(int[] inputSpatial, int[] filterSpatial, int[] strides, int[] dilation) => throw new NotImplementedException();
}
internal static class Conv {
  public static Shape InferShape(Shape lhs, Shape rhs, ConvParams p) => throw new NotImplementedException();
  public static Tensor Forward(Tensor lhs, Tensor rhs, ConvParams p) => throw new NotImplementedException();
  public static Tensor LhsTranspose(Tensor ct, Tensor rhs, Shape lhsShape, ConvParams p) => throw new NotImplementedException();
  public static Tensor RhsTranspose(Tensor lhs, Tensor ct, Shape rhsShape, ConvParams p) => throw new NotImplementedException();
}
internal static class ReduceWindow {
  public static Shape SumInferShape(Shape x, int[] window, int[] strides, (int Lo, int Hi)[] padding) => throw new NotImplementedException();
  public static Tensor Sum(Tensor x, int[] window, int[] strides, (int Lo, int Hi)[] padding) => throw new NotImplementedException();
  public static Tensor SumTranspose(Tensor ct, Shape xShape, int[] window, int[] strides, (int Lo, int Hi)[] padding) => throw new NotImplementedException();
}
