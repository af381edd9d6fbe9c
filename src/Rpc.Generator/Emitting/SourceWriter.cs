using System.Collections.Generic;
using System.Text;

namespace RpcGen.Generator.Emitting;

/// <summary>A string builder that knows the current indentation; braces open and close blocks.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    public SourceWriter Open(string line)
    {
        Line(line);
        Line("{");
        _indent++;
        return this;
    }

    /// <summary>Indents the lines that follow one level more, as inside a block the caller opened itself.</summary>
    public SourceWriter Indent()
    {
        _indent++;
        return this;
    }

    /// <summary>Undoes an <see cref="Indent"/>.</summary>
    public SourceWriter Outdent()
    {
        _indent--;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    /// <summary>
    /// <paramref name="head"/>, the <paramref name="arguments"/> separated by commas, then <paramref name="tail"/>: on
    /// one line when it fits, else one argument a line below the head.
    /// </summary>
    public SourceWriter Wrapped(string head, IReadOnlyList<string> arguments, string tail)
    {
        var line = head + string.Join(", ", arguments) + tail;
        if (arguments.Count == 0 || Fits(line)) return Line(line);
        Line(head);
        _indent++;
        for (int i = 0; i < arguments.Count; i++) Line(arguments[i] + (i < arguments.Count - 1 ? "," : tail));
        _indent--;
        return this;
    }

    /// <summary>A <see cref="Wrapped"/> line that opens a block: a signature.</summary>
    public SourceWriter OpenWrapped(string head, IReadOnlyList<string> arguments, string tail)
    {
        Wrapped(head, arguments, tail);
        Line("{");
        _indent++;
        return this;
    }

    /// <summary><paramref name="first"/> and <paramref name="rest"/> on one line when it fits, else the rest indented below.</summary>
    public SourceWriter Split(string first, string rest)
    {
        if (Fits(first + " " + rest)) return Line(first + " " + rest);
        Line(first);
        _indent++;
        Line(rest);
        _indent--;
        return this;
    }

    /// <summary>
    /// <paramref name="target"/> and a call on one line when it fits, else the call below it, indented, and
    /// <see cref="Wrapped"/> in turn.
    /// </summary>
    public SourceWriter Assignment(string target, string head, IReadOnlyList<string> arguments, string tail)
    {
        var call = head + string.Join(", ", arguments) + tail;
        if (Fits(target + " " + call)) return Line(target + " " + call);
        Line(target);
        _indent++;
        Wrapped(head, arguments, tail);
        _indent--;
        return this;
    }

    /// <summary>An XML doc summary: on one line when it fits, else one sentence a line.</summary>
    public SourceWriter Summary(string text)
    {
        var single = "/// <summary>" + text + "</summary>";
        if (Fits(single)) return Line(single);
        Line("/// <summary>");
        var sentences = text.Split(new[] { ". " }, System.StringSplitOptions.None);
        for (int i = 0; i < sentences.Length; i++) Line("/// " + sentences[i] + (i < sentences.Length - 1 ? "." : string.Empty));
        return Line("/// </summary>");
    }

    /// <summary>Whether <paramref name="line"/>, indented as the next line would be, stays within <see cref="ServiceEmitter.MaxLineLength"/>.</summary>
    public bool Fits(string line) => _indent * 4 + line.Length <= ServiceEmitter.MaxLineLength;

    public override string ToString() => _text.ToString();
}
