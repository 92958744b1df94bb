using System.Collections.Concurrent;
using NeuralTangents.Cluster.Tiles;

namespace NeuralTangents.Cluster.Worker;

/// <summary>
/// A worker's content-addressed blobs, kept across tiles and jobs up to a byte capacity; the least recently used go
/// first (a client whose tile then needs one is told it is missing and sends it again). Thread-safe.
/// </summary>
internal sealed class BlobStore(long capacityBytes)
{
    private sealed class Entry(byte[] data) { public byte[] Data { get; } = data; public long LastUse; }

    private readonly ConcurrentDictionary<string, Entry> _blobs = new(StringComparer.Ordinal);
    private readonly object _evictLock = new();
    private long _bytes, _clock;

    public long Bytes => Interlocked.Read(ref _bytes);

    public string[] Missing(IEnumerable<string> hashes) => hashes.Where(h => !_blobs.ContainsKey(h)).Distinct().ToArray();

    public void Put(string hash, byte[] data)
    {
        if (Blobs.Hash(data) != hash) throw new ArgumentException($"blob does not match its hash {hash[..12]}…", nameof(data));
        var e = new Entry(data) { LastUse = Interlocked.Increment(ref _clock) };
        if (_blobs.TryAdd(hash, e)) Interlocked.Add(ref _bytes, data.Length);
        Evict();
    }

    public bool TryGet(string hash, out byte[] data)
    {
        if (_blobs.TryGetValue(hash, out var e))
        {
            e.LastUse = Interlocked.Increment(ref _clock);
            data = e.Data;
            return true;
        }
        data = [];
        return false;
    }

    private void Evict()
    {
        if (Bytes <= capacityBytes) return;
        lock (_evictLock)
        {
            foreach (var (hash, e) in _blobs.OrderBy(kv => kv.Value.LastUse).ToArray())
            {
                if (Bytes <= capacityBytes) break;
                if (_blobs.TryRemove(hash, out var removed)) Interlocked.Add(ref _bytes, -removed.Data.Length);
            }
        }
    }
}
