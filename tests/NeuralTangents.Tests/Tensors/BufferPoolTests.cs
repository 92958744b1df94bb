using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;
using NeuralTangents.Implementations;
using NeuralTangents.Stax;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Tests.Tensors;

/// <summary>
/// Buffer reuse must not change a single bit: kernels computed with a pool (its rentals poisoned with NaN, so an
/// allocation site that leaves an element unwritten shows) equal the unpooled ones exactly, on later calls that reuse
/// the buffers of earlier ones, across shapes and from two threads sharing one pool; the interpreter never hands out
/// storage that a live value, an input or an output still uses.
/// Not run in parallel with other test classes: a call on any pool drops the free arrays of idle others.
/// </summary>
[Collection(nameof(BufferPoolTests))]
public class BufferPoolTests
{
    private static readonly (string Name, Layer Net, int[] X)[] Networks =
    {
        ("fcn", Serial(Flatten(), Dense(64, 1.5, 0.1), Relu(), Dense(48, 1.5, 0.1), Erf(), Dense(3, 1.5, 0.1)), new[] { 12, 4, 4, 2 }),
        ("cnn", Serial(Conv(8, new[] { 3, 3 }, new[] { 2, 2 }, Padding.Same, 1.5, 0.1), Relu(), Conv(8, new[] { 3, 3 }, wStd: 1.5, bStd: 0.1),
            Relu(), AvgPool(new[] { 2, 2 }, padding: Padding.Same), Flatten(), Dense(3, 1.5, 0.1)), new[] { 5, 10, 10, 2 }),
    };

    public static IEnumerable<object[]> Cases()
    {
        for (int n = 0; n < Networks.Length; n++)
            foreach (var impl in new[] { NtkImplementation.JacobianContraction, NtkImplementation.NtkVectorProducts, NtkImplementation.StructuredDerivatives })
                foreach (var dtype in new[] { DType.Float64, DType.Float32 })
                    yield return new object[] { n, impl, dtype };
    }

    private static (KernelFunction Fn, Tensor X, Tensor X2, Params P) Setup(int network, NtkImplementation impl, DType dtype, int[]? trace = null, int seed = 0)
    {
        var (_, net, shape) = Networks[network];
        var rng = new Random(seed);
        var x = Tensor.RandomNormal(rng, new Shape(shape), dtype);
        var x2 = Tensor.RandomNormal(rng, new Shape(new[] { shape[0] - 2 }.Concat(shape[1..]).ToArray()), dtype);
        var (_, p) = net.Init(seed, new Shape(shape), dtype);
        return (NeuralTangents.Empirical.NtkFn(net.Apply, trace ?? new[] { -1 }, null, 0, impl), x, x2, p);
    }

    private static Tensor Unpooled(Func<Tensor> compute)
    {
        using (BufferPool.Use(BufferPool.Off)) return compute();
    }

