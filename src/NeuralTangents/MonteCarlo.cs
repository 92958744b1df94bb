using System.Runtime.ExceptionServices;
using NeuralTangents.Stax;

namespace NeuralTangents;

public static partial class Empirical
{
    /// <summary>
    /// Monte Carlo estimate of the infinite-width kernels (<c>nt.monte_carlo_kernel_fn</c>): the empirical
    /// kernels of <paramref name="net"/> averaged over <paramref name="nSamples"/> initialisations, sample s using
    /// seed <see cref="MonteCarloSeed"/>(baseSeed, s) and parameters <c>net.Init(seed, x1.Shape, x1.DType)</c>.
    /// Samples run in parallel and are summed (in float64) in sample order, so the result is deterministic.
    /// Kernel options are those of <see cref="KernelFn(ApplyFn, int[], int[], VmapAxes, NtkImplementation)"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nSamples"/> &lt; 1.</exception>
    public static MonteCarloKernelFunction MonteCarloKernelFn(Layer net, int baseSeed, int nSamples, int[]? traceAxes = null,
        int[]? diagonalAxes = null, VmapAxes? vmapAxes = null, NtkImplementation implementation = NtkImplementation.JacobianContraction)
    {
        ArgumentNullException.ThrowIfNull(net);
        return MonteCarloKernelFn((seed, x1) => net.Init(seed, x1.Shape, x1.DType).Params, net.Apply, baseSeed, nSamples,
            traceAxes, diagonalAxes, vmapAxes, implementation);
    }

    /// <summary>
    /// As <see cref="MonteCarloKernelFn(Layer, int, int, int[], int[], VmapAxes, NtkImplementation)"/>, yielding the running
    /// average at each of <paramref name="nSamples"/> (strictly increasing, positive); the samples of a smaller count
    /// are reused, so the average at N is the same as with a single count N.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="nSamples"/> is empty, not strictly increasing, or has a
    /// count &lt; 1.</exception>
    public static MonteCarloKernelsFunction MonteCarloKernelFn(Layer net, int baseSeed, IEnumerable<int> nSamples, int[]? traceAxes = null,
        int[]? diagonalAxes = null, VmapAxes? vmapAxes = null, NtkImplementation implementation = NtkImplementation.JacobianContraction)
    {
        ArgumentNullException.ThrowIfNull(net);
        return MonteCarloKernelFn((seed, x1) => net.Init(seed, x1.Shape, x1.DType).Params, net.Apply, baseSeed, nSamples,
            traceAxes, diagonalAxes, vmapAxes, implementation);
    }

    /// <summary>
    /// Monte Carlo kernels of any function: <paramref name="init"/> maps (seed, x1) to parameters (it must be
    /// thread-safe; it is called concurrently for different seeds).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nSamples"/> &lt; 1.</exception>
    public static MonteCarloKernelFunction MonteCarloKernelFn(Func<int, Tensor, Params> init, ApplyFn apply, int baseSeed, int nSamples,
        int[]? traceAxes = null, int[]? diagonalAxes = null, VmapAxes? vmapAxes = null,
        NtkImplementation implementation = NtkImplementation.JacobianContraction)
    {
        if (nSamples < 1) throw new ArgumentOutOfRangeException(nameof(nSamples), nSamples, $"nSamples must be at least 1, got {nSamples}");
        var gen = MonteCarloKernelFn(init, apply, baseSeed, new[] { nSamples }, traceAxes, diagonalAxes, vmapAxes, implementation);
        return (x1, x2, get) => gen(x1, x2, get).Single().Kernel;
    }

