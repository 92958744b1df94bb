using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using NeuralTangents.Implementations;

namespace NeuralTangents.Tiles;

/// <summary>
/// A kernel planned as tiles over examples, the counterpart of <c>nt.batch(kernel_fn, batch_size)</c> with output
/// that need not fit in memory: the <see cref="Plan"/>, <see cref="ComputeTile"/> for any tile (independent of the
/// others, so tiles may be computed anywhere), and <see cref="WriteNpy"/> which streams tiles into an <c>.npy</c>
/// file with a resumable manifest. Create with
/// <see cref="Empirical.Tiled(ApplyFn, Tensor, Tensor, Params, IReadOnlyList{KernelKind}, int[], int[], VmapAxes, NtkImplementation, KernelOptions)"/>;
/// the memory plan and any <see cref="KernelMemoryException"/> are settled there, before any work.
/// </summary>
public sealed class TiledKernel
{
    private readonly KernelJob _job;
    private readonly KernelOptions _options;

    internal TiledKernel(KernelJob job, KernelOptions options)
    {
        _job = job; _options = options;
        Plan = job.Plan ?? job.WholePlan();
    }

    /// <summary>The tiles (one tile covering everything when the kernel is computed whole).</summary>
    public TilePlan Plan { get; }

    /// <summary>The kernels computed, in the order of <c>get</c>.</summary>
    public IReadOnlyList<KernelKind> Kinds => _job.Kinds;

    /// <summary>Shape of each kernel (same order as <see cref="Kinds"/>).</summary>
    public IReadOnlyList<Shape> Shapes => _job.Shapes;

    /// <summary>The kernels' dtype.</summary>
    public DType DType => _job.DType;

    /// <summary>The NTK implementation used (AUTO resolved).</summary>
    public NtkImplementation Implementation => _job.Implementation;

    /// <summary>Estimated peak bytes of computing one tile.</summary>
    public double EstimatedPeakBytes => _job.EstimatedBytes;

    /// <summary>The memory budget in bytes.</summary>
    public long MemoryBudget => _job.Budget;

    /// <summary>AUTO's estimates (with tiled costs), or null when the implementation was given.</summary>
    public NtkExplanation? Explanation => _job.Explanation;

    /// <summary>
    /// The kernels of one tile, one per kind, shaped as the kernel with the batch axes cut to the tile's examples
    /// (x1 block, then x2 block). On a symmetric plan the mirror tile (column, row) is the transpose with every pair
    /// of free axes swapped; diagonal tiles are exactly symmetric.
    /// </summary>
    public Tensor[] ComputeTile(Tile tile) => _job.ComputeTile(Plan, tile);

    /// <summary>Start index per kernel axis of <paramref name="tile"/> in kernel <paramref name="kind"/>
    /// (<paramref name="mirrored"/>: of its mirror on a symmetric plan).</summary>
    public int[] Offsets(int kind, Tile tile, bool mirrored = false) => _job.Offsets(kind, tile, mirrored);

    /// <summary>The mirror of a tile computed by <see cref="ComputeTile"/> (for symmetric plans).</summary>
    public Tensor Mirror(int kind, Tensor tile) => _job.Mirror(tile, kind);

