using System.Text;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Autodiff.Primitives;

/// <summary>
/// A chain of element-wise operations evaluated in one pass (XLA's loop fusion; made by
/// <see cref="Transforms.FuseElementwiseTransform"/>, the last rewrite before evaluation). Operand i is read through
/// <see cref="Maps"/>[i] (its axis j is output axis <c>Maps[i][j]</c>, −1 for a size-1 axis: broadcasts, transposes and
/// size-1 reshapes are folded into it), then <see cref="Steps"/> run in order, the last giving the result. Its rules
/// (JVP, batching) re-emit the unfused operations, so a fused graph still supports every transform.
/// </summary>
internal sealed class FusedElementwisePrimitive : Primitive
{
    /// <summary>Result type.</summary>
    public TensorType Output { get; }
    /// <summary>Per operand: the output axis of each of its axes (−1 for size-1 axes).</summary>
    public int[][] Maps { get; }
    /// <summary>The program; arguments name operands (leaves), earlier steps or constants.</summary>
    public FusedStep[] Steps { get; }
    /// <summary>FLOP estimate of the operations it replaced (so fusing leaves a graph's cost model unchanged).</summary>
    public double SourceFlops { get; }

    internal FusedElementwisePrimitive(TensorType output, int[][] maps, FusedStep[] steps, double sourceFlops)
    {
        Output = output; Maps = maps; Steps = steps; SourceFlops = sourceFlops;
    }

    /// <inheritdoc/>
    public override string Name => "fused_elementwise";

    /// <inheritdoc/>
    public override string ParamsText()
    {
        var sb = new StringBuilder();
        sb.Append("maps=").Append(string.Join(";", Maps.Select(L)));
        sb.Append(" steps=").Append(string.Join(";", Steps.Select((s, k) => $"s{k}={s}")));
        return sb.ToString();
    }

    private protected override object? Parameters => (Output, ParamsText(), BitConverter.DoubleToInt64Bits(SourceFlops));

    internal override TensorType InferType(TensorType[] inputs)
    {
        if (inputs.Length != Maps.Length) throw new ArgumentException($"{Name}: expected {Maps.Length} operands, got {inputs.Length}");
        for (int i = 0; i < inputs.Length; i++)
        {
            RequireSameDType(Name, inputs[i], Output);
            var s = inputs[i].Shape;
            if (Maps[i].Length != s.Rank) throw new ArgumentException($"{Name}: operand {i} of shape {s} needs a map of {s.Rank} axes, got {L(Maps[i])}");
            for (int j = 0; j < s.Rank; j++)
                if (s[j] != 1 && (Maps[i][j] < 0 || Maps[i][j] >= Output.Rank || Output.Shape[Maps[i][j]] != s[j]))
                    throw new ArgumentException($"{Name}: operand {i} of shape {s} does not map onto {Output.Shape} with {L(Maps[i])}");
        }
        return Output;
    }

    internal override Tensor Evaluate(Tensor[] inputs) => FusedElementwise.Evaluate(Output.Shape, Output.DType, inputs, Maps, Steps);

    internal override double Flops(TensorType[] inputs, TensorType output) => SourceFlops;

    /// <summary>The primitive a step stands for.</summary>
    internal static Primitive PrimitiveOf(FusedStep s) => s.Kind switch
    {
        FusedStepKind.Compare => new ComparePrimitive((CompareOp)s.Op),
        FusedStepKind.Binary => (BinaryOp)s.Op switch
        {
            BinaryOp.Add => new AddPrimitive(), BinaryOp.Sub => new SubPrimitive(), BinaryOp.Mul => new MulPrimitive(),
            BinaryOp.Div => new DivPrimitive(), BinaryOp.Max => new MaxPrimitive(), BinaryOp.Min => new MinPrimitive(),
            _ => new PowPrimitive(),
        },
        _ => (UnaryOp)s.Op switch
        {
            UnaryOp.Neg => new NegPrimitive(), UnaryOp.Exp => new ExpPrimitive(), UnaryOp.Log => new LogPrimitive(),
            UnaryOp.Tanh => new TanhPrimitive(), UnaryOp.Erf => new ErfPrimitive(), UnaryOp.Sin => new SinPrimitive(),
            UnaryOp.Cos => new CosPrimitive(), UnaryOp.Sqrt => new SqrtPrimitive(), UnaryOp.Rsqrt => new RsqrtPrimitive(),
            UnaryOp.Abs => new AbsPrimitive(), UnaryOp.Sign => new SignPrimitive(), _ => new LogisticPrimitive(),
        },
    };

