using System.Diagnostics;
using System.Globalization;
using NeuralTangents.Stax;

namespace NeuralTangents.Cli;

/// <summary>
/// Parses a network description mirroring Stax calls, e.g.
/// <c>Conv(32,(3,3),padding=SAME),Relu,Flatten,Dense(10,W_std=1.5)</c>, into <c>Stax.Serial(...)</c>. Layers nest
/// through the combinators: <c>FanOut(2),Parallel(Serial(Relu,Dense(8)),Identity),FanInSum</c>, <c>Repeat(Dense(8),3)</c>.
/// Arguments bind as in Python: positional in Stax order, then keywords (case-insensitive names); <c>Relu</c> and
/// <c>Relu()</c> are the same. Every error is a <see cref="FormatException"/> whose message gives the 1-based column.
/// </summary>
internal static class NetSpec
{
    private enum Kind { Int, Float, FloatOrNone, IntTuple, IntTupleOrNone, Padding, Bool, FloatTuple, IntOrIntTuple, IntOrNone, IntPair,
        Parameterization, Layer, Layers, AttentionMechanism, PositionalEmbedding, Mode, NoneOnly }

    private sealed record Param(string Name, Kind Kind, bool Required = false);

    private sealed record LayerDef(string Name, Param[] Params, Func<IReadOnlyDictionary<string, object?>, Layer> Build);

    private static Param P(string name, Kind kind, bool required = false) => new(name, kind, required);

    private static Param[] Abc => [P("a", Kind.Float), P("b", Kind.Float), P("c", Kind.Float)];

