using NeuralTangents.Stax;
using NeuralTangents.Tensors;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Perf;

/// <summary>The seed page's NTK workloads: narrow CNN (test-train, TraceAxes [-1]) and wide FCN (test-test, TraceAxes []).</summary>
internal sealed class NtkWorkload
{
    public string Name { get; }
    public Tensor X1 { get; }
    public Tensor? X2 { get; }
    public Params Params { get; }
    public int[] TraceAxes { get; }
    private readonly Layer _net;

    private NtkWorkload(string name, Layer net, Tensor x1, Tensor? x2, int[] traceAxes)
    {
        Name = name; _net = net; X1 = x1; X2 = x2; TraceAxes = traceAxes;
        Params = net.Init(3, x1.Shape, DType.Float32).Params;
    }

    /// <summary>Workloads run by default; "fcn32" (the FCN on 32×32×3 images) only on request: JacobianContraction cannot hold
    /// its 500 × 4.3M-parameter Jacobian (2.2·10⁹ elements, over the int32 element limit) and NtkVectorProducts peaks at
    /// ~22 GB there.</summary>
    public static readonly string[] Names = ["cnn", "fcn"];

    /// <summary>Extra workloads for <c>auto-check --extended</c>.</summary>
    public static readonly string[] Extended = ["cnn-full", "cnn-train", "fcn-logits", "small-fcn", "small-fcn-full", "pool-cnn"];

    private static Layer SeedCnn() => Serial(Conv(32, [3, 3]), Relu(), Conv(32, [3, 3]), Relu(), Conv(32, [3, 3]), Flatten(), Dense(10));

    public static NtkWorkload Create(string name)
    {
        var rng = new Random(1);
        return name switch
        {
            // Conv(32,(3,3)),Relu ×2, Conv(32,(3,3)), Flatten, Dense(10); kernel of 5 test vs 20 train images.
            "cnn" => new NtkWorkload(name, SeedCnn(),
                Tensor.RandomNormal(rng, new Shape(5, 32, 32, 3), DType.Float32),
                Tensor.RandomNormal(rng, new Shape(20, 32, 32, 3), DType.Float32), [-1]),
            // Flatten, Dense(1024), Relu, Dense(1024), Relu, Dense(100); 5×5 test-test kernel (x2 = null), full 100×100
            // blocks; 8×8×3 images (the seed example's size: 1.35M parameters) or 32×32×3 (4.3M).
            "fcn" or "fcn32" => new NtkWorkload(name,
                Serial(Flatten(), Dense(1024), Relu(), Dense(1024), Relu(), Dense(100)),
                Tensor.RandomNormal(rng, name == "fcn" ? new Shape(5, 8, 8, 3) : new Shape(5, 32, 32, 3), DType.Float32), null, []),
            // Issue 4's digits workload: FCN 64-512-512-10 on all 1,797 images of optdigits.tes, full train-train NTK
            // (x2 = null), TraceAxes [-1].
            "digits" => new NtkWorkload(name,
                Serial(Flatten(), Dense(512), Relu(), Dense(512), Relu(), Dense(10)),
                NeuralTangents.Data.OptDigits.Load(Path.Combine(NeuralTangents.Data.OptDigits.FindDataDirectory(), NeuralTangents.Data.OptDigits.TestFileName),
                    dtype: DType.Float32).Images, null, [-1]),
            // More shapes for the AUTO check (auto-check --extended): other trace axes, train-train kernels, pooling.
            "cnn-full" => new NtkWorkload(name, SeedCnn(), Tensor.RandomNormal(rng, new Shape(5, 32, 32, 3), DType.Float32),
                Tensor.RandomNormal(rng, new Shape(20, 32, 32, 3), DType.Float32), []),
            "cnn-train" => new NtkWorkload(name, SeedCnn(), Tensor.RandomNormal(rng, new Shape(20, 32, 32, 3), DType.Float32), null, [-1]),
            "fcn-logits" => new NtkWorkload(name, Serial(Flatten(), Dense(1024), Relu(), Dense(1024), Relu(), Dense(100)),
                Tensor.RandomNormal(rng, new Shape(5, 8, 8, 3), DType.Float32), null, [-1]),
            "small-fcn" or "small-fcn-full" => new NtkWorkload(name, Serial(Flatten(), Dense(64, bStd: 0.1), Relu(), Dense(10, bStd: 0.1)),
                Tensor.RandomNormal(rng, new Shape(200, 8, 8, 1), DType.Float32), null, name == "small-fcn" ? [-1] : []),
            "pool-cnn" => new NtkWorkload(name,
                Serial(Conv(8, [3, 3], padding: Padding.Same, bStd: 0.1), Relu(), AvgPool([2, 2]), Conv(16, [3, 3]), Relu(), GlobalAvgPool(), Dense(10)),
                Tensor.RandomNormal(rng, new Shape(64, 8, 8, 1), DType.Float32), null, [-1]),
            _ => throw new ArgumentException($"unknown workload '{name}', expected one of {string.Join(", ", Names.Concat(Extended).Append("fcn32"))}", nameof(name)),
        };
    }

    /// <summary>The kernel function of one configuration (built once; tracing happens on the first call).</summary>
    public KernelFunction Fn(NtkImplementation impl, bool vmap) =>
        Empirical.NtkFn(_net.Apply, traceAxes: TraceAxes, vmapAxes: vmap ? 0 : null, implementation: impl);

    /// <summary>AUTO's estimates and choice for this workload (VmapAxes = 0 when <paramref name="vmap"/>).</summary>
    public NtkExplanation Explain(bool vmap) => Empirical.ExplainNtk(_net.Apply, X1, X2, Params, traceAxes: TraceAxes, vmapAxes: vmap ? 0 : null);

    public Tensor Run(KernelFunction fn) => fn(X1, X2, Params);
}

/// <summary>One benchmarked configuration.</summary>
internal readonly record struct NtkConfig(string Net, NtkImplementation Impl, bool Vmap)
{
    public string ImplName => Impl == NtkImplementation.JacobianContraction ? "JacobianContraction" : "NtkVectorProducts";
    public override string ToString() => $"{Net} {ImplName} vmap={(Vmap ? "0" : "none")}";

    public static NtkConfig Parse(string net, string impl, string vmap) => new(net,
        impl.StartsWith("j", StringComparison.OrdinalIgnoreCase) ? NtkImplementation.JacobianContraction : NtkImplementation.NtkVectorProducts,
        vmap is "0" or "vmap" or "true");
}
