using BenchmarkDotNet.Attributes;
using NeuralTangents.Tensors;

namespace NeuralTangents.Perf;

/// <summary>
/// Issue 4: the four NTK implementations with VmapAxes = 0, float32, on the reference networks — the seed page's
/// narrow CNN (5 test × 20 train 32×32×3, TraceAxes [-1]) and wide FCN (Dense 1024-1024-100 on 8×8×3, 1.35 M
/// parameters, 5×5 with x2 = null, TraceAxes []). Baseline: JacobianContraction. Each iteration is one kernel call;
/// tracing and AUTO's cost model run in warm-up.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3, invocationCount: 1)]
public class ImplementationBenchmarks
{
    private NtkWorkload? _w;
    private KernelFunction? _jc, _vp, _sd, _auto;

    /// <summary>Workload: "cnn" or "fcn".</summary>
    [Params("cnn", "fcn")]
    public string Net { get; set; } = "cnn";

    [GlobalSetup]
    public void Setup()
    {
        _w = NtkWorkload.Create(Net);
        _jc = _w.Fn(NtkImplementation.JacobianContraction, vmap: true);
        _vp = _w.Fn(NtkImplementation.NtkVectorProducts, vmap: true);
        _sd = _w.Fn(NtkImplementation.StructuredDerivatives, vmap: true);
        _auto = _w.Fn(NtkImplementation.Auto, vmap: true);
        Console.WriteLine($"// AUTO on {Net}: {_w.Explain(vmap: true)}");
    }

    [Benchmark(Baseline = true)]
    public Tensor JacobianContraction() => _w!.Run(_jc!);

    [Benchmark]
    public Tensor NtkVectorProducts() => _w!.Run(_vp!);

    [Benchmark]
    public Tensor StructuredDerivatives() => _w!.Run(_sd!);

    [Benchmark]
    public Tensor Auto() => _w!.Run(_auto!);
}

/// <summary>
/// Issue 4: the full 1,797 × 1,797 train-train NTK of an FCN 64-512-512-10 on optdigits.tes (TraceAxes [-1],
/// VmapAxes = 0, float32). JacobianContraction would hold ≈ 20 GiB of Jacobians and NtkVectorProducts needs one
/// JVP per kernel column pair, so only StructuredDerivatives and AUTO (which must pick it) are timed.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3, invocationCount: 1)]
public class DigitsNtkBenchmarks
{
    private NtkWorkload? _w;
    private KernelFunction? _sd, _auto;

    [GlobalSetup]
    public void Setup()
    {
        _w = NtkWorkload.Create("digits");
        _sd = _w.Fn(NtkImplementation.StructuredDerivatives, vmap: true);
        _auto = _w.Fn(NtkImplementation.Auto, vmap: true);
        Console.WriteLine($"// AUTO on digits: {_w.Explain(vmap: true)}");
    }

    [Benchmark(Baseline = true)]
    public Tensor StructuredDerivatives() => _w!.Run(_sd!);

    [Benchmark]
    public Tensor Auto() => _w!.Run(_auto!);
}