    private static readonly LayerDef[] Layers =
    [
        new("Dense", [P("out_dim", Kind.Int, true), P("W_std", Kind.Float), P("b_std", Kind.FloatOrNone), P("parameterization", Kind.Parameterization), P("s", Kind.IntPair)],
            a => Stax.Stax.Dense((int)a["out_dim"]!, Get(a, "W_std", 1.0), (double?)Get<object?>(a, "b_std", null),
                Get(a, "parameterization", Parameterization.Ntk), Get<(int, int)?>(a, "s", null))),
        new("Conv", [P("out_chan", Kind.Int, true), P("filter_shape", Kind.IntTuple, true), P("strides", Kind.IntTupleOrNone),
                P("padding", Kind.Padding), P("W_std", Kind.Float), P("b_std", Kind.FloatOrNone), P("dimension_numbers", Kind.NoneOnly),
                P("parameterization", Kind.Parameterization), P("s", Kind.IntPair), P("rhs_dilation", Kind.IntTupleOrNone), P("feature_group_count", Kind.Int)],
            a => Stax.Stax.Conv((int)a["out_chan"]!, (int[])a["filter_shape"]!, (int[]?)Get<object?>(a, "strides", null),
                Get(a, "padding", Padding.Valid), Get(a, "W_std", 1.0), (double?)Get<object?>(a, "b_std", null),
                Get(a, "parameterization", Parameterization.Ntk), Get<(int, int)?>(a, "s", null), (int[]?)Get<object?>(a, "rhs_dilation", null), Get(a, "feature_group_count", 1))),
        new("ConvTranspose", [P("out_chan", Kind.Int, true), P("filter_shape", Kind.IntTuple, true), P("strides", Kind.IntTupleOrNone),
                P("padding", Kind.Padding), P("W_std", Kind.Float), P("b_std", Kind.FloatOrNone), P("dimension_numbers", Kind.NoneOnly),
                P("parameterization", Kind.Parameterization), P("s", Kind.IntPair)],
            a => Stax.Stax.ConvTranspose((int)a["out_chan"]!, (int[])a["filter_shape"]!, (int[]?)Get<object?>(a, "strides", null),
                Get(a, "padding", Padding.Valid), Get(a, "W_std", 1.0), (double?)Get<object?>(a, "b_std", null),
                Get(a, "parameterization", Parameterization.Ntk), Get<(int, int)?>(a, "s", null))),
        new("AvgPool", [P("window_shape", Kind.IntTuple, true), P("strides", Kind.IntTupleOrNone), P("padding", Kind.Padding), P("normalize_edges", Kind.Bool)],
            a => Stax.Stax.AvgPool((int[])a["window_shape"]!, (int[]?)Get<object?>(a, "strides", null), Get(a, "padding", Padding.Valid), Get(a, "normalize_edges", false))),
        new("SumPool", [P("window_shape", Kind.IntTuple, true), P("strides", Kind.IntTupleOrNone), P("padding", Kind.Padding)],
            a => Stax.Stax.SumPool((int[])a["window_shape"]!, (int[]?)Get<object?>(a, "strides", null), Get(a, "padding", Padding.Valid))),
        new("Relu", [], _ => Stax.Stax.Relu()),
        new("Erf", Abc, a => Stax.Stax.Erf(Get(a, "a", 1.0), Get(a, "b", 1.0), Get(a, "c", 0.0))),
        new("Sin", Abc, a => Stax.Stax.Sin(Get(a, "a", 1.0), Get(a, "b", 1.0), Get(a, "c", 0.0))),
        new("Flatten", [], _ => Stax.Stax.Flatten()),
        new("GlobalAvgPool", [], _ => Stax.Stax.GlobalAvgPool()),
        new("Identity", [], _ => Stax.Stax.Identity()),
        new("GlobalSumPool", [], _ => Stax.Stax.GlobalSumPool()),
        new("Cos", Abc, a => Stax.Stax.Cos(Get(a, "a", 1.0), Get(a, "b", 1.0), Get(a, "c", 0.0))),
        new("ABRelu", [P("a", Kind.Float, true), P("b", Kind.Float, true)], a => Stax.Stax.ABRelu((double)a["a"]!, (double)a["b"]!)),
        new("LeakyRelu", [P("alpha", Kind.Float, true)], a => Stax.Stax.LeakyRelu((double)a["alpha"]!)),
        new("Abs", [], _ => Stax.Stax.Abs()),
        new("Tanh", [], _ => Stax.Stax.Tanh()),
        new("Sigmoid_like", [], _ => Stax.Stax.Sigmoid_like()),
        new("Gelu", [P("approximate", Kind.Bool)], a => Stax.Stax.Gelu(Get(a, "approximate", false))),
        new("Sign", [], _ => Stax.Stax.Sign()),
        new("Exp", [P("a", Kind.Float), P("b", Kind.Float)], a => Stax.Stax.Exp(Get(a, "a", 1.0), Get(a, "b", 1.0))),
        new("Gaussian", [P("a", Kind.Float), P("b", Kind.Float)], a => Stax.Stax.Gaussian(Get(a, "a", 1.0), Get(a, "b", -1.0))),
        new("Rbf", [P("gamma", Kind.Float)], a => Stax.Stax.Rbf(Get(a, "gamma", 1.0))),
        new("Monomial", [P("degree", Kind.Int, true)], a => Stax.Stax.Monomial((int)a["degree"]!)),
        new("RectifiedMonomial", [P("degree", Kind.Int, true)], a => Stax.Stax.RectifiedMonomial((int)a["degree"]!)),
        new("Polynomial", [P("coef", Kind.FloatTuple, true)], a => Stax.Stax.Polynomial((double[])a["coef"]!)),
        new("Hermite", [P("degree", Kind.Int, true)], a => Stax.Stax.Hermite((int)a["degree"]!)),
        new("LayerNorm", [P("axis", Kind.IntOrIntTuple), P("eps", Kind.Float)], a => Stax.Stax.LayerNorm((int[]?)Get<object?>(a, "axis", null), Get(a, "eps", 1e-12))),
        new("Dropout", [P("rate", Kind.Float, true), P("mode", Kind.Mode), P("seed", Kind.Int)],
            a => Stax.Stax.Dropout((double)a["rate"]!, Get(a, "mode", "train"), Get(a, "seed", 0))),
        new("GlobalSelfAttention", [P("n_chan_out", Kind.Int, true), P("n_chan_key", Kind.Int, true), P("n_chan_val", Kind.Int, true), P("n_heads", Kind.Int, true),
                P("linear_scaling", Kind.Bool), P("W_key_std", Kind.Float), P("W_value_std", Kind.Float), P("W_query_std", Kind.Float), P("W_out_std", Kind.Float),
                P("b_std", Kind.FloatOrNone), P("attention_mechanism", Kind.AttentionMechanism), P("pos_emb_type", Kind.PositionalEmbedding),
                P("pos_emb_p_norm", Kind.Float), P("pos_emb_decay_fn", Kind.NoneOnly), P("n_chan_pos_emb", Kind.IntOrNone), P("W_pos_emb_std", Kind.Float), P("val_pos_emb", Kind.Bool)],
            a => Stax.Stax.GlobalSelfAttention((int)a["n_chan_out"]!, (int)a["n_chan_key"]!, (int)a["n_chan_val"]!, (int)a["n_heads"]!,
                Get(a, "linear_scaling", true), Get(a, "W_key_std", 1.0), Get(a, "W_value_std", 1.0), Get(a, "W_query_std", 1.0), Get(a, "W_out_std", 1.0),
                (double?)Get<object?>(a, "b_std", null), Get(a, "attention_mechanism", AttentionMechanism.Softmax), Get(a, "pos_emb_type", PositionalEmbedding.None),
                (int?)Get<object?>(a, "n_chan_pos_emb", null), Get(a, "W_pos_emb_std", 1.0), Get(a, "val_pos_emb", false))),
        new("Serial", [P("layers", Kind.Layers)], a => Stax.Stax.Serial((Layer[])a["layers"]!)),
        new("Parallel", [P("layers", Kind.Layers)], a => Stax.Stax.Parallel((Layer[])a["layers"]!)),
        new("Repeat", [P("layer", Kind.Layer, true), P("n", Kind.Int, true)], a => Stax.Stax.Repeat((Layer)a["layer"]!, (int)a["n"]!)),
        new("FanOut", [P("num", Kind.Int, true)], a => Stax.Stax.FanOut((int)a["num"]!)),
        new("FanInSum", [], _ => Stax.Stax.FanInSum()),
        new("FanInProd", [], _ => Stax.Stax.FanInProd()),
        new("FanInConcat", [P("axis", Kind.Int)], a => Stax.Stax.FanInConcat(Get(a, "axis", -1))),
        new("WideResnet", [P("block_size", Kind.Int, true), P("k", Kind.Float, true), P("num_classes", Kind.Int, true), P("pool_window", Kind.IntTupleOrNone)],
            a => Stax.Stax.Examples.WideResnet((int)a["block_size"]!, (double)a["k"]!, (int)a["num_classes"]!, (int[]?)Get<object?>(a, "pool_window", null))),
        new("TransformerEncoder", [P("depth", Kind.Int, true), P("width", Kind.Int, true), P("n_heads", Kind.Int, true), P("mlp_width", Kind.Int, true),
                P("num_classes", Kind.Int, true), P("linear_scaling", Kind.Bool)],
            a => Stax.Stax.Examples.TransformerEncoder((int)a["depth"]!, (int)a["width"]!, (int)a["n_heads"]!, (int)a["mlp_width"]!, (int)a["num_classes"]!, Get(a, "linear_scaling", true))),
    ];

