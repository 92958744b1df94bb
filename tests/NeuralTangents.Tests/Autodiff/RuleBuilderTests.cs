using NeuralTangents.Autodiff;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Autodiff.Primitives;
using NeuralTangents.Autodiff.Tracing;

namespace NeuralTangents.Tests.Autodiff;

/// <summary>
/// Rules emit through the builder they are given (JVP, transpose, batching): called with a builder other than the
/// one their operands belong to, a rule must never write into the operands' builder. It either emits nothing
/// (a pass-through or zero tangent) or is refused by <see cref="GraphBuilder.Emit"/> ("belongs to another trace").
/// A rule that took its builder from an operand (<c>Lax.*</c>) would silently grow the operands' graph instead.
/// </summary>
public class RuleBuilderTests
{
    /// <summary>Every equation of the harness's cases, their JVP graphs and (linear cases) transpose graphs: every
    /// primitive the library has (<see cref="PrimitiveRuleTests.EveryPrimitiveIsCovered"/>).</summary>
    private static IEnumerable<Equation> Equations()
    {
        foreach (var c in PrimitiveRuleTests.Cases)
        {
            var types = c.Shapes.Select(s => new TensorType(new Shape(s), DType.Float64)).ToArray();
            var g = Ad.Trace(x => new[] { c.F(x) }, types);
            foreach (var e in g.Equations) yield return e;
            foreach (var e in Ad.JvpGraph(g).Equations) yield return e;
            if (c.Linear is null) continue;
            foreach (var e in Ad.TransposeGraph(g, c.Linear, new[] { true }).Equations) yield return e;
        }
    }

    [Fact]
    public void Rules_never_emit_into_their_operands_builder()
    {
        int refused = 0, calls = 0;
        var primitives = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in Equations())
        {
            primitives.Add(e.Primitive.GetType().Name);
            var types = e.Inputs.Select(a => a.Type).ToArray();
            var own = new GraphBuilder();
            var args = types.Select(own.NewInput).ToArray();
            var tangents = types.Select(own.NewInput).ToArray();
            var batched = types.Select(t => own.NewInput(new TensorType(new Shape(t.Shape.Prepend(2)), t.DType)))
                .ToArray();
            var y = own.Emit(e.Primitive, args);
            var ct = own.NewInput(y.Type);
            var last = own.LastEquation;

            void Check(string rule, Action call)
            {
                calls++;
                try { call(); }
                catch (ArgumentException ex) when (ex.Message.Contains("belongs to another trace")) { refused++; }
                // Not linear in that operand.
                catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException) { }
                Assert.True(ReferenceEquals(last, own.LastEquation),
                    $"{e.Primitive.Name}: its {rule} rule emitted into the operands' builder");
            }

            Check("JVP", () => e.Primitive.Jvp(new GraphBuilder(), args, tangents, y));
            var dims = types.Select(_ => (int?)0).ToArray();
            Check("batching", () => e.Primitive.Batch(new GraphBuilder(), batched, dims));
            for (int k = 0; k < args.Length; k++)
            {
                var known = args.Select((a, i) => i == k ? null : (Tracer?)a).ToArray();
                Check("transpose", () => e.Primitive.Transpose(new GraphBuilder(), ct, known, types));
            }
        }
        Assert.Equal(PrimitiveRuleTests.CoveredPrimitives.Order(StringComparer.Ordinal),
            primitives.Order(StringComparer.Ordinal));
        Assert.True(refused > calls / 2, $"only {refused} of {calls} rule calls emitted anything");
    }
}
