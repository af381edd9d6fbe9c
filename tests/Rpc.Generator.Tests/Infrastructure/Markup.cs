using Microsoft.CodeAnalysis.Text;

namespace RpcGen.Generator.Tests.Infrastructure;

/// <summary>Source with expected diagnostic spans marked as [|text|]; the markers are removed from the compiled text.</summary>
public sealed class Markup
{
    private Markup(string text, IReadOnlyList<TextSpan> spans)
    {
        Text = text;
        Spans = spans;
    }

    public string Text { get; }

    public IReadOnlyList<TextSpan> Spans { get; }

    public static Markup Parse(string markup)
    {
        var text = new System.Text.StringBuilder();
        var spans = new List<TextSpan>();
        int start = -1;
        for (int i = 0; i < markup.Length; i++)
        {
            if (string.CompareOrdinal(markup, i, "[|", 0, 2) == 0)
            {
                start = text.Length;
                i++;
            }
            else if (string.CompareOrdinal(markup, i, "|]", 0, 2) == 0)
            {
                if (start < 0) throw new ArgumentException("|] without [| in markup.");
                spans.Add(TextSpan.FromBounds(start, text.Length));
                start = -1;
                i++;
            }
            else
            {
                text.Append(markup[i]);
            }
        }

        if (start >= 0) throw new ArgumentException("[| without |] in markup.");
        return new Markup(text.ToString(), spans);
    }
}
