namespace NeuralTangents.Perf;
public class GemmBenchmarks { }
