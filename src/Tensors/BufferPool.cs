namespace NeuralTangents.Tensors;

/// <summary>
/// Storage arrays of dead intermediate tensors, kept for reuse by later kernels and later calls of the same kernel
/// function (allocating and first-touching fresh memory was most of a warm call's element-wise time: the digits FCN
/// allocated ~420 MB per call). Arrays are kept by exact element count and type, so a reused array is always exactly
/// a tensor's storage (<c>Storage.Length == Size</c>, as the kernels assume).
/// <para>
/// Who returns what: the autodiff interpreter returns the storage of an intermediate once no live variable refers to
/// it (views share storage, so it counts references per storage array) and only if the storage was rented while one
/// of its equations ran; a kernel implementation returns its interpreters' outputs once it is done with them
/// (<see cref="Release"/>). Inputs, literals, results and anything not rented here are never returned.
/// </para>
/// <para>
/// Memory: the arrays a pool manages, the free ones and those rented by the calls in flight and not yet returned, stay
/// within <see cref="CapBytes"/>. A kernel function sets the cap to its call's estimated peak (the bytes the memory
/// estimates already count), so a call that reuses the previous call's arrays holds no more than the estimate. When a
/// rental finds no free array of its size and allocating would exceed the cap, free arrays are dropped to the GC
/// first: sizes not rented in the current call before sizes that were, larger before smaller (a call whose shapes
/// differ from the last one's thus replaces the stale arrays instead of adding to them). A returned array that does not
/// fit is dropped. Dropped bytes count as garbage for the memory pacer (<see cref="DroppedBytes"/>). Within the cap a
/// steady working set stays in the pool: a warm call that repeats the previous one's rentals allocates only its
/// results and what no site rents here (measured on the seed CNN: 117 MB and 4 full collections per warm call when
/// free arrays counted as garbage, 10 MB and none since).
/// </para>
/// Thread-safe: free lists are guarded by a lock; which pool is in effect is an ambient value per logical call flow
/// (<see cref="Use"/>, an <see cref="AsyncLocal{T}"/>: it flows into <c>Parallel.For</c> workers and tasks, and two
/// threads evaluating with one pool each track their own rentals).
/// </summary>
internal sealed class BufferPool
{
    /// <summary>Arrays shorter than this are allocated, not pooled (a look-up costs about as much as a small allocation).</summary>
    internal const int MinElements = 1024;

    private static readonly AsyncLocal<Frame?> Ambient = new();

    private static long _droppedBytes;

    private readonly object _gate = new();
    private readonly Dictionary<(Type, int), Stack<Array>> _free = new();
    // The call (Use scope) that last rented each size: sizes the current call has not rented yet go first when the cap
    // forces a drop. Which call in flight rented an array not yet returned (weak: an array nobody returns is collected).
    private readonly Dictionary<(Type, int), int> _lastRented = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Array, Call> _rentedBy = new();
    private long _capBytes;
    private long _freeBytes, _outstandingBytes, _hits, _misses, _returned, _dropped;
    private int _calls;

    /// <summary>A pool retaining at most <paramref name="capBytes"/> bytes of free arrays.</summary>
    public BufferPool(long capBytes = 256L << 20)
    {
        _capBytes = Math.Max(0, capBytes);
        lock (Pools)
        {
            Pools.RemoveAll(w => !w.TryGetTarget(out _));
            Pools.Add(new WeakReference<BufferPool>(this));
        }
    }

    // Every pool of the process (weakly): a call on one pool drops the free arrays of the others (see BeginCall).
    private static readonly List<WeakReference<BufferPool>> Pools = new();

    /// <summary>Most bytes of free arrays plus arrays rented by the calls in flight; lowering it drops free arrays at once.</summary>
    public long CapBytes
    {
        get => Interlocked.Read(ref _capBytes);
        set
        {
            lock (_gate)
            {
                _capBytes = Math.Max(0, value);
                Trim(_capBytes - _outstandingBytes);
            }
        }
    }

    /// <summary>Bytes of free arrays held now.</summary>
    public long FreeBytes { get { lock (_gate) return _freeBytes; } }

    /// <summary>Bytes rented by the calls in flight (<see cref="Use"/> scopes) and not returned yet.</summary>
    public long OutstandingBytes { get { lock (_gate) return _outstandingBytes; } }

    /// <summary>Bytes of arrays every pool of the process has dropped to the GC so far (over a cap, trimmed, cleared):
    /// garbage the memory pacer counts with the bytes allocated.</summary>
    internal static long DroppedBytes => Interlocked.Read(ref _droppedBytes);