    /// <summary>Names of the layers the parser knows, in documentation order.</summary>
    public static IReadOnlyList<string> KnownLayers { get; } = Layers.Select(l => l.Name).ToArray();

    private static T Get<T>(IReadOnlyDictionary<string, object?> a, string name, T fallback) =>
        a.TryGetValue(name, out var v) ? (T)v! : fallback;

    /// <summary>The network <c>Stax.Serial(layers…)</c> described by <paramref name="spec"/>.</summary>
    /// <exception cref="FormatException">Syntax error, unknown layer or argument, wrong value type, or a value the
    /// layer rejects; the message names the column and what was expected.</exception>
    public static Layer Parse(string spec) => Stax.Stax.Serial(ParseLayers(spec));

    /// <summary>The top-level layers described by <paramref name="spec"/>, in order (see <see cref="Parse"/>).</summary>
    public static Layer[] ParseLayers(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var p = new Parser(Tokenize(spec));
        var layers = new List<Layer>();
        do layers.Add(ToLayer(p.LayerValue()));
        while (p.Accept(","));
        var t = p.Peek;
        if (t.Kind != TokKind.End)
            throw Error(t.Column, $"expected ',' or the end of the spec after a layer, got {t.Describe()}");
        return layers.ToArray();
    }

    private static FormatException Error(int column, string message) => new($"net spec, column {column}: {message}");

    // ------------------------------------------------------------------ tokens

    private enum TokKind { Name, Number, Punct, End }

    private readonly record struct Token(TokKind Kind, string Text, int Column, bool Quoted = false)
    {
        public string Describe() => Kind == TokKind.End ? "the end of the spec" : $"'{Text}'";
    }