    private static void AssertBitEqual(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.DType, actual.DType);
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        Assert.All(e, v => Assert.True(double.IsFinite(v), $"{what}: reference not finite"));
        for (int i = 0; i < e.Length; i++)
            if (BitConverter.DoubleToInt64Bits(e[i]) != BitConverter.DoubleToInt64Bits(a[i]))
                Assert.Fail($"{what}: element {i} is {a[i]:R}, unpooled {e[i]:R}");
    }

    [Theory, MemberData(nameof(Cases))]
    public void PooledKernelEqualsUnpooledBitForBit(int network, NtkImplementation impl, DType dtype)
    {
        foreach (var trace in new[] { new[] { -1 }, Array.Empty<int>() })
        {
            var (fn, x, x2, p) = Setup(network, impl, dtype, trace);
            var same = Unpooled(() => fn(x, null, p));
            var cross = Unpooled(() => fn(x, x2, p));
            var pool = new BufferPool(1L << 30) { PoisonRentals = true };
            using (BufferPool.Use(pool))
                for (int call = 0; call < 3; call++)
                {
                    AssertBitEqual(same, fn(x, null, p), $"{impl} trace [{string.Join(",", trace)}] call {call}, x2 = null");
                    AssertBitEqual(cross, fn(x, x2, p), $"{impl} trace [{string.Join(",", trace)}] call {call}, x2 given");
                }
            // Later calls reused the first call's buffers.
            var (hits, _, returned, _) = pool.Counts;
            Assert.True(returned > 0 && hits > 0, $"{impl}: {returned} returned, {hits} reused");
        }
    }

    [Fact]
    public void PooledGramsAndOperandCopiesEqualUnpooled()
    {
        // Wide enough for SD's symmetric Gram path (≥ 256 rows and depth) and the einsum's operand copies.
        var net = Serial(Dense(300, 1.5, 0.1), Relu(), Dense(2, 1.5, 0.1));
        var x = Tensor.RandomNormal(new Random(3), new Shape(260, 8), DType.Float32);
        var (_, p) = net.Init(3, x.Shape, DType.Float32);
        foreach (var trace in new[] { new[] { -1 }, Array.Empty<int>() })
        {
            var fn = NeuralTangents.Empirical.NtkFn(net.Apply, trace, null, 0, NtkImplementation.StructuredDerivatives);
            var reference = Unpooled(() => fn(x, null, p));
            var pool = new BufferPool(1L << 30) { PoisonRentals = true };
            using (BufferPool.Use(pool))
                for (int call = 0; call < 2; call++) AssertBitEqual(reference, fn(x, null, p), $"trace [{string.Join(",", trace)}] call {call}");
            Assert.True(pool.Counts.Hits > 0);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PooledJacobianChunksAndPartsEqualUnpooled(bool vmap)
    {
        // A budget that cuts JacobianContraction into chunks and parts: each chunk's Jacobians and each part are
        // released into the pool and reused by the next.
        var (_, net, shape) = Networks[0];
        var x = Tensor.RandomNormal(new Random(4), new Shape(shape));
        var (_, p) = net.Init(4, x.Shape);
        var traced = new TracedApply(net.Apply);
        KernelRequest Request(long budget) => KernelRequest.ForOutputs(traced, p, [x], null, [KernelAxes.Canonicalize(new[] { -1 }, [], 2)],
            vmap ? 0 : null, budget, SdRules.All)[0];
        var small = Request((long)JacobianChunkPlan.AccumulatorBytes(Request(1L << 30)) + 120_000);
        var plan = JacobianChunkPlan.For(small);
        Assert.True(plan.Chunks.Count > 1 && plan.Parts.Any(q => q.Part1 < (vmap ? shape[0] : 3)), $"{plan.Chunks.Count} chunks, parts {string.Join(" ", plan.Parts)}");
        var reference = Unpooled(() => JacobianContraction.Ntk(small));
        var pool = new BufferPool(1L << 30) { PoisonRentals = true };
        using (BufferPool.Use(pool))
            for (int call = 0; call < 2; call++) AssertBitEqual(reference, JacobianContraction.Ntk(small), $"call {call}");
        Assert.True(pool.Counts.Hits > 0, $"counts {pool.Counts}");
    }

    [Fact]
    public void KernelFunctionReusesItsOwnPoolAcrossShapes()
    {
        // No ambient pool: the kernel function's own pool serves N = 12, then N = 7, then N = 12 again.
        var (fn, x, _, p) = Setup(0, NtkImplementation.StructuredDerivatives, DType.Float64);
        var small = x.Slice(new[] { 0, 0, 0, 0 }, new[] { 7, 4, 4, 2 });
        var refBig = Unpooled(() => fn(x, null, p));
        var refSmall = Unpooled(() => fn(small, null, p));
        for (int round = 0; round < 2; round++)
        {
            AssertBitEqual(refBig, fn(x, null, p), $"N = 12, round {round}");
            AssertBitEqual(refSmall, fn(small, null, p), $"N = 7, round {round}");
        }
        // A pool shared across the two shapes (buffers of one size reused, others allocated) with poisoned rentals.
        var pool = new BufferPool(1L << 30) { PoisonRentals = true };
        using (BufferPool.Use(pool))
        {
            AssertBitEqual(refBig, fn(x, null, p), "shared pool, N = 12");
            AssertBitEqual(refSmall, fn(small, null, p), "shared pool, N = 7");
            AssertBitEqual(refBig, fn(x, null, p), "shared pool, N = 12 again");
        }
        Assert.True(pool.Counts.Hits > 0);
    }

    [Fact]
    public void TwoThreadsShareOnePool()
    {
        // Two threads call one kernel function (one pool) at once, and two others share a poisoned ambient pool,
        // each with its own inputs; every result equals its unpooled value.
        var (fn, x, x2, p) = Setup(1, NtkImplementation.StructuredDerivatives, DType.Float32);
        var (fnJ, _, _, _) = Setup(1, NtkImplementation.JacobianContraction, DType.Float32);
        var refA = Unpooled(() => fn(x, null, p));
        var refJ = Unpooled(() => fnJ(x, null, p));
        var refB = Unpooled(() => fn(x2, x, p));
        var shared = new BufferPool(1L << 30) { PoisonRentals = true };
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Worker(KernelFunction f, Tensor a, Tensor? b, Tensor expected, BufferPool? ambient, string name)
        {
            using var scope = ambient is null ? null : BufferPool.Use(ambient);
            for (int i = 0; i < 4; i++)
            {
                var k = f(a, b, p);
                try { AssertBitEqual(expected, k, $"{name} call {i}"); }
                catch (Exception e) { failures.Enqueue(e.Message); }
            }
        }
        var threads = new[]
        {
            new Thread(() => Worker(fn, x, null, refA, null, "own pool A")),
            new Thread(() => Worker(fn, x2, x, refB, null, "own pool B")),
            new Thread(() => Worker(fnJ, x, null, refJ, shared, "shared pool A (JC)")),
            new Thread(() => Worker(fn, x2, x, refB, shared, "shared pool B")),
        };
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(failures);
        // Each call's rentals stopped counting against the cap when it ended, whatever it did not return.
        Assert.Equal(0, shared.OutstandingBytes);
    }

    [Fact]
    public void InterpreterNeverRecyclesLiveInputsOrOutputs()
    {
        // y = exp(x)·2: an intermediate; outputs: a transposed view of tanh(y), y + x, and x itself (an input).
        // (Not sin: TensorPrimitives.Sin(double) rounds differently depending on the destination's alignment.)
        var t = new TensorType(new Shape(64, 32), DType.Float64);
        var g = Ad.Trace(ins =>
        {
            var y = Lax.Mul(Lax.Exp(ins[0]), Lax.FullLike(ins[0], 2));
            var e = Lax.Tanh(y);
            return new[] { Lax.Transpose(e, 1, 0), Lax.Add(y, ins[0]), ins[0] };
        }, new[] { t });
        var x = Tensor.RandomNormal(new Random(1), t.Shape);
        var xCopy = x.ToDoubleArray();
        var reference = Unpooled(() => Interpreter.Evaluate(g, new[] { x })[0]);
        var pool = new BufferPool(1L << 30) { PoisonRentals = true };
        Tensor[] first;
        using (BufferPool.Use(pool))
        {
            first = Interpreter.Evaluate(g, new[] { x });
            var firstValues = first.Select(o => o.ToDoubleArray()).ToArray();
            // The second evaluation reuses the first one's dead intermediates, never its outputs.
            var second = Interpreter.Evaluate(g, new[] { x });
            for (int i = 0; i < first.Length; i++)
            {
                Assert.Equal(firstValues[i], first[i].ToDoubleArray());
                Assert.Equal(firstValues[i], second[i].ToDoubleArray());
            }
            Assert.Same(x, first[2]);
            Assert.Equal(xCopy, x.ToDoubleArray());
            AssertBitEqual(reference, second[0], "transposed output");
        }
        Assert.True(pool.Counts.Returned > 0 && pool.Counts.Hits > 0, $"counts {pool.Counts}");
    }

    [Fact]
    public void ReleaseTakesOnlyEscapedInterpreterOutputs()
    {
        var t = new TensorType(new Shape(2048), DType.Float32);
        var g = Ad.Trace(ins => new[] { Lax.Sin(ins[0]), ins[0] }, new[] { t });
        var x = Tensor.RandomNormal(new Random(2), t.Shape, DType.Float32);
        var pool = new BufferPool(1L << 30);
        using (BufferPool.Use(pool))
        {
            var outs = Interpreter.Evaluate(g, new[] { x });
            var mine = NeuralTangents.Tensors.Ops.Elementwise.Scale(x, 2);         // rented outside any interpreter: not the pool's to take back
            BufferPool.Release(new[] { outs[1], mine, outs[0] }, keep: new[] { outs[0] });
            Assert.Equal(0, pool.Counts.Returned);       // x is an input, mine was never handed out, outs[0] is kept
            BufferPool.Release(new[] { outs[0] });
            BufferPool.Release(new[] { outs[0] });       // a second release of the same storage is ignored
            Assert.Equal(1, pool.Counts.Returned);
        }
    }

    [Fact]
    public void MemoryPacerLeavesTheWorkingSetInThePool()
    {
        // 160 MiB of free arrays, more than any allowance the pacer grants here (max(48 MiB, heap / 8)): they are the
        // pool's working set within its cap, not garbage, so a tick neither drops them nor counts them.
        const int n = 1 << 20;
        var pool = new BufferPool(1L << 31);
        for (int i = 0; i < 20; i++) pool.Return(new double[n]);
        Assert.Equal(160L << 20, pool.FreeBytes);
        using (BufferPool.Use(pool))
        using (MemoryPacer.Enter())
            MemoryPacer.Tick();
        Assert.Equal(160L << 20, pool.FreeBytes);
        Assert.Equal(0, pool.Counts.Dropped);
        // Dropped arrays are garbage: they count for the pacer like allocated bytes (other pools may add to the total).
        long dropped = BufferPool.DroppedBytes;
        pool.Clear();
        Assert.True(BufferPool.DroppedBytes - dropped >= 160L << 20, $"{BufferPool.DroppedBytes - dropped} bytes counted as dropped");
    }

    [Fact]
    public void CapBoundsFreeAndRentedArraysDroppingStaleSizesFirst()
    {
        const int n = 4096;
        const long u = n * sizeof(double);
        var pool = new BufferPool(6 * u);
        var f1 = new double[2 * n];
        var f2 = new double[2 * n];
        pool.Return(f1);
        pool.Return(f2);
        pool.Return(new double[n]);                      // a size the call below never rents: stale
        Assert.Equal(5 * u, pool.FreeBytes);
        using (BufferPool.Use(pool))
        {
            var a = BufferPool.Rent<double>(2 * n);      // a hit: 2u rented, 3u free
            Assert.Equal((2 * u, 3 * u), (pool.OutstandingBytes, pool.FreeBytes));
            // A miss of 1.5u: 3u free + 2u rented + 1.5u > 6u. The stale size goes (1u), not the larger size this call
            // rents (largest-first would drop the other 2n array and miss on the next rental).
            var b = BufferPool.Rent<double>(3 * n / 2);
            Assert.Equal((3.5 * u, 2.0 * u), ((double)pool.OutstandingBytes, (double)pool.FreeBytes));
            Assert.Equal(1, pool.Counts.Dropped);
            var c = BufferPool.Rent<double>(2 * n);      // the other 2n array, still there
            Assert.True(ReferenceEquals(c, f1) || ReferenceEquals(c, f2));
            Assert.Equal((2L, 1L), (pool.Counts.Hits, pool.Counts.Misses));
            // Free + rented stay within the cap: a returned array that does not fit is dropped.
            pool.Return(new double[n]);                  // 5.5u rented + 1u > 6u
            Assert.Equal((0L, 2L), (pool.FreeBytes, pool.Counts.Dropped));
            pool.Return(b);
            Assert.Equal((4 * u, (long)(1.5 * u)), (pool.OutstandingBytes, pool.FreeBytes));
            GC.KeepAlive(a);
        }
        // The call ended: what it did not return (a, c) is its results' storage or garbage, no longer the pool's.
        Assert.Equal(0, pool.OutstandingBytes);
    }

    [Fact]
    public void RetainsAtMostItsCap()
    {
        var pool = new BufferPool(3 * 4096 * sizeof(double));
        for (int i = 0; i < 5; i++) pool.Return(new double[4096]);
        Assert.Equal(3 * 4096L * sizeof(double), pool.FreeBytes);
        Assert.Equal((3L, 2L), (pool.Counts.Returned, pool.Counts.Dropped));
        pool.CapBytes = 4096 * sizeof(double);
        Assert.Equal(4096L * sizeof(double), pool.FreeBytes);
        pool.Return(new float[100]);                     // below MinElements: never kept
        Assert.Equal(4096L * sizeof(double), pool.FreeBytes);
        using (BufferPool.Use(pool))
        {
            var a = BufferPool.Rent<double>(4096, zeroed: true);
            Assert.All(a, v => Assert.Equal(0.0, v));
            Assert.Equal(0, pool.FreeBytes);
        }
        pool.Clear();
        Assert.Equal(0, pool.FreeBytes);
    }

    [Fact]
    public void ACallOnAnotherPoolDropsTheFreeArraysOfIdlePools()
    {
        // A fresh kernel function per call (NtkFn(...)(x) in a loop) must not keep the last one's working set alive.
        var a = new BufferPool(1 << 30);
        var b = new BufferPool(1 << 30);
        using (BufferPool.Use(a)) a.Return(BufferPool.Rent<double>(4096));
        Assert.Equal(4096L * sizeof(double), a.FreeBytes);
        long dropped = BufferPool.DroppedBytes;
        using (BufferPool.Use(b)) { }
        Assert.Equal(0, a.FreeBytes);
        Assert.True(BufferPool.DroppedBytes - dropped >= 4096L * sizeof(double));   // garbage the memory pacer counts
        // A pool with a call in flight keeps its free arrays; the same pool called again keeps them too.
        using (BufferPool.Use(a))
        {
            a.Return(BufferPool.Rent<double>(4096));
            using (BufferPool.Use(b)) { }
            Assert.Equal(4096L * sizeof(double), a.FreeBytes);
        }
        using (BufferPool.Use(a)) { }
        Assert.Equal(4096L * sizeof(double), a.FreeBytes);
    }
}

/// <summary>Runs <see cref="BufferPoolTests"/> alone (its pools' free bytes are exact).</summary>
[CollectionDefinition(nameof(BufferPoolTests), DisableParallelization = true)]
public class BufferPoolTestsCollection;
