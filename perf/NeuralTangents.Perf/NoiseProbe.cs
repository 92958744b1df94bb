using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NeuralTangents.Perf;

/// <summary>
/// Same-run noise control for <c>peer-row</c> (issue 12 goal 2: is a slow warm call the machine or us?). After each warm call
/// it times a fixed reference computation on as many threads as the machine has cores (the calling thread plus dedicated
/// threads, not the thread pool): a SIMD multiply-add loop over 16 KB per thread (in L1), repeated so that it lasts about as
/// long as the first warm call. Its code is compiled fully optimised before the first call, shares no code with the library
/// (so it cannot tier up the library's code either) and allocates nothing: its spread is the machine's (other processes,
/// frequency, the hypervisor) plus this process's background threads (tier-1 JIT, GC), not the row's own code. Around each
/// warm call it also reads the machine's counters: CPU ticks other processes used (/proc/stat busy minus this process's
/// utime + stime; 10 ms ticks, so coarse), steal ticks (0 where the hypervisor does not report it) and this process's
/// involuntary context switches over all its threads (/proc/self/task/*/status). Linux only; zeros elsewhere.
/// </summary>
internal sealed class NoiseProbe : IDisposable
{
    private const int Floats = 4096; // 16 KB per thread
    private const int Inner = 256;   // passes per unit of work (≈ 1M multiply-adds)
    private readonly Thread[] _helpers;
    private readonly AutoResetEvent[] _go, _done;
    private readonly float[][] _data;
    private readonly double _oneUnit;
    private volatile bool _stop;
    private int _units = 1;

    public NoiseProbe()
    {
        int threads = Math.Max(1, Environment.ProcessorCount);
        _data = Enumerable.Range(0, threads).Select(_ => Enumerable.Repeat(1f, Floats).ToArray()).ToArray();
        _go = Enumerable.Range(1, threads - 1).Select(_ => new AutoResetEvent(false)).ToArray();
        _done = Enumerable.Range(1, threads - 1).Select(_ => new AutoResetEvent(false)).ToArray();
        _helpers = Enumerable.Range(1, threads - 1).Select(i => new Thread(() => Helper(i)) { IsBackground = true, Name = "noise-ref" }).ToArray();
        foreach (var t in _helpers) t.Start();
        // Warm up the reference and the counter reading past tier-up (30 calls, then the tiering delay), so that neither is
        // compiled during a timed call.
        for (int r = 0; r < 40; r++) { Run(1); Read(); }
        Thread.Sleep(300);
        var t1 = new double[9];
        for (int r = 0; r < t1.Length; r++) t1[r] = Timed(4) / 4;
        _oneUnit = t1.Order().ElementAt(t1.Length / 2);
    }

    /// <summary>Fixes the reference's length to about <paramref name="seconds"/>.</summary>
    public void Calibrate(double seconds) => _units = Math.Max(1, (int)Math.Round(seconds / _oneUnit));

    /// <summary>Units of work per reference run (each ≈ 1M multiply-adds per thread).</summary>
    public int Units => _units;

    /// <summary>Runs the reference once; its wall time in seconds.</summary>
    public double Time() => Timed(_units);

    private double Timed(int units)
    {
        long t0 = Stopwatch.GetTimestamp();
        Run(units);
        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    private int _pending;

    private void Run(int units)
    {
        _pending = units;
        foreach (var g in _go) g.Set();
        Work(_data[0], units);
        foreach (var d in _done) d.WaitOne();
    }

    private void Helper(int i)
    {
        while (true)
        {
            _go[i - 1].WaitOne();
            if (_stop) return;
            Work(_data[i], _pending);
            _done[i - 1].Set();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void Work(float[] data, int units)
    {
        var v = MemoryMarshal.Cast<float, Vector<float>>(data.AsSpan());
        var a = new Vector<float>(0.999f);
        var b = new Vector<float>(1e-3f);
        for (long p = (long)units * Inner; p > 0; p--)
            for (int i = 0; i < v.Length; i++) v[i] = Vector.FusedMultiplyAdd(v[i], a, b); // stays near 1: no overflow, no subnormals
    }

    public void Dispose()
    {
        _stop = true;
        foreach (var g in _go) g.Set();
        foreach (var t in _helpers) t.Join();
    }

    /// <summary>A snapshot of the counters; subtract two to get a call's share.</summary>
    public readonly record struct Counters(long BusyTicks, long StealTicks, long OwnTicks, long InvoluntarySwitches)
    {
        public static Counters operator -(Counters x, Counters y) => new(x.BusyTicks - y.BusyTicks, x.StealTicks - y.StealTicks,
            x.OwnTicks - y.OwnTicks, x.InvoluntarySwitches - y.InvoluntarySwitches);

        /// <summary>CPU milliseconds other processes (and the kernel for them) used during the interval, ≥ 0.</summary>
        public double OthersMs => Math.Max(0, BusyTicks - OwnTicks) * TickMs;

        public double StealMs => StealTicks * TickMs;
    }

    private const double TickMs = 10; // USER_HZ = 100 on Linux

    public static Counters Read()
    {
        try
        {
            // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is already in user.
            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long F(int i) => long.Parse(cpu[i], CultureInfo.InvariantCulture);
            long busy = F(1) + F(2) + F(3) + F(6) + F(7) + (cpu.Length > 8 ? F(8) : 0);
            long steal = cpu.Length > 8 ? F(8) : 0;
            var stat = File.ReadAllText("/proc/self/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long own = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture); // utime, stime
            long ivcs = 0;
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                        if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                            ivcs += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                }
                catch (IOException) { } // the thread ended
            }
            return new Counters(busy, steal, own, ivcs);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DirectoryNotFoundException) { return default; }
    }
}
