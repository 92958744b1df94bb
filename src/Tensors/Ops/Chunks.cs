namespace NeuralTangents.Tensors.Ops;

/// <summary>
/// Splits element-wise work into fixed-size chunks, run in parallel when large. Chunk boundaries depend only on the
/// length, never on the thread count, so results are bitwise identical however many threads run them
/// (vectorised kernels treat short tails differently from full vectors).
/// </summary>
internal static class Chunks
{
    internal const int Size = 1 << 14;

    /// <summary>Minimum element count before chunks go to the thread pool; set to <see cref="int.MaxValue"/> to disable.</summary>
    internal static int ParallelThreshold = 1 << 17;

    public static void Run(int n, Action<int, int> body)
    {
        if (n <= Size)
        {
            if (n > 0) body(0, n);
            return;
        }
        int count = (n + Size - 1) / Size;
        if (n >= ParallelThreshold && Environment.ProcessorCount > 1)
            Parallel.For(0, count, i => body(i * Size, Math.Min(Size, n - i * Size)));
        else
            for (int i = 0; i < count; i++) body(i * Size, Math.Min(Size, n - i * Size));
    }
}
