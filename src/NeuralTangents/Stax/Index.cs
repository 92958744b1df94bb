namespace NeuralTangents.Stax;

public static partial class Stax
{
    /// <summary>
    /// <c>stax.Index(idx)</c>: <c>x[idx]</c> with a NumPy basic index of integers, ranges and one ellipsis
    /// (e.g. <c>Index(Slice.Ellipsis, Slice.Int(0))</c> = <c>x[..., 0]</c>, <c>Index(Slice.All, new Slice(1, null, 2))</c> =
    /// <c>x[:, 1::2]</c>). Missing trailing entries are <c>:</c>. Neural Tangents' <c>kernel_fn</c> forbids indexing the
    /// batch axis; the finite-width apply function here does too, so examples stay independent (<c>vmapAxes: 0</c>).
    /// </summary>
    /// <exception cref="ArgumentException">More than one ellipsis; at init/apply, an index out of range or touching the
    /// batch axis.</exception>
    public static Layer Index(params Slice[] idx)
    {
        ArgumentNullException.ThrowIfNull(idx);
        if (idx.Count(s => s.IsEllipsis) > 1) throw new ArgumentException("Index: at most one ellipsis", nameof(idx));
        var desc = $"Index[{string.Join(",", idx.Select(s => s.ToString()))}]";
        // (start, limit, stride, keep) per axis for a given shape.
        (int[] Start, int[] Limit, int[] Stride, bool[] Keep) Plan(Shape s, string what)
        {
            int explicitAxes = idx.Count(e => !e.IsEllipsis);
            if (explicitAxes > s.Rank) throw new ArgumentException($"{desc}: too many indices for an input of shape {s}", what);
            var full = new List<Slice>();
            foreach (var e in idx)
                if (e.IsEllipsis) full.AddRange(Enumerable.Repeat(Slice.All, s.Rank - explicitAxes));
                else full.Add(e);
            while (full.Count < s.Rank) full.Add(Slice.All);
            var start = new int[s.Rank]; var limit = new int[s.Rank]; var stride = new int[s.Rank]; var keep = new bool[s.Rank];
            for (int a = 0; a < s.Rank; a++)
            {
                var e = full[a];
                int n = s[a];
                if (e.At is { } i)
                {
                    int k = i < 0 ? i + n : i;
                    if (k < 0 || k >= n) throw new ArgumentException($"{desc}: index {i} is out of range for axis {a} of size {n} (input shape {s})", what);
                    start[a] = k; limit[a] = k + 1; stride[a] = 1; keep[a] = false;
                }
                else
                {
                    int Clamp(int? v, int dflt) => v is not { } x ? dflt : Math.Clamp(x < 0 ? x + n : x, 0, n);
                    start[a] = Clamp(e.Start, 0); limit[a] = Math.Max(start[a], Clamp(e.Stop, n)); stride[a] = e.Step; keep[a] = true;
                }
                if (a == 0 && (start[0] != 0 || limit[0] != n || stride[0] != 1 || !keep[0]))
                    throw new ArgumentException($"{desc}: indexing the batch axis (axis 0) is not supported, as in Neural Tangents", what);
            }
            return (start, limit, stride, keep);
        }
        Shape OutShape(Shape s, string what)
        {
            var (st, li, sr, keep) = Plan(s, what);
            return new Shape(Enumerable.Range(0, s.Rank).Where(a => keep[a]).Select(a => (li[a] - st[a] + sr[a] - 1) / sr[a]));
        }
        return Layer.Single(desc,
            (rng, s, dtype, prefix, into) => OutShape(s, "inputShape"),
            (p, x) =>
            {
                var (st, li, sr, _) = Plan(x.Shape, "inputs");
                bool whole = Enumerable.Range(0, x.Rank).All(a => st[a] == 0 && li[a] == x.Shape[a] && sr[a] == 1);
                var y = whole ? x : Lax.Slice(x, st, li, sr);
                return Lax.Reshape(y, OutShape(x.Shape, "inputs"));
            });
    }
}
