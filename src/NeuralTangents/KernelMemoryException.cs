namespace NeuralTangents;

/// <summary>
/// Thrown before any numeric work when a kernel cannot be computed within its memory budget, even in the smallest
/// tile or chunk. The message gives the estimate, the budget and what to change. It derives from
/// <see cref="OutOfMemoryException"/> as <see cref="InsufficientMemoryException"/> does (which is sealed): like it,
/// it is thrown before allocating, so the process is in a good state.
/// </summary>
public sealed class KernelMemoryException : OutOfMemoryException
{
    /// <summary>Estimated bytes of the smallest computation that was possible.</summary>
    public double EstimatedBytes { get; }

    /// <summary>The budget in bytes.</summary>
    public long BudgetBytes { get; }

    /// <summary>Creates the exception.</summary>
    public KernelMemoryException(string message, double estimatedBytes, long budgetBytes) : base(message)
    {
        EstimatedBytes = estimatedBytes;
        BudgetBytes = budgetBytes;
    }
}
