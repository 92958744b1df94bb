// Compiled only when NtCluster=false (the default of a Native AOT publish): Orleans is not AOT/trim-compatible, so
// the native nt leaves out src/Cluster. These stand-ins keep the same options and commands; using them is one
// clear user error instead of a missing option. See NeuralTangents.Cli.csproj and perf/README.md ("Native AOT").
using System.CommandLine;
using NeuralTangents.Cli;

namespace NeuralTangents.Cluster.Hosting
{
    /// <summary>Stand-in for the cluster address of the full build.</summary>
    internal sealed class ClusterAddress
    {
        public const string DefaultClusterId = "nt";
    }
}

namespace NeuralTangents.Cluster.Tiles
{
    /// <summary>Stand-in for the full build's cluster job (never constructed: <see cref="ClusterKernelRun.Read"/> refuses first).</summary>
    internal sealed record KernelRequest(string NetSpec, Params Parameters, Tensor X1, Tensor? X2, IReadOnlyList<KernelKind> Get,
        int[] TraceAxes, int[] DiagonalAxes, int? VmapAxis, NtkImplementation Implementation, KernelOptions Options);
}

namespace NeuralTangents.Cli
{
    using NeuralTangents.Cluster.Hosting;
    using NeuralTangents.Cluster.Tiles;

    internal static class NoCluster
    {
        public static NotSupportedException Error(string option) => new(
            $"{option}: this nt is the native (AOT) build, which leaves out the Orleans cluster (Orleans is not AOT-compatible); " +
            "use the .NET tool ('dotnet tool install NeuralTangents.Cli') or 'dotnet nt.dll' for cluster runs");
    }

    internal static class ClusterKernelRun
    {
        public static ClusterAddress? Read(string? cluster, string clusterId, string? cert, string? key, string? ca) =>
            cluster is null && cert is null && key is null && ca is null ? null : throw NoCluster.Error(cluster is null ? "--tls-*" : "--cluster");

        public static int Run(ClusterAddress address, KernelRequest request, string outPath, bool resume, CancellationTokenSource cts,
            ProgressLine progress, TextWriter stdout, TextWriter stderr) => throw NoCluster.Error("--cluster");
    }

    internal static class WorkerCommand
    {
        public static Command Create(TextWriter stdout, TextWriter stderr)
        {
            var cmd = new Command("worker", "Not in the native (AOT) build: start workers with the .NET tool's nt.");
            cmd.SetAction(new Func<ParseResult, int>(_ => throw NoCluster.Error("nt worker")));
            return cmd;
        }

        internal static (Option<string?> Cert, Option<string?> Key, Option<string?> Ca) TlsOptions() => (
            new Option<string?>("--tls-cert") { Description = "PEM certificate of this node (cluster runs only; not in the native build)." },
            new Option<string?>("--tls-key") { Description = "PEM private key (cluster runs only; not in the native build)." },
            new Option<string?>("--tls-ca") { Description = "PEM CA certificate (cluster runs only; not in the native build)." });
    }
}
