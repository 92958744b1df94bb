using System.Diagnostics;
using NeuralTangents.Autodiff.Ir;
using NeuralTangents.Kernels;
using NeuralTangents.Tensors;
using static NeuralTangents.Stax.Stax;

namespace NeuralTangents.Perf;

/// <summary><c>jc-probe N CHUNK</c>: per-equation times of the per-example Jacobian graph of the digits FCN (float64).</summary>
internal static class JcProbe
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 10, chunk = args.Length > 1 ? int.Parse(args[1]) : 5;
        var net = Serial(Dense(512, wStd: 1.5, bStd: 0.05), Relu(), Dense(512, wStd: 1.5, bStd: 0.05), Relu(), Dense(10, wStd: 1.5, bStd: 0.05));
        var rng = new Random(0);
        var x = Tensor.RandomNormal(rng, new Shape(n, 64), DType.Float64);
        var p = net.Init(0, x.Shape, DType.Float64).Params;
        var f = new TracedApply(net.Apply);
        var xs = new[] { x };
        var b = Batching.Resolve(0, xs, f.OutputTypes(p, xs.Select(TensorType.Of).ToArray()))!;
        var g1 = f.OutputGraph(f.GraphFor(p, b.ExampleTypes(xs)), 0);
        var plan = f.PlanFor(g1, p.Count);
        var axes = Enumerable.Range(0, p.Count).Select(_ => (int?)null).Concat(b.StackAxes).ToArray();
        var field = typeof(NeuralTangents.Autodiff.JacobianPlan).GetMethod("Batched", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var graph = (Graph)field.Invoke(plan, new object?[] { plan.OutputType.Shape.Size, chunk, axes })!;
        var inputs = TracedApply.Inputs(p, b.Stack(xs, 0, chunk)).Append(StandardBasis.Of(plan.OutputType.Shape, plan.OutputType.DType, 0, plan.OutputType.Shape.Size)).ToArray();
        Console.WriteLine($"peak estimate {GraphCost.PeakBytes(graph) / 1e6:F1} MB, flops {GraphCost.Flops(graph) / 1e9:F2} G");
        for (int rep = 0; rep < 2; rep++)
        {
            var env = new Dictionary<int, Tensor>();
            for (int i = 0; i < inputs.Length; i++) env[graph.Inputs[i].Id] = inputs[i];
            var total = Stopwatch.StartNew();
            foreach (var e in graph.Equations)
            {
                var args2 = e.Inputs.Select(a => a is Literal l ? l.Value : env[((Var)a).Id]).ToArray();
                var sw = Stopwatch.StartNew();
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                var r = e.Primitive.Evaluate(args2);
                double ms = sw.Elapsed.TotalMilliseconds;
                double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds;
                env[e.Output.Id] = r;
                if (rep == 1 && (ms > 5 || args.Contains("--all"))) Console.WriteLine($"{ms,9:F1} ms {cpu,9:F1} cpu-ms {e.Primitive.GetType().Name} {e} ");
            }
            Console.WriteLine($"total {total.Elapsed.TotalSeconds:F2} s");
        }
        return 0;
    }
}
