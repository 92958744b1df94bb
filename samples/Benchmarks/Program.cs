// Which NTK implementation is fastest for *my* network? BenchmarkDotNet over the three implementations (and AUTO).
//   dotnet run -c Release --project samples/Benchmarks               full run (minutes)
//   dotnet run -c Release --project samples/Benchmarks -- --dry      one in-process iteration each (CI smoke)
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using NeuralTangents;
using NeuralTangents.Tensors;
using static NeuralTangents.Stax.Stax;

bool dry = args.Contains("--dry");
var config = dry
    ? ManualConfig.CreateMinimumViable().AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance))
    : DefaultConfig.Instance;
var summary = BenchmarkRunner.Run<NtkImplementations>(config, args.Where(a => a != "--dry").ToArray());
return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;

/// <summary>The empirical NTK (trace over the logits, vmap over the batch) of a small CNN on 16 inputs, per implementation.</summary>
public class NtkImplementations
{
    private Tensor _x = null!;
    private Params _params = null!;
    private KernelFunction _ntk = null!;

    [Params(NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives, NtkImplementation.Auto)]
    public NtkImplementation Implementation { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var net = Serial(Conv(8, [3, 3], padding: NeuralTangents.Stax.Padding.Same), Relu(), Conv(8, [3, 3]), Relu(), Flatten(), Dense(10));
        _x = Tensor.RandomNormal(new Random(0), new Shape(16, 8, 8, 1), DType.Float32);
        _params = net.Init(0, _x.Shape, DType.Float32).Params;
        _ntk = Empirical.NtkFn(net.Apply, traceAxes: [-1], vmapAxes: 0, implementation: Implementation);
        _ntk(_x, null, _params);   // trace once outside the measurement
    }

    [Benchmark]
    public Tensor Ntk() => _ntk(_x, null, _params);
}
