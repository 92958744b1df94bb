using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NeuralTangents.Tensors;

namespace NeuralTangents.Perf;

/// <summary>Square row-major GEMM C = A·B, float32 and float64, one thread and all cores; reports GFLOP/s = 2·n³/median.</summary>
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    private float[] _af = [], _bf = [], _cf = [];
    private double[] _ad = [], _bd = [], _cd = [];

    /// <summary>Matrix size n (m = n = k).</summary>
    [Params(256, 1024)]
    public int N { get; set; }

    /// <summary>Thread cap (the machine's core count or 1).</summary>
    [ParamsSource(nameof(ThreadCounts))]
    public int Threads { get; set; }

    public static IEnumerable<int> ThreadCounts => Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _ad = Enumerable.Range(0, N * N).Select(_ => rng.NextDouble() - 0.5).ToArray();
        _bd = Enumerable.Range(0, N * N).Select(_ => rng.NextDouble() - 0.5).ToArray();
        _cd = new double[N * N];
        _af = _ad.Select(x => (float)x).ToArray();
        _bf = _bd.Select(x => (float)x).ToArray();
        _cf = new float[N * N];
    }

    [Benchmark]
    public void Float32()
    {
        Blas.MaxDegreeOfParallelism = Threads;
        Blas.Gemm<float>(N, N, N, _af, N, false, _bf, N, false, _cf, N);
    }

    [Benchmark]
    public void Float64()
    {
        Blas.MaxDegreeOfParallelism = Threads;
        Blas.Gemm<double>(N, N, N, _ad, N, false, _bd, N, false, _cd, N);
    }
}

/// <summary>Adds the median and GFLOP/s columns to the default columns.</summary>
public class GflopsConfig : ManualConfig
{
    public GflopsConfig() => AddColumn(StatisticColumn.Median, new GflopsColumn());
}

/// <summary>2·N³ / median time, for benchmarks with an <c>N</c> parameter.</summary>
public class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "2·N³ floating-point operations divided by the median time";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats == null || benchmarkCase.Parameters["N"] is not int n) return "-";
        return (2.0 * n * n * n / stats.Median).ToString("F2"); // flops per ns = GFLOP/s
    }
}
