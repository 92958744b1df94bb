using NeuralTangents.Cli;

namespace NeuralTangents.Tests.Cli;

/// <summary>
/// Malformed and hostile inputs through the CLI entry point, in process (issue 17). For each: exit code 2, stderr
/// ends with exactly one <c>nt: error:</c> line naming the offending argument (at most one progress line before
/// it), no stack trace, and the sentinel output files (<see cref="HostileInputFixture.Sentinels"/>) untouched with
/// no temporary file left beside them. <c>@name</c> stands for a file of the fixture's folder.
/// </summary>
public sealed class HostileInputTests(HostileInputFixture fx) : IClassFixture<HostileInputFixture>
{
    private const string N = HostileInputFixture.Net;

    private static string[] K(params string[] extra) => ["kernel", "--net", N, "--seed", "0", "--x1", "@x.npy", .. extra];
    private static string[] KOut(params string[] extra) => [.. K(extra), "--out", "@k.npy"];
    private static string[] Vp(params string[] extra) => ["ntk-vp", "--net", N, "--seed", "0", "--x1", "@x.npy", .. extra];
    private static string[] VpOut(params string[] extra) => [.. Vp(extra), "--cotangents", "@v.npy", "--out", "@r.npy"];
    private static string[] Init(params string[] extra) => ["init", "--net", N, "--input-shape", "3,5", .. extra];
    private static string[] Taylor(params string[] extra) => WithDefaults(["taylor"], extra, ("--widths", "4"), ("--steps", "1"), ("--n-train", "4"), ("--n-eval", "4"));
    private static string[] Demo(params string[] extra) => WithDefaults(["demo"], extra, ("--n-train", "8"), ("--n-test", "4"));

    /// <summary>The command, <paramref name="extra"/>, then each default option that <paramref name="extra"/> does not set (small, fast runs).</summary>
    private static string[] WithDefaults(string[] command, string[] extra, params (string Option, string Value)[] defaults) =>
        [.. command, .. extra, .. defaults.Where(o => !extra.Contains(o.Option)).SelectMany(o => new[] { o.Option, o.Value })];
    private static string[] Info(params string[] extra) => ["info", "--net", N, "--input-shape", "3,5", .. extra];

