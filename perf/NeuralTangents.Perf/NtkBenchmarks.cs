using BenchmarkDotNet.Attributes;
using NeuralTangents.Tensors;

namespace NeuralTangents.Perf;

/// <summary>
/// Empirical NTK of the seed page's narrow CNN (5 test × 20 train 32×32×3 images, TraceAxes [-1]) and wide FCN
/// (5×5 test-test, x2 = null, TraceAxes []), float32: JacobianContraction with and without VmapAxes = 0 (the baseline is
/// without) and NtkVectorProducts with and without VmapAxes = 0. Each iteration is one kernel call; tracing happens in
/// warm-up.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3, invocationCount: 1)]
public class NtkBenchmarks
{
    private NtkWorkload? _w;
    private KernelFunction? _jcNone, _jcVmap, _vpVmap, _vpNone;

    /// <summary>Workload: "cnn" or "fcn".</summary>
    [Params("cnn", "fcn")]
    public string Net { get; set; } = "cnn";

    [GlobalSetup]
    public void Setup()
    {
        _w = NtkWorkload.Create(Net);
        _jcNone = _w.Fn(NtkImplementation.JacobianContraction, vmap: false);
        _jcVmap = _w.Fn(NtkImplementation.JacobianContraction, vmap: true);
        _vpVmap = _w.Fn(NtkImplementation.NtkVectorProducts, vmap: true);
        _vpNone = _w.Fn(NtkImplementation.NtkVectorProducts, vmap: false);
    }

    [Benchmark(Baseline = true)]
    public Tensor JacobianContraction_NoVmap() => _w!.Run(_jcNone!);

    [Benchmark]
    public Tensor JacobianContraction_Vmap0() => _w!.Run(_jcVmap!);

    [Benchmark]
    public Tensor NtkVectorProducts_Vmap0() => _w!.Run(_vpVmap!);

    [Benchmark]
    public Tensor NtkVectorProducts_NoVmap() => _w!.Run(_vpNone!);
}
