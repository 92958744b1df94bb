using NeuralTangents.Autodiff.Ir;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>
/// Structure of <c>∂y/∂w</c> for one operand w of a linear primitive (Neural Tangents' <c>Structure</c>, Novak et al. 2022 §4,
/// Neural Tangents' <c>rules.py</c> <c>Structure</c>). Three kinds of compression:
/// <list type="bullet">
/// <item><see cref="Trace"/> (Y, W): constant block-diagonal, <c>∂y[…u…]/∂w[…v…] = δ_uv·C</c> with C independent of u.
/// Both axes are trimmed to size 1 and the y axis becomes one summed index shared by the x1 and x2 sides
/// (NT's <c>out_trace</c>/<c>in_trace</c>).</item>
/// <item><see cref="Diagonal"/> (Y, W): block-diagonal with blocks that depend on u, <c>δ_uv·c(u)</c> (e.g. a product with
/// a constant tensor). Only w's axis is trimmed; the y axis keeps its size in <c>∂y/∂w</c> and is one index shared by
/// all four factors of an MJJMP (NT's <c>out_diagonal</c>/<c>in_diagonal</c>).</item>
/// <item><see cref="Broadcast"/> (y axes): y repeats one block along these axes (w is tiled). <c>∂y/∂w</c> is kept for one
/// tile; <c>∂f/∂y</c> is summed over the tiles on its own side (NT's <c>out_broadcast</c>).</item>
/// </list>
/// <see cref="SliceOthers"/>: every other operand is indexed like w on the traced axes (element-wise primitives,
/// concatenate: NT's <c>in_trace_idxs</c> = all inputs) and is trimmed with it. <see cref="YInWShape"/> (reshape): the
/// output is taken in w's shape, so the primitive acts as an identity on w and the pairs are in w's coordinates.
/// </summary>
internal sealed record StructureRule((int Y, int W)[] Trace, bool SliceOthers = false)
{
    /// <summary>Non-constant block-diagonal pairs (y axis, w axis).</summary>
    public (int Y, int W)[] Diagonal { get; init; } = Array.Empty<(int, int)>();

    /// <summary>Axes of y along which y tiles one block.</summary>
    public int[] Broadcast { get; init; } = Array.Empty<int>();

    /// <summary>The output is read in w's shape (reshape): y ≡ w.</summary>
    public bool YInWShape { get; init; }

    /// <summary>No compression at all.</summary>
    public static readonly StructureRule None = new(Array.Empty<(int, int)>());

    /// <summary>All axes paired with themselves (identity-like element-wise rules).</summary>
    public static StructureRule Identity(int rank) => new(Enumerable.Range(0, rank).Select(a => (a, a)).ToArray(), true);

    /// <summary>Every axis block-diagonal with itself (a product with a constant of w's shape).</summary>
    public static StructureRule ElementwiseDiagonal(int rank) => new(Array.Empty<(int, int)>()) { Diagonal = Enumerable.Range(0, rank).Select(a => (a, a)).ToArray() };

    /// <summary>The w axes this rule trims (traced or diagonal).</summary>
    public IEnumerable<int> CompressedW => Trace.Select(p => p.W).Concat(Diagonal.Select(p => p.W));

    /// <summary>True when nothing is compressed.</summary>
    public bool IsEmpty => Trace.Length == 0 && Diagonal.Length == 0 && Broadcast.Length == 0;

    /// <summary>This rule keeping only the pairs whose w axis is in <paramref name="w"/> (the intersection over every use of
    /// one parameter, so that all uses trim the same w axes). Broadcast axes concern y only and are kept.</summary>
    public StructureRule Restrict(IReadOnlySet<int> w) => this with
    {
        Trace = Trace.Where(p => w.Contains(p.W)).ToArray(),
        Diagonal = Diagonal.Where(p => w.Contains(p.W)).ToArray(),
    };

    /// <summary>The size of y' (∂y/∂w's y part): 1 on traced and broadcast axes, full elsewhere.</summary>
    public Shape TrimY(Shape y) => new(y.Select((d, a) => Trace.Any(p => p.Y == a) || Broadcast.Contains(a) ? 1 : d));

    /// <summary>The size of w': 1 on traced and diagonal axes, full elsewhere.</summary>
    public Shape TrimW(Shape w) => new(w.Select((d, a) => CompressedW.Contains(a) ? 1 : d));

    /// <summary>True when <paramref name="a"/> is a literal that is a broadcast scalar (all strides zero).</summary>
    public static bool IsScalarLiteral(Atom a) => a is Literal l && (l.Value.Size <= 1 || l.Value.Strides.All(s => s == 0));

    /// <summary>Text for explanations and test messages.</summary>
    public override string ToString() =>
        $"trace={Fmt(Trace)} diagonal={Fmt(Diagonal)} broadcast=({string.Join(",", Broadcast)}){(YInWShape ? " y-in-w-shape" : "")}";

    private static string Fmt((int Y, int W)[] p) => "(" + string.Join(",", p.Select(x => $"{x.Y}:{x.W}")) + ")";
}
