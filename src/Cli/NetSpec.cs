using System.Diagnostics;
using System.Globalization;
using NeuralTangents.Stax;

namespace NeuralTangents.Cli;

/// <summary>
/// Parses a network description mirroring Stax calls, e.g.
/// <c>Conv(32,(3,3),padding=SAME),Relu,Flatten,Dense(10,W_std=1.5)</c>, into <c>Stax.Serial(...)</c>.
/// Arguments bind as in Python: positional in Stax order, then keywords (case-insensitive names); <c>Relu</c> and
/// <c>Relu()</c> are the same. Every error is a <see cref="FormatException"/> whose message gives the 1-based column.
/// </summary>
internal static class NetSpec
{
    private enum Kind { Int, Float, FloatOrNone, IntTuple, IntTupleOrNone, Padding }

    private sealed record Param(string Name, Kind Kind, bool Required = false);

    private sealed record LayerDef(string Name, Param[] Params, Func<IReadOnlyDictionary<string, object?>, Layer> Build);

    private static readonly LayerDef[] Layers =
    [
        new("Dense", [new("out_dim", Kind.Int, true), new("W_std", Kind.Float), new("b_std", Kind.FloatOrNone)],
            a => Stax.Stax.Dense((int)a["out_dim"]!, Get(a, "W_std", 1.0), (double?)Get<object?>(a, "b_std", null))),
        new("Conv", [new("out_chan", Kind.Int, true), new("filter_shape", Kind.IntTuple, true), new("strides", Kind.IntTupleOrNone),
                new("padding", Kind.Padding), new("W_std", Kind.Float), new("b_std", Kind.FloatOrNone)],
            a => Stax.Stax.Conv((int)a["out_chan"]!, (int[])a["filter_shape"]!, (int[]?)Get<object?>(a, "strides", null),
                Get(a, "padding", Padding.Valid), Get(a, "W_std", 1.0), (double?)Get<object?>(a, "b_std", null))),
        new("AvgPool", [new("window_shape", Kind.IntTuple, true), new("strides", Kind.IntTupleOrNone), new("padding", Kind.Padding)],
            a => Stax.Stax.AvgPool((int[])a["window_shape"]!, (int[]?)Get<object?>(a, "strides", null), Get(a, "padding", Padding.Valid))),
        new("Relu", [], _ => Stax.Stax.Relu()),
        new("Erf", [new("a", Kind.Float), new("b", Kind.Float), new("c", Kind.Float)],
            a => Stax.Stax.Erf(Get(a, "a", 1.0), Get(a, "b", 1.0), Get(a, "c", 0.0))),
        new("Sin", [new("a", Kind.Float), new("b", Kind.Float), new("c", Kind.Float)],
            a => Stax.Stax.Sin(Get(a, "a", 1.0), Get(a, "b", 1.0), Get(a, "c", 0.0))),
        new("Flatten", [], _ => Stax.Stax.Flatten()),
        new("GlobalAvgPool", [], _ => Stax.Stax.GlobalAvgPool()),
        new("Identity", [], _ => Stax.Stax.Identity()),
    ];

    /// <summary>Names of the layers the parser knows, in documentation order.</summary>
    public static IReadOnlyList<string> KnownLayers { get; } = Layers.Select(l => l.Name).ToArray();

    private static T Get<T>(IReadOnlyDictionary<string, object?> a, string name, T fallback) =>
        a.TryGetValue(name, out var v) ? (T)v! : fallback;

    /// <summary>The network <c>Stax.Serial(layers…)</c> described by <paramref name="spec"/>.</summary>
    /// <exception cref="FormatException">Syntax error, unknown layer or argument, wrong value type, or a value the
    /// layer rejects; the message names the column and what was expected.</exception>
    public static Layer Parse(string spec) => Stax.Stax.Serial(ParseLayers(spec));

    /// <summary>The layers described by <paramref name="spec"/>, in order (see <see cref="Parse"/>).</summary>
    public static Layer[] ParseLayers(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var p = new Parser(Tokenize(spec));
        var layers = new List<Layer>();
        do layers.Add(p.Layer());
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
    private sealed record NameValue(int Column, string Text) : Value(Column);
    private sealed record TupleValue(int Column, Value[] Items) : Value(Column);

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

        public Layer Layer()
        {
            var nameTok = Next();
            if (nameTok.Kind != TokKind.Name || nameTok.Quoted)
                throw Error(nameTok.Column, $"expected a layer name ({string.Join(", ", KnownLayers)}), got {nameTok.Describe()}");
            var def = Layers.FirstOrDefault(l => string.Equals(l.Name, nameTok.Text, StringComparison.OrdinalIgnoreCase))
                ?? throw Error(nameTok.Column, $"unknown layer '{nameTok.Text}'; known layers: {string.Join(", ", KnownLayers)}");

            var positional = new List<Value>();
            var keywords = new List<(Token Name, Value Value)>();
            if (Accept("("))
            {
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
                                throw Error(v.Column, $"{def.Name}: positional argument after keyword argument '{keywords[^1].Name.Text}'");
                            positional.Add(v);
                        }
                    } while (Accept(","));
                    Expect(")", $"to close the arguments of {def.Name}");
                }
            }
            return Bind(def, nameTok, positional, keywords);
        }

        private Value Value()
        {
            var t = Peek;
            if (t.Kind == TokKind.Number) { _pos++; return new NumberValue(t.Column, t.Text); }
            if (t.Kind == TokKind.Name) { _pos++; return new NameValue(t.Column, t.Text); }
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
            throw Error(t.Column, $"expected a value (number, tuple like (3,3), or name), got {t.Describe()}");
        }
    }

    private static Layer Bind(LayerDef def, Token nameTok, List<Value> positional, List<(Token Name, Value Value)> keywords)
    {
        string Signature() => def.Params.Length == 0 ? $"{def.Name} takes no arguments"
            : $"{def.Name}({string.Join(", ", def.Params.Select(p => p.Required ? p.Name : p.Name + "=…"))})";
        if (positional.Count > def.Params.Length)
            throw Error(positional[def.Params.Length].Column,
                $"{def.Name} takes at most {def.Params.Length} positional argument{(def.Params.Length == 1 ? "" : "s")}; expected {Signature()}");
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
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
            throw Error(nameTok.Column, $"{def.Name} needs argument '{p.Name}'; expected {Signature()}");
        try
        {
            return def.Build(values);
        }
        catch (ArgumentException e)
        {
            var msg = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "");
            throw Error(nameTok.Column, msg);
        }
    }

    private static object? Convert(LayerDef def, Param p, Value v)
    {
        string Where() => $"{def.Name} argument '{p.Name}'";
        switch (p.Kind)
        {
            case Kind.Int:
                return ToInt(v, Where());
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
            case Kind.Padding:
                if (v is NameValue { Text: var s })
                {
                    if (s.Equals("SAME", StringComparison.OrdinalIgnoreCase)) return Padding.Same;
                    if (s.Equals("VALID", StringComparison.OrdinalIgnoreCase)) return Padding.Valid;
                }
                throw Error(v.Column, $"{Where()} expects SAME or VALID");
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
        NameValue s => s.Text,
        TupleValue t => "(" + string.Join(",", t.Items.Select(Show)) + ")",
        _ => "?",
    };
}
