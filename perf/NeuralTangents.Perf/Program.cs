using BenchmarkDotNet.Running;
using NeuralTangents.Perf;

// `gpu-gemm [--size N]` runs the CUDA check (perf/gpu-check.sh).
// `quick-conv` / `quick-ntk [--only cnn|fcn] [--reps R] [--profile-conv]`: Stopwatch tables for the conv kernels / NTKs.
// `auto-check [--reps R] [--only NET] [--extended]`: times every implementation and checks AUTO's choice (issue 4).
// `vs-peer [--peer PATH] [--rounds R] [--reps K] [--only rows] [--heavy] [--settle]` (--settle: ours warms up until the tiered JIT settles): issue 12's side-by-side table against the torch peer.
// `conv-kernels [--reps R] [--threads T] [--fresh] [--cold]`: every conv kernel of the seed CNN NTK row at its shapes, GFLOP/s vs SGEMM 1024³ (same run).
// `direct-bench`: single-threaded unpacked vs packed GEMM at convolution shapes, two whole conv kernels, a broadcast mul.
// `gemm-shapes [--reps R] [--threads 1,2] [--f64] [MxNxK[nt]...]`: GEMM medians at the Dense NTKs' shapes vs 1024³ (same run).
// `gram [--reps R] [--f64] [MxK...]`: symmetric Gram X·Xᵀ: plain GEMM vs the old row blocks vs Blas.Gram (same run).
// `quick [n...]` prints Stopwatch GFLOP/s without BenchmarkDotNet (handy while tuning); anything else goes to BDN.
if (args.Length > 0 && args[0] == "quick")
{
    QuickGemm.Run(args.Skip(1).Select(int.Parse).ToArray());
    return 0;
}
if (args.Length > 0 && args[0] == "gram") return GramBench.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "gemm-shapes") return GemmShapes.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "jc-mem") return JcMemProbe.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "vp-mem") return VpMemProbe.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "jc-mem-run") return JcMemRun.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "jc-probe") return JcProbe.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "quick-conv") return QuickConv.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "quick-ntk") return QuickNtk.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "gpu-gemm") return GpuCheck.Run(args);
if (args.Length > 0 && args[0] == "vs-peer") return PeerCompare.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "peer-row") return PeerCompare.RunRow(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "vp-graph") return VpGraphDump.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "vp-profile") return VpGraphDump.Profile(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "vp-check") return VpGraphDump.Check(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "conv-kernels") return ConvKernels.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "direct-bench") return DirectBench.Run(args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "auto-check") return AutoCheck.Run(args.Skip(1).ToArray());
BenchmarkSwitcher.FromAssembly(typeof(GemmBenchmarks).Assembly).Run(args);
return 0;