    private static List<Token> Tokenize(string s)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < s.Length)
        {
            char ch = s[i];
            int col = i + 1;
            if (char.IsWhiteSpace(ch)) { i++; continue; }
            if ("(),=[]".Contains(ch)) { tokens.Add(new(TokKind.Punct, ch.ToString(), col)); i++; continue; }
            if (char.IsLetter(ch) || ch == '_')
            {
                int j = i;
                while (j < s.Length && (char.IsLetterOrDigit(s[j]) || s[j] == '_')) j++;
                tokens.Add(new(TokKind.Name, s[i..j], col));
                i = j;
                continue;
            }
            if (ch is '\'' or '"')
            {
                int j = s.IndexOf(ch, i + 1);
                if (j < 0) throw Error(col, $"unterminated string starting with {ch}");
                tokens.Add(new(TokKind.Name, s[(i + 1)..j], col, Quoted: true));
                i = j + 1;
                continue;
            }
            if (char.IsDigit(ch) || ch is '-' or '+' or '.')
            {
                int j = i;
                if (s[j] is '-' or '+') j++;
                while (j < s.Length && (char.IsDigit(s[j]) || s[j] == '.')) j++;
                if (j < s.Length && s[j] is 'e' or 'E')
                {
                    j++;
                    if (j < s.Length && s[j] is '-' or '+') j++;
                    while (j < s.Length && char.IsDigit(s[j])) j++;
                }
                var text = s[i..j];
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    throw Error(col, $"'{text}' is not a number");
                tokens.Add(new(TokKind.Number, text, col));
                i = j;
                continue;
            }
            throw Error(col, $"unexpected character '{ch}'; expected a layer name, a number, or one of ( ) , =");
        }
        tokens.Add(new(TokKind.End, "", s.Length + 1));
        return tokens;
    }

    // ------------------------------------------------------------------ parser

    private abstract record Value(int Column);
    private sealed record NumberValue(int Column, string Text) : Value(Column);
    private sealed record NameValue(int Column, string Text, bool Quoted = false) : Value(Column);
    private sealed record TupleValue(int Column, Value[] Items) : Value(Column);
    /// <summary><c>Name(args…)</c>: a layer call (nested layers are arguments of Serial, Parallel and Repeat).</summary>
    private sealed record CallValue(int Column, string Name, List<Value> Positional, List<(Token Name, Value Value)> Keywords) : Value(Column);

    private sealed class Parser(List<Token> tokens)
    {
        private int _pos;

        public Token Peek => tokens[_pos];

        private Token Next() => tokens[_pos++];

        public bool Accept(string punct)
        {
            if (Peek.Kind == TokKind.Punct && Peek.Text == punct) { _pos++; return true; }
            return false;
        }

        private void Expect(string punct, string context)
        {
            if (!Accept(punct)) throw Error(Peek.Column, $"expected '{punct}' {context}, got {Peek.Describe()}");
        }

        /// <summary>A layer: a bare name or a call.</summary>
        public Value LayerValue()
        {
            var t = Peek;
            if (t.Kind != TokKind.Name || t.Quoted)
                throw Error(t.Column, $"expected a layer name ({string.Join(", ", KnownLayers)}), got {t.Describe()}");
            return Value();
        }

        private Value Call(Token nameTok)
        {
            var positional = new List<Value>();
            var keywords = new List<(Token Name, Value Value)>();
            if (!Accept(")"))
            {
                do
                {
                    if (Peek.Kind == TokKind.Name && !Peek.Quoted && tokens[_pos + 1] is { Kind: TokKind.Punct, Text: "=" })
                    {
                        var key = Next();
                        Next();
                        keywords.Add((key, Value()));
                    }
                    else
                    {
                        var v = Value();
                        if (keywords.Count > 0)
                            throw Error(v.Column, $"{Canonical(nameTok.Text)}: positional argument after keyword argument '{keywords[^1].Name.Text}'");
                        positional.Add(v);
                    }
                } while (Accept(","));
                Expect(")", $"to close the arguments of {Canonical(nameTok.Text)}");
            }
            return new CallValue(nameTok.Column, nameTok.Text, positional, keywords);
        }

        private Value Value()
        {
            var t = Peek;
            if (t.Kind == TokKind.Number) { _pos++; return new NumberValue(t.Column, t.Text); }
            if (t.Kind == TokKind.Name)
            {
                _pos++;
                if (!t.Quoted && Accept("(")) return Call(t);
                return new NameValue(t.Column, t.Text, t.Quoted);
            }
            if (t.Kind == TokKind.Punct && t.Text is "(" or "[")
            {
                _pos++;
                string close = t.Text == "(" ? ")" : "]";
                var items = new List<Value>();
                while (!Accept(close))
                {
                    items.Add(Value());
                    if (!Accept(","))
                    {
                        Expect(close, "to close the tuple");
                        break;
                    }
                }
                return new TupleValue(t.Column, items.ToArray());
            }
            throw Error(t.Column, $"expected a value (number, tuple like (3,3), name or layer), got {t.Describe()}");
        }
    }

    private static string Canonical(string name) =>
        Layers.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase))?.Name ?? name;

    /// <summary>Binds a bare layer name or a layer call.</summary>
    private static Layer ToLayer(Value v)
    {
        var (col, name, positional, keywords) = v switch
        {
            NameValue { Quoted: false } n => (n.Column, n.Text, new List<Value>(), new List<(Token, Value)>()),
            CallValue c => (c.Column, c.Name, c.Positional, c.Keywords),
            _ => throw Error(v.Column, $"expected a layer ({string.Join(", ", KnownLayers)}), got {Show(v)}"),
        };
        if (string.Equals(name, "Elementwise", StringComparison.OrdinalIgnoreCase))
            throw Error(col, "Elementwise takes a function, which a net spec cannot express; use Stax.Elementwise(fn) from the library");
        var def = Layers.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw Error(col, $"unknown layer '{name}'; known layers: {string.Join(", ", KnownLayers)}");
        return Bind(def, col, positional, keywords);
    }

    private static Layer Bind(LayerDef def, int column, List<Value> positional, List<(Token Name, Value Value)> keywords)
    {
        string Signature() => def.Params.Length == 0 ? $"{def.Name} takes no arguments"
            : $"{def.Name}({string.Join(", ", def.Params.Select(p => p.Kind == Kind.Layers ? "*layers" : p.Required ? p.Name : p.Name + "=…"))})";
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (def.Params is [{ Kind: Kind.Layers } varargs])
        {
            if (keywords.Count > 0) throw Error(keywords[0].Name.Column, $"{def.Name} takes layers as positional arguments only, got '{keywords[0].Name.Text}='");
            if (positional.Count == 0) throw Error(column, $"{def.Name} needs at least one layer");
            values[varargs.Name] = positional.Select(ToLayer).ToArray();
            return Build(def, column, values);
        }
        if (positional.Count > def.Params.Length)
            throw Error(positional[def.Params.Length].Column,
                $"{def.Name} takes at most {def.Params.Length} positional argument{(def.Params.Length == 1 ? "" : "s")}; expected {Signature()}");
        for (int i = 0; i < positional.Count; i++)
            values[def.Params[i].Name] = Convert(def, def.Params[i], positional[i]);
        foreach (var (key, v) in keywords)
        {
            var p = def.Params.FirstOrDefault(q => string.Equals(q.Name, key.Text, StringComparison.OrdinalIgnoreCase))
                ?? throw Error(key.Column, def.Params.Length == 0 ? $"{Signature()}, got '{key.Text}='"
                    : $"{def.Name} has no argument '{key.Text}'; expected one of {string.Join(", ", def.Params.Select(q => q.Name))}");
            if (values.ContainsKey(p.Name)) throw Error(key.Column, $"{def.Name}: argument '{p.Name}' given twice");
            values[p.Name] = Convert(def, p, v);
        }
        foreach (var p in def.Params.Where(p => p.Required && !values.ContainsKey(p.Name)))
            throw Error(column, $"{def.Name} needs argument '{p.Name}'; expected {Signature()}");
        return Build(def, column, values);
    }

    private static Layer Build(LayerDef def, int column, Dictionary<string, object?> values)
    {
        try
        {
            return def.Build(values);
        }
        catch (ArgumentException e)
        {
            var msg = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "");
            throw Error(column, msg);
        }
    }

    private static object? Convert(LayerDef def, Param p, Value v)
    {
        string Where() => $"{def.Name} argument '{p.Name}'";
        string? Word() => v is NameValue n ? n.Text : null;
        T Choice<T>(string expected, params (string Text, T Value)[] options)
        {
            foreach (var (text, value) in options)
                if (string.Equals(Word(), text, StringComparison.OrdinalIgnoreCase)) return value;
            throw Error(v.Column, $"{Where()} expects {expected}, got {Show(v)}");
        }
        switch (p.Kind)
        {
            case Kind.Int:
                return ToInt(v, Where());
            case Kind.IntOrNone:
                return IsNone(v) ? null : ToInt(v, Where());
            case Kind.Float:
            case Kind.FloatOrNone:
                if (p.Kind == Kind.FloatOrNone && IsNone(v)) return null;
                if (v is NumberValue n) return double.Parse(n.Text, NumberStyles.Float, CultureInfo.InvariantCulture);
                throw Error(v.Column, $"{Where()} expects a number{(p.Kind == Kind.FloatOrNone ? " or None" : "")}");
            case Kind.IntTuple:
            case Kind.IntTupleOrNone:
                if (p.Kind == Kind.IntTupleOrNone && IsNone(v)) return null;
                if (v is TupleValue t && t.Items.Length > 0) return t.Items.Select(x => ToInt(x, Where())).ToArray();
                throw Error(v.Column, $"{Where()} expects a non-empty tuple of integers like (3,3){(p.Kind == Kind.IntTupleOrNone ? " or None" : "")}");
            case Kind.IntOrIntTuple:
                if (v is TupleValue ti && ti.Items.Length > 0) return ti.Items.Select(x => ToInt(x, Where())).ToArray();
                if (v is NumberValue) return new[] { ToInt(v, Where()) };
                throw Error(v.Column, $"{Where()} expects an integer or a tuple of integers like (1,2)");
            case Kind.IntPair:
                if (v is TupleValue tp && tp.Items.Length == 2) return ((int, int)?)(ToInt(tp.Items[0], Where()), ToInt(tp.Items[1], Where()));
                throw Error(v.Column, $"{Where()} expects a pair of integers like (1,1)");
            case Kind.FloatTuple:
                if (v is TupleValue tf && tf.Items.Length > 0)
                    return tf.Items.Select(x => x is NumberValue nx ? double.Parse(nx.Text, NumberStyles.Float, CultureInfo.InvariantCulture)
                        : throw Error(x.Column, $"{Where()} expects numbers, got {Show(x)}")).ToArray();
                throw Error(v.Column, $"{Where()} expects a non-empty tuple of numbers like (1,0,0.5)");
            case Kind.Padding:
                return Choice("SAME, VALID or CIRCULAR", ("SAME", Padding.Same), ("VALID", Padding.Valid), ("CIRCULAR", Padding.Circular));
            case Kind.Bool:
                return Choice("True or False", ("True", true), ("False", false));
            case Kind.Parameterization:
                return Choice("ntk or standard", ("ntk", Parameterization.Ntk), ("standard", Parameterization.Standard));
            case Kind.Mode:
                return Choice("train or test", ("train", "train"), ("test", "test"));
            case Kind.AttentionMechanism:
                return Choice("SOFTMAX, IDENTITY, ABS or RELU", ("SOFTMAX", AttentionMechanism.Softmax), ("IDENTITY", AttentionMechanism.Identity),
                    ("ABS", AttentionMechanism.Abs), ("RELU", AttentionMechanism.Relu));
            case Kind.PositionalEmbedding:
                return Choice("NONE, SUM or CONCAT", ("NONE", PositionalEmbedding.None), ("SUM", PositionalEmbedding.Sum), ("CONCAT", PositionalEmbedding.Concat));
            case Kind.NoneOnly:
                if (IsNone(v)) return null;
                throw Error(v.Column, $"{Where()}: only None (the default) is supported, got {Show(v)}");
            case Kind.Layer:
                return ToLayer(v);
            default:
                throw new UnreachableException();
        }
    }

    private static bool IsNone(Value v) => v is NameValue { Text: "None" or "none" or "null" };

    private static int ToInt(Value v, string where)
    {
        if (v is NumberValue n && int.TryParse(n.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i)) return i;
        throw Error(v.Column, $"{where} expects an integer, got {Show(v)}");
    }

    private static string Show(Value v) => v switch
    {
        NumberValue n => n.Text,
        NameValue s => s.Quoted ? $"'{s.Text}'" : s.Text,
        CallValue c => c.Name + "(…)",
        TupleValue t => "(" + string.Join(",", t.Items.Select(Show)) + ")",
        _ => "?",
    };
}