    /// <summary>Running Monte Carlo averages of any function's kernels at each of <paramref name="nSamples"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="nSamples"/> is empty, not strictly increasing, or has a count &lt; 1.</exception>
    public static MonteCarloKernelsFunction MonteCarloKernelFn(Func<int, Tensor, Params> init, ApplyFn apply, int baseSeed, IEnumerable<int> nSamples,
        int[]? traceAxes = null, int[]? diagonalAxes = null, VmapAxes? vmapAxes = null,
        NtkImplementation implementation = NtkImplementation.JacobianContraction)
    {
        ArgumentNullException.ThrowIfNull(init);
        ArgumentNullException.ThrowIfNull(apply);
        ArgumentNullException.ThrowIfNull(nSamples);
        var counts = nSamples.ToArray();
        if (counts.Length == 0) throw new ArgumentException("nSamples must list at least one sample count", nameof(nSamples));
        for (int i = 0; i < counts.Length; i++)
            if (counts[i] < 1 || (i > 0 && counts[i] <= counts[i - 1]))
                throw new ArgumentException($"nSamples must be positive and strictly increasing, got [{string.Join(", ", counts)}]", nameof(nSamples));
        var kernelFn = KernelFn(apply, traceAxes, diagonalAxes, vmapAxes, implementation);
        return (x1, x2, get) =>
        {
            ArgumentNullException.ThrowIfNull(x1);
            var kinds = (get ?? new[] { KernelKind.Nngp, KernelKind.Ntk }).ToArray();
            if (kinds.Length == 0) throw new ArgumentException("\"get\" must be non-empty.", nameof(get));
            if (kinds.Distinct().Count() != kinds.Length) throw new ArgumentException($"\"get\" must not repeat a kernel, got [{string.Join(", ", kinds)}]", nameof(get));
            return RunningAverages(init, kernelFn, baseSeed, counts, x1, x2, kinds);
        };
    }

    /// <summary>
    /// The seed of Monte Carlo sample <paramref name="sample"/> (0-based): a SplitMix64 hash of (baseSeed, sample),
    /// non-negative, so nearby base seeds and samples give unrelated parameter draws.
    /// </summary>
    public static int MonteCarloSeed(int baseSeed, int sample)
    {
        ulong z = ((ulong)(uint)baseSeed << 32 | (uint)sample) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z >> 33);
    }

    private static IEnumerable<(int, EmpiricalKernel)> RunningAverages(Func<int, Tensor, Params> init, KernelsFunction kernelFn,
        int baseSeed, int[] counts, Tensor x1, Tensor? x2, KernelKind[] kinds)
    {
        double[][]? sums = null;
        Tensor[]? first = null;
        int done = 0;
        EmpiricalKernel Sample(int s) => kernelFn(x1, x2, kinds, init(MonteCarloSeed(baseSeed, s), x1));
        void Accumulate(EmpiricalKernel k)
        {
            if (sums is null)
            {
                first = k.Items.Select(i => i.Value).ToArray();
                sums = first.Select(t => t.ToDoubleArray()).ToArray();
                return;
            }
            for (int j = 0; j < sums.Length; j++)
            {
                var v = k.Items[j].Value.ToDoubleArray();
                var acc = sums[j];
                for (int e = 0; e < acc.Length; e++) acc[e] += v[e];
            }
        }

        int width = Math.Max(1, Environment.ProcessorCount);
        foreach (int target in counts)
        {
            // The first sample runs alone: it traces the network once for all, and input errors surface unwrapped.
            if (done == 0) Accumulate(Sample(done++));
            while (done < target)
            {
                int start = done, n = Math.Min(width, target - done);
                var batch = new EmpiricalKernel[n];
                try
                {
                    Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = width }, i => batch[i] = Sample(start + i));
                }
                catch (AggregateException e) when (e.InnerExceptions.Count == 1)
                {
                    ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
                }
                foreach (var k in batch) Accumulate(k);
                done += n;
            }
            var items = new (KernelKind, Tensor)[kinds.Length];
            for (int j = 0; j < kinds.Length; j++)
            {
                var avg = new double[sums![j].Length];
                for (int e = 0; e < avg.Length; e++) avg[e] = sums[j][e] / target;
                items[j] = (kinds[j], Tensor.Wrap(avg, first![j].Shape).AsType(first[j].DType));
            }
            yield return (target, new EmpiricalKernel(items));
        }
    }
}
