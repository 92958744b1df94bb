using BenchmarkDotNet.Running;
using NeuralTangents.Perf;

// `quick [n...]` prints Stopwatch GFLOP/s without BenchmarkDotNet (handy while tuning); anything else goes to BDN.
if (args.Length > 0 && args[0] == "quick")
{
    QuickGemm.Run(args.Skip(1).Select(int.Parse).ToArray());
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(GemmBenchmarks).Assembly).Run(args);
