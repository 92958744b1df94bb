using NeuralTangents.Autodiff.Interpreters;
using NeuralTangents.Autodiff.Transforms;

namespace NeuralTangents.Taylor;

/// <summary>
/// Builds the graphs of a Taylor expansion in the parameters by nested JVPs along one direction Δ (docs/conventions.md#taylor).
/// The input graph has inputs <c>(θ₁…θ_P, x₁…x_K)</c> and outputs <c>y₁…y_M</c>; built graphs have inputs
/// <c>(θ, x, Δ)</c> with Δ typed like θ.
/// </summary>
internal static class TaylorGraph
{
    /// <summary>
    /// Graph with outputs <c>(g₀ leaves…, g₁ leaves…, …, g_d leaves…)</c> where <c>g₀ = f</c> and
    /// <c>g_{m+1}(θ) = D g_m(θ)[Δ]</c>, so <c>g_m = D^m f(θ)[Δ^m]</c>. Level m+1 is the JVP (tangents for θ only,
    /// Δ held constant) of level m, inlined with the tangent input set to Δ itself; CSE then merges the terms that
    /// every level re-derives (without it the size grows like 3^d, with it polynomially).
    /// </summary>
    public static Graph Derivatives(Graph g, int nParams, int degree, bool cse = true)
    {
        int nIn = g.Inputs.Count, m = g.Outputs.Count;
        var b = new GraphBuilder();
        var ins = g.InputTypes.Select(b.NewInput).ToArray();
        for (int i = 0; i < nParams; i++) b.NewInput(g.Inputs[i].Type);
        var h = Simplify(b.Build(Interpreter.Inline(b, g, ins)), cse);
        var wrtTheta = Masks.First(nIn + nParams, nParams);
        for (int level = 0; level < degree; level++)
        {
            var jvp = Ad.JvpGraph(h, wrtTheta);
            b = new GraphBuilder();
            var all = h.InputTypes.Select(b.NewInput).ToArray();
            var args = all.Concat(all[nIn..(nIn + nParams)]).ToArray();
            var outs = Interpreter.Inline(b, jvp, args);
            int k = h.Outputs.Count;
            // Keep g₀…g_level (the primal outputs) and the tangent of g_level, which is g_{level+1}.
            h = Simplify(b.Build(outs.Take(k).Concat(outs.Skip(2 * k - m).Take(m))), cse);
        }
        return h;
    }

    /// <summary>
    /// Graph with outputs <c>R(0)</c> (one per leaf) of the recursion <c>R(d) = g_d</c>,
    /// <c>R(m) = g_m + R(m+1)/(m+1)</c>, i.e. <c>Σ_{k≤d} D^k f(θ)[Δ^k]/k!</c> in Neural Tangents' order of operations.
    /// </summary>
    public static Graph Expansion(Graph g, int nParams, int degree, bool cse = true)
    {
        var h = Derivatives(g, nParams, degree, cse);
        int m = g.Outputs.Count;
        var b = new GraphBuilder();
        var ins = h.InputTypes.Select(b.NewInput).ToArray();
        var gs = Interpreter.Inline(b, h, ins);
        var r = new Tracer[m];
        for (int j = 0; j < m; j++)
        {
            var acc = gs[degree * m + j];
            for (int level = degree - 1; level >= 0; level--)
                acc = gs[level * m + j] + (level == 0 ? acc : acc / (level + 1));
            r[j] = acc;
        }
        return Simplify(b.Build(r), cse);
    }

    private static Graph Simplify(Graph g, bool cse) => DceTransform.Apply(cse ? CseTransform.Apply(g) : g);
}