    /// <summary>Rentals served from the pool / allocated because none fit; arrays returned / dropped over the cap.</summary>
    public (long Hits, long Misses, long Returned, long Dropped) Counts
    {
        get { lock (_gate) return (_hits, _misses, _returned, _dropped); }
    }

    /// <summary>A pool that pools nothing: inside <c>Use(BufferPool.Off)</c> every site allocates with <c>new</c>, as
    /// without a pool (the reference in tests and A/B measurements).</summary>
    internal static BufferPool Off { get; } = new(0) { IsOff = true };

    private bool IsOff { get; init; }

    /// <summary>Test aid: a rented array that the site does not ask to be zeroed is filled with NaN first, so a site
    /// that leaves elements unwritten gives NaN instead of silently reusing stale values.</summary>
    internal bool PoisonRentals { get; init; }

    /// <summary>Drops every free array to the GC.</summary>
    public void Clear()
    {
        lock (_gate) Trim(0);
    }

    /// <summary>Drops free arrays to the GC, largest first, until at most <paramref name="bytes"/> stay.</summary>
    internal void TrimTo(long bytes)
    {
        lock (_gate) Trim(bytes);
    }

    private void Trim(long limit)
    {
        if (_freeBytes <= Math.Max(0, limit)) return;   // the usual case (a kernel function sets the cap every call)
        // Largest arrays first: fewest dropped for the bytes, and small ones are the likeliest to be rented again soon.
        foreach (var (key, stack) in _free.OrderByDescending(kv => KeyBytes(kv.Key)))
            while (_freeBytes > Math.Max(0, limit) && stack.Count > 0) Drop(stack.Pop());
    }

    /// <summary>Drops free arrays until <paramref name="bytes"/> more fit under the cap: sizes the call
    /// <paramref name="generation"/> has not rented before those it has, larger before smaller.</summary>
    private void MakeRoom(long bytes, int generation)
    {
        if (_freeBytes + _outstandingBytes + bytes <= _capBytes || _freeBytes == 0) return;
        foreach (var (key, stack) in _free.Where(kv => kv.Value.Count > 0)
                     .OrderBy(kv => _lastRented.GetValueOrDefault(kv.Key, int.MinValue) == generation)
                     .ThenByDescending(kv => KeyBytes(kv.Key)).ToArray())
            while (stack.Count > 0 && _freeBytes + _outstandingBytes + bytes > _capBytes) Drop(stack.Pop());
    }

    private void Drop(Array a)
    {
        long bytes = Bytes(a);
        _freeBytes -= bytes;
        _dropped++;
        Interlocked.Add(ref _droppedBytes, bytes);
    }

    private static long KeyBytes((Type Type, int Length) key) => key.Length * (key.Type == typeof(float) ? 4L : 8L);

    private static long Bytes(Array a) => (long)a.Length * (a is float[] ? sizeof(float) : sizeof(double));

    /// <summary>A free array of exactly <paramref name="length"/> elements, or null after making room under the cap for
    /// the caller to allocate one; either way the array the caller ends up with is counted as rented by
    /// <paramref name="call"/> (<see cref="Rented"/>).</summary>
    private T[]? TryTake<T>(int length, Call call)
    {
        var key = (typeof(T), length);
        lock (_gate)
        {
            _lastRented[key] = call.Generation;
            if (_free.TryGetValue(key, out var s) && s.Count > 0)
            {
                var a = (T[])s.Pop();
                _freeBytes -= Bytes(a);
                _hits++;
                return a;
            }
            _misses++;
            MakeRoom(KeyBytes(key), call.Generation);
            return null;
        }
    }

    private void Rented(Array a, Call call)
    {
        long bytes = Bytes(a);
        lock (_gate)
        {
            _rentedBy.AddOrUpdate(a, call);
            if (call.Ended) return;
            call.Bytes += bytes;
            _outstandingBytes += bytes;
        }
    }

    /// <summary>Keeps <paramref name="a"/> for reuse (or drops it over the cap). The caller guarantees that nothing reads
    /// or writes it any more.</summary>
    internal void Return(Array a)
    {
        if (IsOff || a is not (float[] or double[]) || a.Length < MinElements) return;
        long bytes = Bytes(a);
        lock (_gate)
        {
            if (_rentedBy.TryGetValue(a, out var call))
            {
                _rentedBy.Remove(a);
                if (!call.Ended) { call.Bytes -= bytes; _outstandingBytes -= bytes; }
            }
            if (_freeBytes + _outstandingBytes + bytes > _capBytes)
            {
                _dropped++;
                Interlocked.Add(ref _droppedBytes, bytes);
                return;
            }
            var key = (a.GetType().GetElementType()!, a.Length);
            if (!_free.TryGetValue(key, out var s)) _free[key] = s = new Stack<Array>();
            s.Push(a);
            _freeBytes += bytes;
            _returned++;
        }
    }