    /// <summary>
    /// SHA-256 (hex) of everything that defines the kernel: <paramref name="functionKey"/> (the network; a delegate
    /// cannot be hashed, so the caller names it, e.g. its spec), the parameters, the inputs, the axes, the kinds, the
    /// implementation, the dtype and the tile plan.
    /// </summary>
    public string Hash(string? functionKey)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s) { h.AppendData(Encoding.UTF8.GetBytes(s)); h.AppendData(new byte[] { 0 }); }
        void Data(Tensor t)
        {
            Text($"{t.DType.Name()} {t.Shape}");
            var c = t.Contiguous();
            if (c.DType == DType.Float32) h.AppendData(MemoryMarshal.AsBytes(c.Span<float>()));
            else h.AppendData(MemoryMarshal.AsBytes(c.Span<double>()));
        }
        Text("nt-tiled-kernel-v1");
        Text(functionKey ?? "");
        Text(string.Join(",", Kinds));
        Text(Implementation.ToString());
        Text(string.Join(";", _job.Axes.Select(a => $"t[{string.Join(",", a.Trace)}]d[{string.Join(",", a.Diagonal)}]")));
        Text(_job.Vmap?.ToString() ?? "none");
        Text($"{DType.Name()} {string.Join(";", Shapes)}");
        Text($"{Plan.N1} {Plan.N2} {Plan.BlockSize} {Plan.Symmetric} {Plan.DiagonalOnly}");
        foreach (var x in _job.X1) Data(x);
        if (_job.X2 is null) Text("x2=x1"); else foreach (var x in _job.X2) Data(x);
        foreach (var (name, value) in _job.Parameters) { Text(name); Data(value); }
        return Convert.ToHexString(h.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>A short hash of each thing <see cref="Hash"/> covers, by the name a resume refusal gives it, so that the
    /// refusal can say which of them changed.</summary>
    internal Dictionary<string, string> HashParts(string? functionKey)
    {
        string Of(Action<IncrementalHash> add)
        {
            using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            add(h);
            return Convert.ToHexString(h.GetHashAndReset())[..16].ToLowerInvariant();
        }
        static void Text(IncrementalHash h, string s) { h.AppendData(Encoding.UTF8.GetBytes(s)); h.AppendData(new byte[] { 0 }); }
        static void Data(IncrementalHash h, Tensor t)
        {
            Text(h, $"{t.DType.Name()} {t.Shape}");
            var c = t.Contiguous();
            if (c.DType == DType.Float32) h.AppendData(MemoryMarshal.AsBytes(c.Span<float>()));
            else h.AppendData(MemoryMarshal.AsBytes(c.Span<double>()));
        }
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["the network"] = Of(h => Text(h, functionKey ?? "")),
            ["the parameters"] = Of(h => { foreach (var (name, value) in _job.Parameters) { Text(h, name); Data(h, value); } }),
            ["x1"] = Of(h => { foreach (var x in _job.X1) Data(h, x); }),
            ["x2"] = Of(h => { if (_job.X2 is null) Text(h, "x2=x1"); else foreach (var x in _job.X2) Data(h, x); }),
            ["the kernels asked for"] = Of(h => Text(h, string.Join(",", Kinds))),
            ["the implementation"] = Of(h => Text(h, Implementation.ToString())),
            ["the axes"] = Of(h => Text(h, string.Join(";", _job.Axes.Select(a => $"t[{string.Join(",", a.Trace)}]d[{string.Join(",", a.Diagonal)}]")) + " " + (_job.Vmap?.ToString() ?? "none"))),
            ["the dtype"] = Of(h => Text(h, $"{DType.Name()} {string.Join(";", Shapes)}")),
            ["the tile plan (memory budget / batch size)"] = Of(h => Text(h, $"{Plan.N1} {Plan.N2} {Plan.BlockSize} {Plan.Symmetric} {Plan.DiagonalOnly}")),
        };
    }

    /// <summary>Throws when <paramref name="manifest"/> was written for another kernel, naming what changed when the
    /// manifest records its parts.</summary>
    /// <exception cref="InvalidDataException">The manifest's hash differs from <paramref name="hash"/>.</exception>
    internal void CheckManifest(TileManifest manifest, string manifestPath, string hash, string? functionKey)
    {
        if (manifest.Hash == hash) return;
        var now = HashParts(functionKey);
        var changed = manifest.Parts is { } before
            ? now.Where(kv => !before.TryGetValue(kv.Key, out var b) || b != kv.Value).Select(kv => kv.Key).ToList()
            : new List<string>();
        throw new InvalidDataException(changed.Count > 0
            ? $"{manifestPath} was written for a different kernel: {string.Join(", ", changed)} changed since; run without --resume to start over"
            : $"{manifestPath} was written for a different kernel (network, parameters, inputs, axes, implementation, dtype, " +
              "or tile plan from the memory budget / batch size); run without --resume to start over");
    }

    /// <summary>A new manifest for this kernel and plan (nothing done yet).</summary>
    internal TileManifest NewManifest(string hash, string? functionKey) => new()
    {
        Hash = hash, Parts = HashParts(functionKey), DType = DType.Name(), Shape = Shapes[0].ToArray(),
        Tiles = Plan.Tiles.Count, BlockSize = Plan.BlockSize,
    };

    /// <summary>All kernels in memory (tile by tile when planned so), one per kind.</summary>
    /// <exception cref="KernelMemoryException">The kernels themselves exceed the memory budget (write them with
    /// <see cref="WriteNpy"/> instead).</exception>
    public Tensor[] Compute()
    {
        CheckFitsInMemory();
        return Run(_job, Plan, _options, inMemoryPlanned: _job.Plan is not null);
    }

    /// <summary>Estimated peak bytes of <see cref="Compute"/>: the kernels held whole plus one tile (a whole computation's
    /// estimate already counts its kernels).</summary>
    public double EstimatedInMemoryPeakBytes => _job.Plan is null || _job.KernelCounted ? _job.EstimatedBytes : _job.KernelBytes + _job.EstimatedBytes;

    /// <summary>Throws what <see cref="Compute"/> would throw before any work when the kernels do not fit in memory.</summary>
    /// <exception cref="KernelMemoryException">The kernels plus one tile exceed the memory budget.</exception>
    public void CheckFitsInMemory()
    {
        foreach (var shape in _job.Shapes.Distinct())
            TensorSizeException.Check("the kernel", shape, hint: "write it to disk in tiles (WriteNpy, nt kernel --out k.npy)");
        if (_job.Plan is not null && EstimatedInMemoryPeakBytes > _job.Budget)
            throw new KernelMemoryException($"the kernel is {NeuralTangents.MemoryBudget.Format(_job.KernelBytes)} and a tile needs about {NeuralTangents.MemoryBudget.Format(EstimatedInMemoryPeakBytes - _job.KernelBytes)}" +
                $" but the memory budget is {NeuralTangents.MemoryBudget.Format(_job.Budget)}; write it to an .npy file in tiles (nt kernel --out K.npy, TiledKernel.WriteNpy) or raise the memory budget", EstimatedInMemoryPeakBytes, _job.Budget);
    }

    /// <summary>Computes into memory: whole when <paramref name="inMemoryPlanned"/> is false, else tile by tile.</summary>
    internal static Tensor[] Run(KernelJob job, TilePlan? plan, KernelOptions options, bool inMemoryPlanned)
    {
        using var pacing = MemoryPacer.Enter(options.CancellationToken);
        if (!inMemoryPlanned || plan is null)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            return job.Compute(job.X1, job.X2);
        }
        var kernels = job.Shapes.Select(s => Tensor.Zeros(s, job.DType)).ToArray();
        RunTiles(job, plan, options, new HashSet<int>(), (k, tile, offsets) =>
        {
            var c = tile.Contiguous();
            var dst = kernels[k];
            TileRuns.ForEach(dst.Shape, c.Shape, offsets, (d, s, len) => Array.Copy(c.Storage, c.Offset + s, dst.Storage, d, len));
        }, null);
        return kernels;
    }

    /// <summary>Tiles estimated above this many bytes return their memory to the OS after each tile.</summary>
    private const double ReleaseAboveBytes = 64.0 * (1 << 20);

    private static void RunTiles(KernelJob job, TilePlan plan, KernelOptions options, HashSet<int> done,
        Action<int, Tensor, int[]> write, Action<Tile>? finished)
    {
        using var pacing = MemoryPacer.Enter(options.CancellationToken);
        var sw = Stopwatch.StartNew();
        int total = plan.Tiles.Count, count = done.Count, computed = 0;
        foreach (var t in plan.Tiles)
        {
            if (done.Contains(t.Index)) continue;
            options.CancellationToken.ThrowIfCancellationRequested();
            var r = job.ComputeTile(plan, t);
            for (int k = 0; k < r.Length; k++)
            {
                write(k, r[k], job.Offsets(k, t, false));
                if (plan.Symmetric && !t.IsDiagonal) write(k, job.Mirror(r[k], k), job.Offsets(k, t, true));
            }
            finished?.Invoke(t);
            r = Array.Empty<Tensor>();
            // Large tiles leave large-object-heap garbage that a gen-2 collection only returns to the OS when asked;
            // without this the process's resident memory grows well past the budget between tiles.
            if (job.EstimatedBytes > ReleaseAboveBytes) GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            count++; computed++;
            var elapsed = sw.Elapsed;
            options.Progress?.Report(new KernelProgress(count, total, elapsed, elapsed / computed * (total - count)));
        }
    }

    /// <summary>How many of <see cref="Plan"/>'s tiles an interrupted <see cref="WriteNpy"/> to <paramref name="path"/>
    /// already wrote (what <c>WriteNpy(path, resume: true)</c> will reuse), with the same checks it makes first.</summary>
    /// <exception cref="FileNotFoundException">No partial file or manifest to resume from.</exception>
    /// <exception cref="InvalidDataException">The manifest was written for a different kernel or plan.</exception>
    public int ResumableTiles(string path, string? functionKey = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var done = LoadResumable(path, functionKey).Done;
        return Plan.Tiles.Count(t => done.Contains(t.Index));
    }

    private TileManifest LoadResumable(string path, string? functionKey)
    {
        string partial = path + ".partial", manifestPath = path + ".tiles.json";
        if (!File.Exists(manifestPath)) throw new FileNotFoundException(File.Exists(path) && !File.Exists(partial)
            ? $"--resume: nothing to resume: {path} is already complete (no {Path.GetFileName(manifestPath)} beside it)"
            : $"--resume: nothing to resume: {manifestPath} does not exist", manifestPath);
        if (!File.Exists(partial)) throw new FileNotFoundException($"--resume: nothing to resume: {partial} does not exist (delete {Path.GetFileName(manifestPath)} and run without --resume)", partial);
        var manifest = TileManifest.Load(manifestPath);
        CheckManifest(manifest, manifestPath, Hash(functionKey), functionKey);
        return manifest;
    }

    /// <summary>
    /// Writes the kernel (one kind) to <paramref name="path"/> as <c>.npy</c>, tile by tile, never holding it whole.
    /// Tiles go into <c>path.partial</c>, listed in the manifest <c>path.tiles.json</c> as they finish; only a
    /// complete kernel is renamed onto <paramref name="path"/> (an existing file there is untouched until then) and
    /// the manifest removed. On cancellation (<see cref="OperationCanceledException"/>) or failure the partial file
    /// and manifest stay; <paramref name="resume"/> continues from them and yields the byte-identical file.
    /// </summary>
    /// <param name="path">Target .npy.</param>
    /// <param name="resume">Continue from an existing partial file and manifest.</param>
    /// <param name="functionKey">Names the network for the manifest hash (e.g. its spec).</param>
    /// <exception cref="ArgumentException">Several kinds were planned (one kernel per file).</exception>
    /// <exception cref="FileNotFoundException">Resume without a partial file or manifest.</exception>
    /// <exception cref="InvalidDataException">Resume with a manifest for a different kernel or plan.</exception>
    public void WriteNpy(string path, bool resume = false, string? functionKey = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Shapes.Count != 1) throw new ArgumentException($"an .npy holds one kernel, {Shapes.Count} were requested", nameof(path));
        string partial = path + ".partial", manifestPath = path + ".tiles.json";
        string hash = Hash(functionKey);
        TileManifest manifest;
        NpyTileWriter writer;
        if (resume)
        {
            manifest = LoadResumable(path, functionKey);
            writer = NpyTileWriter.Open(partial, DType, Shapes[0]);
        }
        else
        {
            writer = NpyTileWriter.Create(partial, DType, Shapes[0]);
            manifest = NewManifest(hash, functionKey);
            manifest.Save(manifestPath);
        }
        using (writer)
        {
            RunTiles(_job, Plan, _options, new HashSet<int>(manifest.Done), (k, tile, offsets) => writer.Write(tile, offsets), t =>
            {
                writer.Flush();
                manifest.Done.Add(t.Index);
                manifest.Save(manifestPath);
            });
        }
        File.Move(partial, path, overwrite: true);
        File.Delete(manifestPath);
    }
}
