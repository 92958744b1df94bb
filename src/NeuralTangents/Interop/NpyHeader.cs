using System.Globalization;
using System.Text;
using NeuralTangents.Tensors;

namespace NeuralTangents.Interop;

/// <summary>
/// The header dictionary of a <c>.npy</c> file: parsing the Python-literal subset NumPy writes, and formatting it
/// byte for byte as <c>numpy.lib.format</c> (NumPy ≥ 1.24, with the 21-digit growth padding) does.
/// </summary>
internal sealed record NpyHeader(string Descr, bool FortranOrder, Shape Shape)
{
    internal static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int ArrayAlign = 64;
    private const int GrowthAxisMaxDigits = 21;

    internal static string DescrOf(DType dtype) => dtype == DType.Float32 ? "<f4" : "<f8";

    /// <summary>The full preamble (magic, version, length, header text, padding, '\n') for a C-ordered array.</summary>
    internal static byte[] Encode(DType dtype, Shape shape)
    {
        var text = $"{{'descr': '{DescrOf(dtype)}', 'fortran_order': False, 'shape': {shape}, }}";
        if (shape.Rank > 0) text += new string(' ', GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length);
        var body = Encoding.ASCII.GetBytes(text);
        // Version 1.0 unless the length no longer fits its 16-bit field (NumPy's _wrap_header_guess_version).
        foreach (int major in stackalloc[] { 1, 2 })
        {
            int prefix = Magic.Length + 2 + (major == 1 ? 2 : 4);
            long hlen = body.Length + 1;
            long padlen = ArrayAlign - (prefix + hlen) % ArrayAlign;
            long total = hlen + padlen;
            if (major == 1 && total > ushort.MaxValue) continue;
            var bytes = new byte[prefix + total];
            Magic.CopyTo(bytes);
            bytes[6] = (byte)major;
            bytes[7] = 0;
            if (major == 1) System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)total);
            else System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)total);
            body.CopyTo(bytes, prefix);
            bytes.AsSpan(prefix + body.Length, (int)padlen).Fill((byte)' ');
            bytes[^1] = (byte)'\n';
            return bytes;
        }
        throw new System.Diagnostics.UnreachableException();
    }

    /// <summary>Parses the header text; <paramref name="source"/> names the file in error messages.</summary>
    /// <exception cref="InvalidDataException">The text is not a valid NumPy header dictionary.</exception>
    internal static NpyHeader Parse(string text, string source)
    {
        var p = new Parser(text, source);
        p.SkipSpace();
        if (p.Value() is not Dictionary<string, object> dict)
            throw p.Error("the header is not a dictionary");
        p.SkipSpace();
        if (!p.AtEnd) throw p.Error("unexpected text after the header dictionary");

        var keys = dict.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        if (!keys.SequenceEqual(["descr", "fortran_order", "shape"]))
            throw new InvalidDataException($"{source}: npy header must have exactly the keys 'descr', 'fortran_order', 'shape'; got {string.Join(", ", keys.Select(k => $"'{k}'"))}");
        // A non-string descr (a structured dtype list) is kept as its repr so the caller can reject it by name.
        var descr = dict["descr"] as string ?? Repr(dict["descr"]);
        if (dict["fortran_order"] is not bool fortran)
            throw new InvalidDataException($"{source}: npy header 'fortran_order' must be True or False, got {Repr(dict["fortran_order"])}");
        if (dict["shape"] is not List<object> { } shapeList || shapeList.Any(d => d is not long))
            throw new InvalidDataException($"{source}: npy header 'shape' must be a tuple of integers, got {Repr(dict["shape"])}");
        var dims = new int[shapeList.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            long d = (long)shapeList[i];
            if (d < 0 || d > int.MaxValue)
                throw new InvalidDataException($"{source}: npy shape {Repr(shapeList)} has size {d} on axis {i}; sizes must be in [0, {int.MaxValue}]");
            dims[i] = (int)d;
        }
        var shape = new Shape(dims);
        long size = 1;
        foreach (var d in dims) size = Math.Min(size * d, long.MaxValue / int.MaxValue);
        if (size > Array.MaxLength)
            throw new InvalidDataException($"{source}: npy shape {shape} has more elements than a .NET array can hold ({Array.MaxLength})");
        return new NpyHeader(descr, fortran, shape);
    }

    private static string Repr(object v) => v switch
    {
        string s => $"'{s}'",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        List<object> l => "(" + string.Join(", ", l.Select(Repr)) + (l.Count == 1 ? ",)" : ")"),
        Dictionary<string, object> d => "{" + string.Join(", ", d.Select(kv => $"'{kv.Key}': {Repr(kv.Value)}")) + "}",
        _ => v.ToString() ?? "",
    };

    /// <summary>Recursive-descent parser for dict/tuple/list/str/int/bool literals (what <c>repr</c> of a header gives).</summary>
    private sealed class Parser(string text, string source)
    {
        private int _pos;

        public bool AtEnd => _pos >= text.Length;

        public InvalidDataException Error(string what) =>
            new($"{source}: malformed npy header at character {_pos}: {what} in {text.TrimEnd()}");

        public void SkipSpace()
        {
            while (!AtEnd && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        private char Peek() => AtEnd ? throw Error("unexpected end") : text[_pos];

        public object Value()
        {
            SkipSpace();
            char c = Peek();
            switch (c)
            {
                case '{': return Dict();
                case '(': return Sequence(')');
                case '[': return Sequence(']');
                case '\'': case '"': return Str();
            }
            if (char.IsAsciiDigit(c) || c == '-' || c == '+') return Int();
            if (char.IsAsciiLetter(c))
            {
                int start = _pos;
                while (!AtEnd && char.IsAsciiLetterOrDigit(text[_pos])) _pos++;
                var word = text[start.._pos];
                if (word == "True") return true;
                if (word == "False") return false;
                _pos = start;
                throw Error($"unknown name '{word}'");
            }
            throw Error($"unexpected character '{c}'");
        }

        private Dictionary<string, object> Dict()
        {
            _pos++; // '{'
            var d = new Dictionary<string, object>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpace();
                if (Peek() == '}') { _pos++; return d; }
                if (Value() is not string key) throw Error("dictionary keys must be strings");
                SkipSpace();
                if (Peek() != ':') throw Error("expected ':'");
                _pos++;
                var v = Value();
                if (!d.TryAdd(key, v)) throw Error($"duplicate key '{key}'");
                SkipSpace();
                if (Peek() == ',') _pos++;
                else if (Peek() != '}') throw Error("expected ',' or '}'");
            }
        }

        private List<object> Sequence(char close)
        {
            _pos++;
            var items = new List<object>();
            while (true)
            {
                SkipSpace();
                if (Peek() == close) { _pos++; return items; }
                items.Add(Value());
                SkipSpace();
                if (Peek() == ',') _pos++;
                else if (Peek() != close) throw Error($"expected ',' or '{close}'");
            }
        }

        private string Str()
        {
            char quote = text[_pos++];
            var sb = new StringBuilder();
            while (true)
            {
                char c = Peek();
                _pos++;
                if (c == quote) return sb.ToString();
                if (c == '\\') { c = Peek(); _pos++; }
                sb.Append(c);
            }
        }

        private long Int()
        {
            int start = _pos;
            if (text[_pos] is '-' or '+') _pos++;
            while (!AtEnd && char.IsAsciiDigit(text[_pos])) _pos++;
            if (!long.TryParse(text.AsSpan(start, _pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            {
                _pos = start;
                throw Error("bad integer");
            }
            if (!AtEnd && text[_pos] is 'L' or 'l') _pos++; // Python 2 long suffix, as NumPy's _filter_header tolerates
            return v;
        }
    }
}