    /// <summary>A <see cref="Use"/> scope of this pool: its rentals count against the cap until returned or until it ends
    /// (then what it did not return is its results' storage or garbage: no longer the pool's).</summary>
    private Call BeginCall()
    {
        // A call on another pool than the last one's drops the free arrays of the other pools with no call in flight (their callers' kernel functions
        // may be gone, e.g. Empirical.NtkFn(...)(x) in a loop: a fresh function and pool per call, while the old pool's
        // arrays, up to one estimated peak, stayed reachable or uncollected: 0.98 -> 1.82 GB peak RSS on three JC calls
        // of the digits FCN). Dropped bytes count as garbage for the memory pacer, which collects them. The cost: kernel
        // functions used in alternation re-allocate their working sets.
        if (Interlocked.Exchange(ref s_lastCalled, _id) != _id)
        {
            List<BufferPool> others = new();
            lock (Pools)
                foreach (var w in Pools)
                    if (w.TryGetTarget(out var p) && !ReferenceEquals(p, this)) others.Add(p);
            foreach (var p in others) p.TrimIfIdle();
        }
        lock (_gate) { _inFlight++; return new Call(++_calls); }
    }

    private static long s_lastCalled, s_ids;
    private int _inFlight;

    /// <summary>Drops every free array unless a call on this pool is in flight (whose rentals would miss).</summary>
    private void TrimIfIdle()
    {
        lock (_gate) if (_inFlight == 0) Trim(0);
    }
    private readonly long _id = Interlocked.Increment(ref s_ids);

    private void EndCall(Call call)
    {
        lock (_gate)
        {
            if (call.Ended) return;
            call.Ended = true;
            _inFlight--;
            _outstandingBytes -= call.Bytes;
            call.Bytes = 0;
        }
    }

    internal sealed class Call(int generation)
    {
        public int Generation { get; } = generation;
        public long Bytes;
        public bool Ended;
    }

    // ---------------------------------------------------------------- ambient use

    /// <summary>The pool in effect on this call flow, or null.</summary>
    internal static BufferPool? Current => Ambient.Value?.Pool;

    /// <summary>
    /// A storage array of <paramref name="length"/> elements: from the ambient pool when one is in effect (else
    /// <c>new</c>). <paramref name="zeroed"/>: the site accumulates into it (all zeros, as <c>new</c> gives);
    /// otherwise the caller must write every element before reading any.
    /// </summary>
    internal static T[] Rent<T>(int length, bool zeroed = false)
    {
        var f = Ambient.Value;
        if (f is null || f.Pool.IsOff || length < MinElements) return new T[length];
        var a = f.Pool.TryTake<T>(length, f.Call);
        if (a is null) a = zeroed ? new T[length] : GC.AllocateUninitializedArray<T>(length);
        else if (zeroed) Array.Clear(a);
        f.Pool.Rented(a, f.Call);
        if (!zeroed && f.Pool.PoisonRentals) Poison(a);
        f.Note(a);
        return a;
    }

    private static void Poison<T>(T[] a)
    {
        if (a is float[] fa) Array.Fill(fa, float.NaN);
        else if (a is double[] da) Array.Fill(da, double.NaN);
    }

    /// <summary>Makes <paramref name="pool"/> the ambient pool until the returned scope is disposed.</summary>
    public static Scope Use(BufferPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var previous = Ambient.Value;
        var frame = new Frame(pool, pool.BeginCall(), previous, notesRentals: false);
        Ambient.Value = frame;
        return new Scope(frame, previous);
    }

    /// <summary>
    /// Starts tracking the arrays rented on this call flow (an interpreter's evaluation), or returns null when no pool
    /// is in effect. Dispose it to restore the enclosing frame.
    /// </summary>
    internal static Tracking? Track()
    {
        var previous = Ambient.Value;
        if (previous is null) return null;
        var frame = new Frame(previous.Pool, previous.Call, previous, notesRentals: true);
        Ambient.Value = frame;
        return new Tracking(frame, previous);
    }

    /// <summary>
    /// Runs an operation that returns a fresh tensor, outside an interpreter (an einsum step, a scaling): the arrays it
    /// rented other than its result's storage are dead when it returns (no allocation site keeps an array beyond its
    /// operation except as the storage of the tensor it returns) and go back to the pool; the result's storage, when
    /// rented, may later be given back with <see cref="Release"/>.
    /// </summary>
    internal static Tensor Run(Func<Tensor> op) => Run(op, out _);