    /// <summary>The step kind and op of an element-wise primitive; false for any other primitive.</summary>
    internal static bool TryStep(Primitive p, out FusedStepKind kind, out int op)
    {
        (kind, op) = p switch
        {
            AddPrimitive => (FusedStepKind.Binary, (int)BinaryOp.Add),
            SubPrimitive => (FusedStepKind.Binary, (int)BinaryOp.Sub),
            MulPrimitive => (FusedStepKind.Binary, (int)BinaryOp.Mul),
            DivPrimitive => (FusedStepKind.Binary, (int)BinaryOp.Div),
            MaxPrimitive => (FusedStepKind.Binary, (int)BinaryOp.Max),
            MinPrimitive => (FusedStepKind.Binary, (int)BinaryOp.Min),
            PowPrimitive => (FusedStepKind.Binary, (int)BinaryOp.Pow),
            ComparePrimitive c => (FusedStepKind.Compare, (int)c.Op),
            NegPrimitive => (FusedStepKind.Unary, (int)UnaryOp.Neg),
            UnaryPrimitive u => (FusedStepKind.Unary, (int)u.Op),
            _ => ((FusedStepKind)255, -1),
        };
        return op >= 0;
    }

    /// <summary>Operand <paramref name="i"/> viewed in the output's shape (reshape away size-1 axes, transpose, broadcast).</summary>
    private Tracer View(GraphBuilder b, Tracer x, int i)
    {
        var m = Maps[i];
        var kept = Enumerable.Range(0, x.Rank).Where(j => x.Shape[j] != 1).OrderBy(j => m[j]).ToArray();
        var sorted = Enumerable.Range(0, x.Rank).Where(j => x.Shape[j] != 1).ToArray();
        var r = kept.Length == x.Rank ? x : b.Reshape(x, new Shape(sorted.Select(j => x.Shape[j])));
        // Axis k of r is x's axis sorted[k]; order them by their output axis.
        var perm = kept.Select(j => Array.IndexOf(sorted, j)).ToArray();
        if (perm.Where((p, k) => p != k).Any()) r = b.Transpose(r, perm);
        return r.Shape == Output.Shape ? r : b.BroadcastInDim(r, Output.Shape, kept.Select(j => m[j]).ToArray());
    }

    /// <summary>Re-emits the unfused operations: the primal of every step, and (with tangents) each step's JVP.</summary>
    private (Tracer Primal, Tracer? Tangent) Unfuse(GraphBuilder b, Tracer[] args, Tracer?[]? tangents)
    {
        var lp = args.Select((x, i) => View(b, x, i)).ToArray();
        var lt = tangents?.Select((t, i) => t is null ? null : View(b, t, i)).ToArray();
        var sp = new Tracer[Steps.Length];
        var st = new Tracer?[Steps.Length];
        Tracer P(FusedArg a) => a.Kind switch
        {
            FusedArgKind.Leaf => lp[a.Index],
            FusedArgKind.Step => sp[a.Index],
            _ => b.Constant(Tensor.Scalar(a.Value, Output.DType).BroadcastTo(Output.Shape)),
        };
        Tracer? T(FusedArg a) => a.Kind switch { FusedArgKind.Leaf => lt?[a.Index], FusedArgKind.Step => st[a.Index], _ => null };
        for (int k = 0; k < Steps.Length; k++)
        {
            var s = Steps[k];
            var prim = PrimitiveOf(s);
            var ps = s.Kind == FusedStepKind.Unary ? new[] { P(s.A) } : new[] { P(s.A), P(s.B) };
            sp[k] = b.Emit(prim, ps);
            if (lt is null) continue;
            var ts = s.Kind == FusedStepKind.Unary ? new[] { T(s.A) } : new[] { T(s.A), T(s.B) };
            st[k] = ts.All(t => t is null) ? null : prim.Jvp(b, ps, ts, sp[k]);
        }
        return (sp[^1], st[^1]);
    }

    internal override Tracer? Jvp(GraphBuilder b, Tracer[] primals, Tracer?[] tangents, Tracer output) =>
        Unfuse(b, primals, tangents).Tangent;

    internal override bool HasBatchingRule => true;

    /// <summary>The batch axis becomes a new leading output axis; unbatched operands broadcast along it.</summary>
    internal override (Tracer Out, int? Dim) Batch(GraphBuilder b, Tracer[] args, int?[] dims)
    {
        int n = Transforms.BatchingUtil.Size(args, dims);
        var maps = Maps.Select((m, i) =>
        {
            var shifted = m.Select(a => a < 0 ? -1 : a + 1).ToList();
            if (dims[i] is { } d) shifted.Insert(d, args[i].Shape[d] == 1 ? -1 : 0);
            return shifted.ToArray();
        }).ToArray();
        var output = new TensorType(new Shape(new[] { n }.Concat(Output.Shape)), Output.DType);
        return (b.Emit(new FusedElementwisePrimitive(output, maps, Steps, SourceFlops * n), args), 0);
    }
}