    /// <summary>(case name, arguments, a substring stderr must contain — the offending argument and what is wrong).</summary>
    public static TheoryData<string, string[], string> Cases()
    {
        var d = new TheoryData<string, string[], string>();
        void Add(string name, string[] args, string expected) => d.Add(name, args, expected);

        // ---- kernel: required options and parameter source
        Add("kernel no --net", ["kernel", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "--net");
        Add("kernel no --x1", ["kernel", "--net", N, "--seed", "0", "--out", "@k.npy"], "--x1");
        Add("kernel no --out", K(), "--out");
        Add("kernel neither params nor seed", ["kernel", "--net", N, "--x1", "@x.npy", "--out", "@k.npy"], "--params FILE or --seed N");
        Add("kernel params and seed", KOut("--params", "@p.npz"), "--params FILE or --seed N, not both");
        Add("kernel seed text", ["kernel", "--net", N, "--seed", "abc", "--x1", "@x.npy", "--out", "@k.npy"], "'abc' for option '--seed' as an integer");
        Add("kernel seed too large", ["kernel", "--net", N, "--seed", "99999999999", "--x1", "@x.npy", "--out", "@k.npy"], "'99999999999' for option '--seed' as an integer from -2147483648 to 2147483647");
        Add("kernel seed fraction", ["kernel", "--net", N, "--seed", "1.5", "--x1", "@x.npy", "--out", "@k.npy"], "'1.5' for option '--seed'");
        Add("kernel seed empty", ["kernel", "--net", N, "--seed", "", "--x1", "@x.npy", "--out", "@k.npy"], "--seed");
        Add("kernel unknown option", KOut("--frobnicate", "1"), "--frobnicate");
        Add("kernel explain with value", KOut("--explain", "yes"), "'yes'");
        Add("kernel x1 twice", KOut("--x1", "@x2.npy"), "--x1");

        // ---- kernel: network spec
        Add("net empty", ["kernel", "--net", "", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "net spec");
        Add("net unclosed", ["kernel", "--net", "Dense(", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "net spec");
        Add("net unknown layer", ["kernel", "--net", "Dense(4),Rleu", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "unknown layer 'Rleu'");
        Add("net zero width", ["kernel", "--net", "Dense(0)", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "out_dim must be positive");
        Add("net negative width", ["kernel", "--net", "Dense(-3)", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "Dense");
        Add("net negative std", ["kernel", "--net", "Dense(4,W_std=-1)", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "W_std");
        Add("net text width", ["kernel", "--net", "Dense(abc)", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "net spec");
        Add("net unknown keyword", ["kernel", "--net", "Dense(4,foo=1)", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "foo");
        Add("net double comma", ["kernel", "--net", "Dense(4),,Relu", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "net spec");
        Add("net conv on vectors", ["kernel", "--net", "Conv(4,(3,3))", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "Conv: a 2-D filter needs inputs of rank 4");
        Add("net huge parameter", ["kernel", "--net", "Dense(500000000)", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"],
            "parameter 0.W of Dense(500000000) of shape (5, 500000000) would have 2,500,000,000 elements, more than the 2,147,483,591 one tensor can hold");
        Add("net huge width overflows int", ["kernel", "--net", "Dense(99999999999)", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "net spec");
        Add("net filter larger than input", ["kernel", "--net", "Conv(2,(9,9)),Flatten,Dense(2)", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "Conv");
        Add("net pool bad window", ["kernel", "--net", "AvgPool((0,2))", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"], "AvgPool");

        // ---- kernel: --x1 / --x2 files
        Add("x1 missing file", ["kernel", "--net", N, "--seed", "0", "--x1", "@missing.npy", "--out", "@k.npy"], "--x1: file '");
        Add("x1 folder", ["kernel", "--net", N, "--seed", "0", "--x1", "@folder.npy", "--out", "@k.npy"], "--x1: '");
        Add("x1 empty path", ["kernel", "--net", N, "--seed", "0", "--x1", "", "--out", "@k.npy"], "--x1");
        Add("x1 text file", ["kernel", "--net", N, "--seed", "0", "--x1", "@text.npy", "--out", "@k.npy"], "--x1: ");
        Add("x1 empty file", ["kernel", "--net", N, "--seed", "0", "--x1", "@empty.npy", "--out", "@k.npy"], "not a .npy file");
        Add("x1 npz given", ["kernel", "--net", N, "--seed", "0", "--x1", "@p.npz", "--out", "@k.npy"], "--x1: ");
        Add("x1 truncated", ["kernel", "--net", N, "--seed", "0", "--x1", "@trunc.npy", "--out", "@k.npy"], "--x1: ");
        Add("x1 more data than header", ["kernel", "--net", N, "--seed", "0", "--x1", "@extra.npy", "--out", "@k.npy"], "16 bytes follow the data of shape (3, 5)");
        Add("x1 fortran order", ["kernel", "--net", N, "--seed", "0", "--x1", "@fortran.npy", "--out", "@k.npy"], "--x1: ");
        Add("x1 integer dtype", ["kernel", "--net", N, "--seed", "0", "--x1", "@int.npy", "--out", "@k.npy"], "'<i8' is not supported");
        Add("x1 big endian", ["kernel", "--net", N, "--seed", "0", "--x1", "@bigend.npy", "--out", "@k.npy"], "'>f8' is not supported");
        Add("x1 malformed header", ["kernel", "--net", N, "--seed", "0", "--x1", "@badheader.npy", "--out", "@k.npy"], "malformed npy header");
        Add("x1 header keys", ["kernel", "--net", N, "--seed", "0", "--x1", "@nokeys.npy", "--out", "@k.npy"], "exactly the keys");
        Add("x1 header huge shape", ["kernel", "--net", N, "--seed", "0", "--x1", "@huge.npy", "--out", "@k.npy"], "more elements than a .NET array can hold");
        Add("x1 header negative size", ["kernel", "--net", N, "--seed", "0", "--x1", "@negshape.npy", "--out", "@k.npy"], "--x1: ");
        Add("x1 header float size", ["kernel", "--net", N, "--seed", "0", "--x1", "@floatshape.npy", "--out", "@k.npy"], "--x1: ");
        Add("x1 unknown version", ["kernel", "--net", N, "--seed", "0", "--x1", "@version9.npy", "--out", "@k.npy"], "version 9.0");
        Add("x1 nan", ["kernel", "--net", N, "--seed", "0", "--x1", "@xnan.npy", "--out", "@k.npy"], "has nan at index [1, 2]");
        Add("x1 inf", ["kernel", "--net", N, "--seed", "0", "--x1", "@xinf.npy", "--out", "@k.npy"], "has inf at index [1, 2]");
        Add("x1 -inf", ["kernel", "--net", N, "--seed", "0", "--x1", "@xneginf.npy", "--out", "@k.npy"], "has -inf at index [1, 2]");
        Add("x1 nan with explain", ["kernel", "--net", N, "--seed", "0", "--x1", "@xnan.npy", "--explain", "--out", "@k.npy"], "--x1");
        Add("x1 scalar", ["kernel", "--net", N, "--seed", "0", "--x1", "@xscalar.npy", "--out", "@k.npy"], "expected an array with the batch axis first, got a scalar");
        Add("x1 nan with params", ["kernel", "--net", N, "--params", "@p.npz", "--x1", "@xnan.npy", "--out", "@k.npy"], "--x1");
        Add("x2 nan", KOut("--x2", "@x2nan.npy"), "--x2 ");
        Add("x2 missing", KOut("--x2", "@missing.npy"), "--x2: file '");
        Add("x2 folder", KOut("--x2", "@folder.npy"), "--x2: '");
        Add("x2 other features", KOut("--x2", "@x6.npy"), "x2");
        Add("x2 truncated", KOut("--x2", "@trunc.npy"), "--x2: ");
        Add("x2 scalar", KOut("--x2", "@xscalar.npy"), "--x2 ");
        Add("x2 integer", KOut("--x2", "@int.npy"), "--x2: ");

        // ---- kernel: --get, axes
        Add("get empty", KOut("--get", ""), "--get");
        Add("get unknown", KOut("--get", "foo"), "unknown kernel 'foo'");
        Add("get repeated", KOut("--get", "ntk,ntk"), "--get: a kernel is repeated");
        Add("get two kernels to npy", KOut("--get", "ntk,nngp"), "need an .npz file");
        Add("get trailing unknown", KOut("--get", "ntk,nngp,lin"), "unknown kernel 'lin'");
        Add("trace axes text", KOut("--trace-axes", "a"), "--trace-axes: 'a' is not an integer");
        Add("trace axes out of range", KOut("--trace-axes", "5"), "axis 5");
        Add("trace axes too negative", KOut("--trace-axes", "-3"), "axis -3");
        Add("trace axes float", KOut("--trace-axes", "0.5"), "--trace-axes: '0.5' is not an integer");
        Add("trace axes overflow", KOut("--trace-axes", "99999999999"), "--trace-axes");
        Add("diagonal axes text", KOut("--diagonal-axes", "x"), "--diagonal-axes: 'x' is not an integer");
        Add("diagonal axes out of range", KOut("--diagonal-axes", "7"), "axis 7");
        Add("trace and diagonal overlap", KOut("--diagonal-axes", "-1"), "--trace-axes (-1) and --diagonal-axes (-1) must not overlap; for outputs of rank 2 both contain axis 1");
        Add("diagonal batch with other x2", KOut("--x2", "@x2.npy", "--diagonal-axes", "0", "--trace-axes", ""), "diagonal");
        Add("trace axes on missing axis of x2", KOut("--x2", "@x2.npy", "--trace-axes", "0", "--diagonal-axes", ""), "trace");
        Add("flatten on scalar", ["kernel", "--net", "Flatten,Dense(2)", "--seed", "0", "--x1", "@xscalar.npy", "--out", "@k.npy"], "--x1 ");

        // ---- kernel: --vmap-axes, --implementation, --dtype, --device
        Add("vmap axes text", KOut("--vmap-axes", "x"), "--vmap-axes: expected an integer axis or 'none', got 'x'");
        Add("vmap axes fraction", KOut("--vmap-axes", "0.5"), "--vmap-axes: expected an integer axis");
        Add("vmap axes out of range", KOut("--vmap-axes", "5"), "--vmap-axes: axis 5 is out of range");
        Add("vmap axes too negative", KOut("--vmap-axes", "-3"), "--vmap-axes: axis -3 is out of range");
        Add("vmap axes not the batch axis", KOut("--vmap-axes", "1"), "--vmap-axes: f cannot be applied to one example of x1");
        Add("vmap axes not the batch axis (sd)", KOut("--vmap-axes", "1", "--implementation", "structured-derivatives"), "--vmap-axes: ");
        Add("vmap axes not the batch axis (explain)", KOut("--vmap-axes", "-1", "--explain"), "--vmap-axes: ");
        Add("vmap axes list", KOut("--vmap-axes", "0,1"), "--vmap-axes");
        Add("info input shape text", ["info", "--net", N, "--input-shape", "3,abc"], "--input-shape: expected comma-separated positive sizes such as 20,32,32,3, got \"3,abc\"");
        Add("x2 of another rank", KOut("--x2", "@xvector.npy"), "--x2: expected examples with features, shape (N, …) with the batch on axis 0, got shape (5,)");
        // A 1-D x1 is the batch axis alone: the input is at fault, not --vmap-axes (new-user trial).
        Add("x1 batch axis only", ["kernel", "--net", N, "--seed", "0", "--x1", "@xvector.npy", "--out", "@k.npy"],
            "--x1: expected examples with features, shape (N, …) with the batch on axis 0, got shape (5,)");
        Add("implementation unknown", KOut("--implementation", "fast"), "--implementation: Argument 'fast' not recognized");
        Add("implementation number", KOut("--implementation", "3"), "--implementation");
        Add("implementation empty", KOut("--implementation", ""), "--implementation");
        Add("dtype float16", KOut("--dtype", "float16"), "--dtype: Argument 'float16' not recognized");
        Add("dtype empty", KOut("--dtype", ""), "--dtype");
        Add("dtype int", KOut("--dtype", "int64"), "--dtype");
        Add("device tpu", KOut("--device", "tpu"), "--device: expected cpu, cuda or cuda:N, got 'tpu'");
        Add("device cuda index text", KOut("--device", "cuda:x"), "--device");
        Add("device negative", KOut("--device", "cuda:-1"), "--device");
        Add("device empty", KOut("--device", ""), "--device");

        // ---- kernel: --out
        Add("out txt", K("--out", "@k.txt"), "--out: expected a .npy or .npz file, got '");
        Add("out no extension", K("--out", "@k"), "--out: expected a .npy or .npz file");
        Add("out only extension", K("--out", "@.npy"), "--out: '");
        Add("out folder named .npy", K("--out", "@folder.npy"), "is a folder");
        Add("out folder named .npz", K("--out", "@folder.npz", "--get", "ntk,nngp"), "is a folder");
        Add("out missing folder", K("--out", "@nope/k.npy"), "--out: folder '");
        Add("out empty", K("--out", ""), "--out");
        Add("out csv", K("--out", "@k.csv"), "--out");
        Add("out npy.gz", K("--out", "@k.npy.gz"), "--out");

        // ---- kernel: --params
        Add("params missing", ["kernel", "--net", N, "--params", "@missing.npz", "--x1", "@x.npy", "--out", "@k.npy"], "--params: file '");
        Add("params folder", ["kernel", "--net", N, "--params", "@folder.npz", "--x1", "@x.npy", "--out", "@k.npy"], "--params: '");
        Add("params not zip", ["kernel", "--net", N, "--params", "@notzip.npz", "--x1", "@x.npy", "--out", "@k.npy"], "not a valid .npz");
        Add("params npy given", ["kernel", "--net", N, "--params", "@x.npy", "--x1", "@x.npy", "--out", "@k.npy"], "--params: ");
        Add("params other net", ["kernel", "--net", N, "--params", "@pother.npz", "--x1", "@x.npy", "--out", "@k.npy"], "'2.W' has shape (4, 2) but the net expects (4, 3)");
        Add("params missing array", ["kernel", "--net", N, "--params", "@pmissing.npz", "--x1", "@x.npy", "--out", "@k.npy"], "--params ");
        Add("params extra array", ["kernel", "--net", N, "--params", "@pextra.npz", "--x1", "@x.npy", "--out", "@k.npy"], "9.W");
        Add("params nan", ["kernel", "--net", N, "--params", "@pnan.npz", "--x1", "@x.npy", "--out", "@k.npy"], "array '2.W' has nan at index [1, 2]");
        Add("params entry not npy", ["kernel", "--net", N, "--params", "@pnotnpy.npz", "--x1", "@x.npy", "--out", "@k.npy"], "'0.W.txt' is not a .npy array");
        Add("params empty path", ["kernel", "--net", N, "--params", "", "--x1", "@x.npy", "--out", "@k.npy"], "--params");
        Add("params for other x1 features", ["kernel", "--net", N, "--params", "@p.npz", "--x1", "@x6.npy", "--out", "@k.npy"], "--params ");

        // ---- kernel: sizes
        Add("kernel too large for one tensor", ["kernel", "--net", "Dense(50)", "--seed", "0", "--x1", "@xlong.npy", "--trace-axes", "", "--out", "@k.npz"],
            "the kernel of shape (50000, 50000, 50, 50) would have 6,250,000,000,000 elements");
        Add("kernel too large for the disk", ["kernel", "--net", "Dense(50)", "--seed", "0", "--x1", "@xlong.npy", "--trace-axes", "", "--out", "@k.npy"],
            "k.npy.partial: the kernel needs 45.5 TiB on disk but only");
        // JC chunks its Jacobian by parameter leaves and trace-axis rows; only a leaf's Jacobian over rows that cannot be
        // split (no trace axis: here the outputs are a diagonal axis) is refused, before any work.
        Add("jacobian too large (jc, no vmap)", ["kernel", "--net", "Dense(20000)", "--seed", "0", "--x1", "@x.npy", "--implementation", "jacobian-contraction", "--vmap-axes", "none", "--trace-axes", "", "--diagonal-axes", "-1", "--out", "@k.npy"],
            "the Jacobian of f(x1) for parameter '0.W' (60000 output rows × 100000 parameters) of shape (60000, 100000) would have 6,000,000,000 elements");
        Add("jacobian too large (jc, explain)", ["kernel", "--net", "Dense(20000)", "--seed", "0", "--x1", "@x.npy", "--implementation", "jacobian-contraction", "--trace-axes", "", "--diagonal-axes", "-1", "--explain", "--out", "@k.npy"],
            "the NTK (JacobianContraction) needs about");

        Add("no implementation can run (explain)", ["kernel", "--net", "Dense(2000000)", "--seed", "0", "--x1", "@x1feature.npy", "--explain", "--out", "@k.npy"],
            "the NTK cannot be computed by any implementation (");
        Add("no implementation can run", ["kernel", "--net", "Dense(2000000)", "--seed", "0", "--x1", "@x1feature.npy", "--vmap-axes", "none", "--out", "@k.npy"],
            "needs about 523.9 TiB computed whole but the memory budget is");

        // ---- ntk-vp
        Add("vp no cotangents", [.. Vp(), "--out", "@r.npy"], "--cotangents");
        Add("vp no out", [.. Vp(), "--cotangents", "@v.npy"], "--out");
        Add("vp cotangents missing", [.. Vp(), "--cotangents", "@missing.npy", "--out", "@r.npy"], "--cotangents: file '");
        Add("vp cotangents folder", [.. Vp(), "--cotangents", "@folder.npy", "--out", "@r.npy"], "--cotangents: '");
        Add("vp cotangents nan", [.. Vp(), "--cotangents", "@vnan.npy", "--out", "@r.npy"], "--cotangents ");
        Add("vp cotangents wrong shape", [.. Vp(), "--cotangents", "@v4.npy", "--out", "@r.npy"], "cotangents must be shaped like f(x2)");
        Add("vp cotangents integer", [.. Vp(), "--cotangents", "@int.npy", "--out", "@r.npy"], "--cotangents: ");
        Add("vp cotangents extra data", [.. Vp(), "--cotangents", "@extra.npy", "--out", "@r.npy"], "--cotangents: ");
        Add("vp cotangents text", [.. Vp(), "--cotangents", "@text.npy", "--out", "@r.npy"], "--cotangents: ");
        Add("vp out npz", [.. Vp(), "--cotangents", "@v.npy", "--out", "@k.npz"], "--out: expected a .npy file, got '");
        Add("vp out txt", [.. Vp(), "--cotangents", "@v.npy", "--out", "@r.txt"], "--out: expected a .npy file");
        Add("vp out folder", [.. Vp(), "--cotangents", "@v.npy", "--out", "@folder.npy"], "is a folder");
        Add("vp out missing folder", [.. Vp(), "--cotangents", "@v.npy", "--out", "@nope/r.npy"], "--out: folder '");
        Add("vp x1 nan", ["ntk-vp", "--net", N, "--seed", "0", "--x1", "@xnan.npy", "--cotangents", "@v.npy", "--out", "@r.npy"], "--x1 ");
        Add("vp x1 missing", ["ntk-vp", "--net", N, "--seed", "0", "--x1", "@missing.npy", "--cotangents", "@v.npy", "--out", "@r.npy"], "--x1: file");
        Add("vp x2 nan", VpOut("--x2", "@x2nan.npy"), "--x2 ");
        Add("vp x2 other features", VpOut("--x2", "@x6.npy"), "x2");
        Add("vp params nan", ["ntk-vp", "--net", N, "--params", "@pnan.npz", "--x1", "@x.npy", "--cotangents", "@v.npy", "--out", "@r.npy"], "--params ");
        Add("vp params and seed", VpOut("--params", "@p.npz"), "not both");
        Add("vp implementation sd", VpOut("--implementation", "structured-derivatives"), "--implementation: ntk-vp");
        Add("vp dtype float16", VpOut("--dtype", "float16"), "--dtype");
        Add("vp seed text", ["ntk-vp", "--net", N, "--seed", "x", "--x1", "@x.npy", "--cotangents", "@v.npy", "--out", "@r.npy"], "--seed");
        Add("vp net bad", ["ntk-vp", "--net", "Dense(4", "--seed", "0", "--x1", "@x.npy", "--cotangents", "@v.npy", "--out", "@r.npy"], "net spec");
        Add("vp device tpu", VpOut("--device", "tpu"), "--device");

        // ---- init
        Add("init out npy", Init("--out", "@k.npy"), "--out: expected a .npz file, got '");
        Add("init out txt", Init("--out", "@p.txt"), "--out: expected a .npz file");
        Add("init out folder", Init("--out", "@folder.npz"), "is a folder");
        Add("init out missing folder", Init("--out", "@nope/p.npz"), "--out: folder '");
        Add("init no out", Init(), "--out");
        Add("init no net", ["init", "--input-shape", "3,5", "--out", "@p_out.npz"], "--net");
        Add("init no input shape", ["init", "--net", N, "--out", "@p_out.npz"], "--input-shape");
        Add("init shape text", ["init", "--net", N, "--input-shape", "3,x", "--out", "@p_out.npz"], "--input-shape: expected comma-separated positive sizes");
        Add("init shape empty", ["init", "--net", N, "--input-shape", "", "--out", "@p_out.npz"], "--input-shape");
        Add("init shape zero", ["init", "--net", N, "--input-shape", "0,5", "--out", "@p_out.npz"], "--input-shape");
        Add("init shape negative", ["init", "--net", N, "--input-shape", "-1,5", "--out", "@p_out.npz"], "--input-shape");
        Add("init shape trailing comma", ["init", "--net", N, "--input-shape", "3,5,", "--out", "@p_out.npz"], "--input-shape");
        Add("init shape too large", ["init", "--net", N, "--input-shape", "3,99999999999", "--out", "@p_out.npz"], "--input-shape");
        Add("init seed text", Init("--seed", "abc", "--out", "@p_out.npz"), "'abc' for option '--seed' as an integer");
        Add("init dtype", Init("--dtype", "float16", "--out", "@p_out.npz"), "--dtype");
        Add("init net bad", ["init", "--net", "Dense(4,", "--input-shape", "3,5", "--out", "@p_out.npz"], "net spec");
        Add("init conv rank", ["init", "--net", "Conv(4,(3,3))", "--input-shape", "3,5", "--out", "@p_out.npz"], "Conv: a 2-D filter needs inputs of rank 4");
        Add("init huge parameter", ["init", "--net", "Dense(500000000)", "--input-shape", "3,5", "--out", "@p_out.npz"], "parameter 0.W of Dense(500000000)");
        Add("init huge conv parameter", ["init", "--net", "Conv(100000,(100,100))", "--input-shape", "1,100,100,3", "--out", "@p_out.npz"], "parameter 0.W of Conv(100000)");

        // ---- taylor
        Add("taylor n-train beyond data", Taylor("--n-train", "100000"), "--n-train 100000: optdigits.tra has only 3823 images");
        Add("taylor n-eval beyond data", Taylor("--n-eval", "100000"), "--n-eval 100000: optdigits.tes has only 1797 images");
        Add("taylor n-train zero", Taylor("--n-train", "0"), "--n-train");
        Add("taylor n-eval negative", Taylor("--n-eval", "-1"), "--n-eval");
        Add("taylor widths empty", Taylor("--widths", ""), "--widths");
        Add("taylor widths zero", Taylor("--widths", "0"), "--widths");
        Add("taylor widths text", Taylor("--widths", "a"), "--widths: 'a' is not an integer");
        Add("taylor steps zero", Taylor("--steps", "0"), "--steps");
        Add("taylor lr zero", Taylor("--lr", "0"), "--lr");
        Add("taylor lr negative", Taylor("--lr", "-1"), "--lr");
        Add("taylor lr nan", Taylor("--lr", "NaN"), "--lr");
        Add("taylor lr infinity", Taylor("--lr", "Infinity"), "--lr");
        Add("taylor lr text", Taylor("--lr", "fast"), "'fast' for option '--lr' as a number");
        Add("taylor activation", Taylor("--activation", "tanh"), "--activation: Argument 'tanh' not recognized");
        Add("taylor seed text", Taylor("--seed", "x"), "--seed");

        // ---- demo
        Add("demo n-train zero", Demo("--n-train", "0"), "--n-train must be positive");
        Add("demo n-test zero", Demo("--n-test", "0"), "--n-test must be positive");
        Add("demo n-train beyond data", Demo("--n-train", "100000"), "--n-train 100000: optdigits.tra has only 3823 images");
        Add("demo n-test beyond data", Demo("--n-test", "100000"), "--n-test 100000: optdigits.tes has only 1797 images");
        Add("demo n-train text", Demo("--n-train", "many"), "--n-train");
        Add("demo ridge negative", Demo("--ridge", "-1"), "--ridge");
        Add("demo ridge nan", Demo("--ridge", "NaN"), "--ridge");
        Add("demo ridge text", Demo("--ridge", "abc"), "'abc' for option '--ridge' as a number");
        Add("demo net wrong output", Demo("--net", "Dense(5)"), "--net must map (N, 8, 8, 1) images to (N, 10) logits");
        Add("demo net bad", Demo("--net", "Dense(10"), "net spec");
        Add("demo dtype", Demo("--dtype", "float16"), "--dtype");
        Add("demo implementation", Demo("--implementation", "fast"), "--implementation");
        Add("demo params missing", Demo("--params", "@missing.npz"), "--params: file '");
        Add("demo params nan", Demo("--params", "@pnan.npz"), "--params ");
        Add("demo vmap axes text", Demo("--vmap-axes", "x"), "--vmap-axes");
        Add("demo device", Demo("--device", "tpu"), "--device");

        // ---- info and the top level
        Add("info shape text", ["info", "--net", N, "--input-shape", "x"], "--input-shape");
        Add("info x2 shape zero", Info("--x2-shape", "0,5"), "--x2-shape");
        Add("info conv on rank-2 inputs", ["info", "--net", "Conv(8,(3,3)),Flatten,Dense(3)", "--input-shape", "3,5"],
            "--input-shape: --net cannot be applied to inputs of shape (3, 5): Conv: a 2-D filter needs inputs of rank 4");
        Add("kernel conv on rank-2 x1", ["kernel", "--net", "Conv(8,(3,3)),Flatten,Dense(3)", "--seed", "0", "--x1", "@x.npy", "--out", "@k.npy"],
            "--x1: --net cannot be applied to inputs of shape");
        Add("info trace axes", Info("--trace-axes", "a"), "--trace-axes");
        Add("info vmap axes", Info("--vmap-axes", "q"), "--vmap-axes");
        Add("info huge input shape", ["info", "--net", "Flatten,Dense(10)", "--input-shape", "1000000,3072"], "--input-shape of shape (1000000, 3072) would have 3,072,000,000 elements");
        Add("info net bad", ["info", "--net", "Dense(", "--input-shape", "3,5"], "net spec");
        Add("info params nan", Info("--params", "@pnan.npz"), "--params ");
        Add("unknown command", ["frobnicate"], "frobnicate");
        Add("misspelt command", ["kernal", "--net", N], "kernal");
        return d;
    }

    private string Resolve(string a) => a.StartsWith('@') ? fx.P(a[1..]) : a;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Refused_with_one_line_naming_the_argument_and_outputs_untouched(string name, string[] args, string expected)
    {
        foreach (var s in HostileInputFixture.Sentinels) File.WriteAllBytes(fx.P(s), HostileInputFixture.SentinelBytes);
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args.Select(Resolve).ToArray(), o, e);
        var err = e.ToString();

        // NT_HOSTILE_DUMP=file lists each case's message (for the issue's report of final messages).
        if (Environment.GetEnvironmentVariable("NT_HOSTILE_DUMP") is { Length: > 0 } dump)
            lock (typeof(HostileInputTests)) File.AppendAllText(dump, $"{name}\t{string.Join(" ", args)}\t{err.Trim().Split('\n')[^1].Replace(fx.Dir, "<dir>")}\n");
        Assert.True(code == 2, $"{name}: exit {code}, stderr: {err}");
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length is 1 or 2, $"{name}: stderr has {lines.Length} lines: {err}");
        Assert.StartsWith("nt: error: ", lines[^1]);
        Assert.Single(lines, l => l.StartsWith("nt: error: ", StringComparison.Ordinal));
        if (lines.Length == 2) Assert.StartsWith("computing ", lines[0]);   // at most the progress line before
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Exception", err);
        Assert.Contains(expected, lines[^1]);
        foreach (var s in HostileInputFixture.Sentinels)
            Assert.True(HostileInputFixture.SentinelBytes.AsSpan().SequenceEqual(File.ReadAllBytes(fx.P(s))), $"{name}: {s} was modified");
        Assert.Empty(Directory.GetFiles(fx.Dir, "*.tmp"));
        foreach (var created in new[] { "k.txt", "k", "p.txt", "r.txt", "k.csv", "k.npy.gz" })
            Assert.False(File.Exists(fx.P(created)), $"{name}: created {created}");
    }

    [Fact]
    public void The_table_has_at_least_150_distinct_cases()
    {
        var cases = Cases().Select(c => (string)c[0]).ToArray();
        Assert.True(cases.Length >= 150, $"{cases.Length} cases");
        Assert.Equal(cases.Length, cases.Distinct().Count());
    }
}

/// <summary>Non-finite values that are not refused: --allow-nonfinite, and results that become NaN/Inf.</summary>
public sealed class NonFiniteWarningTests(HostileInputFixture fx) : IClassFixture<HostileInputFixture>
{
    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args.Select(a => a.StartsWith('@') ? fx.P(a[1..]) : a).ToArray(), o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Allow_nonfinite_computes_and_warns_about_the_nan_kernel()
    {
        var r = Run("kernel", "--net", HostileInputFixture.Net, "--seed", "0", "--x1", "@xnan.npy", "--allow-nonfinite", "--out", "@warn.npy");
        Assert.True(r.Code == 0, r.Err);
        // x1 row 1 has a NaN: row and column 1 of the 3×3 NTK are NaN, 5 values.
        Assert.Contains("nt: warning: the NTK has 5 non-finite values of 9 (first: nan at index [0, 1])", r.Err);
        Assert.True(double.IsNaN(NeuralTangents.Interop.Npy.Read(fx.P("warn.npy")).ToDoubleArray()[1]));
        File.Delete(fx.P("warn.npy"));
    }

    [Fact]
    public void Finite_run_prints_no_warning()
    {
        var r = Run("kernel", "--net", HostileInputFixture.Net, "--seed", "0", "--x1", "@x.npy", "--out", "@fine.npy");
        Assert.True(r.Code == 0, r.Err);
        Assert.DoesNotContain("warning", r.Err);
        File.Delete(fx.P("fine.npy"));
    }

    [Fact]
    public void Taylor_with_a_diverging_learning_rate_warns()
    {
        var r = Run("taylor", "--widths", "4,8", "--steps", "3", "--n-train", "4", "--n-eval", "4", "--lr", "1e30");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("nt: warning: training diverged (the loss grew or became non-finite) at widths 4, 8 with --lr 1E+30", r.Err);
        var ok = Run("taylor", "--widths", "4,8", "--steps", "3", "--n-train", "4", "--n-eval", "4");
        Assert.True(ok.Code == 0, ok.Err);
        Assert.DoesNotContain("warning", ok.Err);
        Assert.Contains("log-log slope", ok.Out);
        Assert.DoesNotContain("log-log slope", r.Out);   // no fit through NaN
    }
}