    /// <summary><see cref="Run(Func{Tensor})"/>; <paramref name="owned"/>: the result's storage was rented by the
    /// operation (not an operand's or a caller's), so it may be released once dead.</summary>
    internal static Tensor Run(Func<Tensor> op, out bool owned)
    {
        owned = false;
        using var t = Track();
        var r = op();
        if (t is null) return r;
        owned = t.ReturnScratch(r.Storage);
        if (owned) t.Escape(r.Storage);
        return r;
    }

    /// <summary><see cref="Run(Func{Tensor})"/> for an operation that writes into a caller's tensor: everything it rented is dead.</summary>
    internal static void Run(Action op)
    {
        using var t = Track();
        op();
        t?.ReturnScratch(null);
    }

    /// <summary>
    /// Returns the storage of <paramref name="dead"/> tensors to the ambient pool, except storage that a
    /// <paramref name="keep"/> tensor refers to, and only storage that an interpreter rented and handed out as a graph
    /// output in this scope (so an input, a parameter, a literal or a caller's array is never taken). The caller
    /// guarantees that no live tensor other than those in <paramref name="keep"/> refers to that storage.
    /// Does nothing when no pool is in effect.
    /// </summary>
    internal static void Release(IEnumerable<Tensor> dead, IEnumerable<Tensor>? keep = null)
    {
        var f = Ambient.Value;
        while (f is not null && f.Escaped is null) f = f.Parent;
        if (f is null) return;
        var kept = new HashSet<Array>(ReferenceEqualityComparer.Instance);
        if (keep is not null) foreach (var t in keep) kept.Add(t.Storage);
        foreach (var t in dead)
        {
            var a = t.Storage;
            if (kept.Contains(a) || !f.Escaped!.Remove(a)) continue;
            f.Pool.Return(a);
        }
    }

    /// <summary>One level of the ambient stack: the pool; for an interpreter's frame, the arrays rented on it (and
    /// outputs escaping from interpreters nested in its equations); for a <see cref="Use"/> frame, the outputs that
    /// escaped from its interpreters, held weakly (the GC takes those nobody releases).</summary>
    internal sealed class Frame(BufferPool pool, Call call, Frame? parent, bool notesRentals)
    {
        private readonly List<Array> _noted = new();
        public BufferPool Pool { get; } = pool;
        internal Call Call { get; } = call;
        public Frame? Parent { get; } = parent;
        public System.Runtime.CompilerServices.ConditionalWeakTable<Array, object>? Escaped { get; } = notesRentals ? null : new();

        internal void Note(Array a)
        {
            if (!notesRentals) return;
            lock (_noted) _noted.Add(a);
        }

        internal void Adopt(Array a)
        {
            if (Escaped is not null) Escaped.AddOrUpdate(a, Pool);
            else lock (_noted) _noted.Add(a);
        }

        internal Array[] Take()
        {
            lock (_noted)
            {
                if (_noted.Count == 0) return Array.Empty<Array>();
                var r = _noted.ToArray();
                _noted.Clear();
                return r;
            }
        }
    }

    /// <summary>An interpreter's tracking frame (see <see cref="Track"/>).</summary>
    internal sealed class Tracking(Frame frame, Frame previous) : IDisposable
    {
        private bool _done;

        public BufferPool Pool => frame.Pool;

        /// <summary>The arrays rented (or adopted from nested evaluations) since the last call.</summary>
        public Array[] TakeRented() => frame.Take();

        /// <summary>Hands an owned array that outlives this evaluation (a graph output) to the enclosing frame.</summary>
        public void Escape(Array a) => previous.Adopt(a);

        /// <summary>Returns every array rented since the last take except <paramref name="result"/>; says whether
        /// <paramref name="result"/> was among them (then it is owned here).</summary>
        public bool ReturnScratch(Array? result)
        {
            bool owned = false;
            var seen = new HashSet<Array>(ReferenceEqualityComparer.Instance);
            foreach (var a in frame.Take())
            {
                if (ReferenceEquals(a, result)) { owned = true; continue; }
                if (seen.Add(a)) frame.Pool.Return(a);
            }
            return owned;
        }

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            Ambient.Value = previous;
        }
    }

    /// <summary>A pool made ambient by <see cref="Use"/>; disposing it restores the previous one.</summary>
    internal sealed class Scope(Frame frame, Frame? previous) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            Ambient.Value = previous;
            frame.Pool.EndCall(frame.Call);
        }
    }
}
