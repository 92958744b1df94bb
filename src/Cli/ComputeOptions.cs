using System.CommandLine;
using NeuralTangents.Interop;
using NeuralTangents.Stax;

namespace NeuralTangents.Cli;

/// <summary>
/// The options every compute command (<c>kernel</c>, <c>ntk-vp</c>, <c>info</c>, <c>demo</c>) takes alike:
/// <c>--params</c>/<c>--seed</c>, <c>--dtype</c>, <c>--device</c>, <c>--implementation</c> and <c>--vmap-axes</c>.
/// The CLI's defaults are <c>--vmap-axes 0 --implementation auto</c>, unlike the library's (Neural Tangents'
/// <c>vmap_axes=None</c>, <c>implementation=JACOBIAN_CONTRACTION</c>): every Stax network is independent along the
/// batch axis, so per-example Jacobians give the same kernel at a fraction of the cost.
/// </summary>
internal sealed class ComputeOptions
{
    /// <summary>The CLI's default <c>--vmap-axes</c> (the library's default is none).</summary>
    public const string DefaultVmapAxes = "0";

    /// <summary>The CLI's default <c>--implementation</c> (the library's default is jacobian-contraction).</summary>
    public const string DefaultImplementation = "auto";

    private const string DefaultsNote = " The CLI defaults to '--vmap-axes 0 --implementation auto' (the library keeps Neural Tangents' "
        + "defaults, vmap_axes=None and JACOBIAN_CONTRACTION): every Stax network is independent along the batch axis.";

    public Option<string?> Params { get; } = new("--params") { Description = "Parameters .npz (as written by 'nt init'); or use --seed." };
    public Option<int?> Seed { get; }
    public Option<string?> DType { get; } = new("--dtype") { Description = "Compute in float32 or float64 (default: dtype of the inputs); inputs and params are converted." };
    public Option<string> Device { get; } = new("--device") { Description = "Where dot_general and convolutions run: cpu, cuda (= cuda:0) or cuda:N.", DefaultValueFactory = _ => "cpu" };
    public Option<string> Implementation { get; } = new("--implementation") { Description = "NTK implementation; auto follows the cost model (see 'nt info'). CLI default auto; the library's is jacobian-contraction (Neural Tangents' default).", DefaultValueFactory = _ => DefaultImplementation };
    public Option<string> VmapAxes { get; } = new("--vmap-axes") { Description = "Batch axis of inputs/outputs for per-example Jacobians, or 'none'. CLI default 0 (every Stax network is independent along the batch axis); the library's is none (Neural Tangents' vmap_axes=None).", DefaultValueFactory = _ => DefaultVmapAxes };

    public Option<bool> AllowNonFinite { get; } = new(CliInputs.AllowNonFiniteOption) { Description = "Accept NaN/Inf in the inputs, parameters and cotangents (refused by default: they make the kernel NaN)." };

    private readonly int? _defaultSeed;

    /// <param name="defaultSeed">The seed used when neither --params nor --seed is given; null: one of them is required.</param>
    /// <param name="dtypeDefault">What --help says the default dtype is.</param>
    public ComputeOptions(int? defaultSeed = null, string dtypeDefault = "dtype of the inputs")
    {
        _defaultSeed = defaultSeed;
        Seed = new("--seed")
        {
            Description = defaultSeed is { } d
                ? $"Initialise parameters with this seed instead of --params (default {d})."
                : "Initialise parameters with this seed from the input shape instead of --params.",
        };
        DType.Description = $"Compute in float32 or float64 (default: {dtypeDefault}); inputs and params are converted.";
        DType.AcceptOnlyFromAmong(CliParsing.DTypeNames);
        Implementation.AcceptOnlyFromAmong(CliParsing.ImplementationNames);
    }

    /// <summary>A sentence for a command's description saying why the CLI's defaults differ from the library's.</summary>
    public static string Note => DefaultsNote;

    /// <summary>The options, in help order.</summary>
    public IEnumerable<Option> All => [Params, Seed, DType, Device, Implementation, VmapAxes, AllowNonFinite];

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in All) command.Options.Add(o);
    }

    /// <summary>Reads and validates the values (no file is read): one error naming the option, before any work.</summary>
    public Values Read(ParseResult r)
    {
        var paramsPath = r.GetValue(Params);
        var seed = r.GetValue(Seed);
        if (paramsPath is not null && seed is not null)
            throw new ArgumentException("give either --params FILE or --seed N, not both");
        if (paramsPath is null && seed is null)
            seed = _defaultSeed ?? throw new ArgumentException("give exactly one of --params FILE or --seed N");
        var dtypeText = r.GetValue(DType);
        var implText = r.GetValue(Implementation)!;
        return new Values(paramsPath, seed, dtypeText is null ? null : CliParsing.DType(dtypeText), r.GetValue(Device)!,
            CliParsing.Implementation(implText), implText, CliParsing.VmapAxes(r.GetValue(VmapAxes)!), r.GetValue(AllowNonFinite));
    }

    /// <summary>The parsed shared options.</summary>
    /// <param name="ParamsPath">--params, or null when <paramref name="Seed"/> is used.</param>
    /// <param name="Seed">--seed (or the command's default seed), or null when <paramref name="ParamsPath"/> is used.</param>
    /// <param name="DType">--dtype, or null for the inputs' dtype.</param>
    /// <param name="DeviceText">--device as given (parse with <see cref="Backend"/> just before computing).</param>
    /// <param name="Implementation">--implementation.</param>
    /// <param name="ImplementationText">--implementation as given.</param>
    /// <param name="VmapAxes">--vmap-axes (null: none).</param>
    /// <param name="AllowNonFinite">--allow-nonfinite: skip the NaN/Inf checks of input files.</param>
    public sealed record Values(string? ParamsPath, int? Seed, DType? DType, string DeviceText, NtkImplementation Implementation,
        string ImplementationText, int? VmapAxes, bool AllowNonFinite = false)
    {
        /// <summary>The backend of --device (a user error when CUDA is unavailable).</summary>
        public ComputeBackend Backend() => CliParsing.Backend(DeviceText);

        /// <summary>Parameters for <paramref name="net"/> on inputs of <paramref name="inputShape"/>: drawn from --seed or read from --params
        /// (names, shapes and, unless --allow-nonfinite, finiteness checked). A layer that cannot take inputs of that shape
        /// is reported against <paramref name="inputOption"/>, the option that supplied them (the layer's own message
        /// names the layer, not the option).</summary>
        public Params LoadParams(Layer net, Shape inputShape, DType dtype, string inputOption = "--x1") =>
            OnInputs(() => Seed is { } s ? net.Init(s, inputShape, dtype).Params
                : KernelCommand.LoadParams(net, ParamsPath!, inputShape, dtype, AllowNonFinite), inputShape, inputOption);

        /// <summary>Runs <paramref name="initialise"/>; a layer's shape error becomes one naming <paramref name="inputOption"/>.</summary>
        public static T OnInputs<T>(Func<T> initialise, Shape inputShape, string inputOption)
        {
            try
            {
                return initialise();
            }
            catch (ArgumentException e) when (e.ParamName is null || !e.ParamName.StartsWith("--", StringComparison.Ordinal))
            {
                var msg = e.ParamName is { } p ? e.Message.Replace($" (Parameter '{p}')", "") : e.Message;
                if (msg.StartsWith("--", StringComparison.Ordinal)) throw;   // already names an option (--params …)
                throw new ArgumentException($"{inputOption}: --net cannot be applied to inputs of shape {inputShape}: {msg}", inputOption, e);
            }
        }
    }
}
