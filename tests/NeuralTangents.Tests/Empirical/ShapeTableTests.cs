using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Tests.Empirical;

/// <summary>Worked shape examples of the kernel layout (docs/conventions.md#kernel-layout; numbered rows, 120 = row 12
/// with x2 = null, null = an error), for the NNGP and the NTK, with values from the naive loops (<see cref="NaiveKernel"/>).</summary>
public class ShapeTableTests
{
    // f = s·x: output shape = input shape, and ∂f/∂s = x, so NTK = NNGP with the same layout.
    private static readonly ApplyFn F = (p, x) => x * p["s"];
    private static readonly Params S = new() { { "s", Tensor.Scalar(1.0) } };

    public static IEnumerable<object?[]> Rows() => new[]
    {
        new object?[] { 1, new[] { 5, 10 }, new[] { 20, 10 }, new[] { -1 }, new int[0], new[] { 5, 20 } },
        new object?[] { 2, new[] { 5, 10 }, new[] { 20, 10 }, new int[0], new int[0], new[] { 5, 20, 10, 10 } },
        new object?[] { 3, new[] { 5, 10 }, null, new[] { -1 }, new[] { 0 }, new[] { 5 } },
        new object?[] { 4, new[] { 5, 10 }, null, new int[0], new[] { 0 }, new[] { 5, 10, 10 } },
        new object?[] { 5, new[] { 5, 10 }, new[] { 20, 10 }, new[] { -1 }, new[] { 0 }, null },
        new object?[] { 6, new[] { 2, 6, 6, 8 }, new[] { 3, 6, 6, 8 }, new[] { -1 }, new[] { 1, 2 }, new[] { 2, 3, 6, 6 } },
        new object?[] { 7, new[] { 2, 6, 6, 8 }, new[] { 3, 6, 6, 8 }, new[] { -1 }, new int[0], new[] { 2, 3, 6, 6, 6, 6 } },
        new object?[] { 8, new[] { 2, 6, 6, 8 }, new[] { 3, 6, 6, 8 }, new int[0], new[] { 1, 2 }, new[] { 2, 3, 6, 6, 8, 8 } },
        new object?[] { 9, new[] { 4, 3, 4, 2 }, null, new[] { 0 }, new int[0], new[] { 3, 3, 4, 4, 2, 2 } },
        new object?[] { 10, new[] { 4, 3, 4, 2 }, null, new[] { 1 }, new[] { 3, 0, 2 }, new[] { 4, 4, 2 } },
        new object?[] { 11, new[] { 4, 3, 4, 2 }, new[] { 2, 3, 4, 2 }, new[] { -2 }, new[] { -1 }, new[] { 4, 2, 3, 3, 2 } },
        new object?[] { 12, new[] { 4, 3, 4, 2 }, new[] { 2, 3, 4, 2 }, new[] { 0, 1, 2, 3 }, new int[0], null },
        new object?[] { 120, new[] { 4, 3, 4, 2 }, null, new[] { 0, 1, 2, 3 }, new int[0], new int[0] },
        new object?[] { 13, new[] { 7, 3, 2, 2 }, new[] { 7, 4, 2, 2 }, new[] { -1 }, new int[0], new[] { 7, 7, 3, 4, 2, 2 } },
        new object?[] { 14, new[] { 3, 10 }, new[] { 4, 10 }, new[] { 0 }, new int[0], null },
        new object?[] { 15, new[] { 5 }, null, new[] { -1 }, new int[0], new int[0] },
        new object?[] { 16, new int[0], new int[0], new[] { -1 }, new int[0], null },
        new object?[] { 17, new int[0], new int[0], new int[0], new int[0], new int[0] },
        new object?[] { 18, new[] { 3, 10 }, new[] { 3, 10 }, new[] { -1 }, new[] { 0 }, new[] { 3 } },
    };

    [Theory, MemberData(nameof(Rows))]
    public void KernelShapeAndValuesFollowTheTable(int row, int[] s1, int[]? s2, int[] trace, int[] diag, int[]? expected)
    {
        var rng = new Random(row);
        var x1 = Tensor.RandomNormal(rng, new Shape(s1));
        var x2 = s2 is null ? null : Tensor.RandomNormal(rng, new Shape(s2));
        var nngp = NeuralTangents.Empirical.NngpFn(F, trace, diag);
        var ntk = NeuralTangents.Empirical.NtkFn(F, trace, diag, implementation: TestDefaults.Ntk);
        if (expected is null)
        {
            foreach (var fn in new[] { nngp, ntk })
            {
                var e = Assert.ThrowsAny<ArgumentException>(() => fn(x1, x2, S));
                Assert.False(string.IsNullOrEmpty(e.ParamName), $"row {row}: the exception must name the argument");
                if (row != 16)
                {
                    // Both sizes appear in the message.
                    int axis = row == 14 || row == 12 ? 0 : 0;
                    Assert.Contains(s1[axis].ToString(), e.Message);
                    Assert.Contains(s2![axis].ToString(), e.Message);
                }
            }
            return;
        }
        var k = nngp(x1, x2, S);
        Assert.Equal(new Shape(expected), k.Shape);
        var reference = NaiveKernel.Compute(x1, x2 ?? x1, trace, diag);
        TestUtil.AssertClose(reference, k, 1e-12, 1e-12);
        TestUtil.AssertClose(reference, ntk(x1, x2, S), 1e-12, 1e-12);
    }
}
