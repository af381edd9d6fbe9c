using System;
using System.Collections.Generic;
using System.Linq;
using RpcGen.Generator.Model;

namespace RpcGen.Generator.Contracts;

/// <summary>
/// One method as RpcContracts.Shipped.txt records it, one line each:
/// <c>{queue} {wire name}({name}: {type}[ = {default}], ...) -> {result}</c>, where a <c>params</c> parameter is
/// <c>{name}: params {type}</c> and the result is a type, <c>void</c> or <c>one-way</c>. Types and defaults are
/// written as the generator writes them, without <c>global::</c>. Queue names have no white space (RPCGEN009) and wire
/// names no parentheses (RPCGEN010), so the line splits without quoting.
/// </summary>
internal sealed record ContractMethod(string Queue, string WireName, IReadOnlyList<ContractParameter> Parameters, string Result)
{
    public const string OneWay = "one-way";
    public const string Void = "void";

    public static ContractMethod From(ServiceModel service, MethodModel method) => new(
        service.Queue,
        method.WireName,
        method.Parameters.Where(p => !p.IsCancellationToken && !p.IsRoutingKey)
            .Select(p => new ContractParameter(p.WireName, Plain(p.Type), p.IsParams, p.DefaultValue is null ? null : Plain(p.DefaultValue)))
            .ToList(),
        method.OneWay ? OneWay : method.ResultType is null ? Void : Plain(method.ResultType));

    public string Key => Queue + " " + WireName;

    public ContractParameter? Find(string name) => Parameters.FirstOrDefault(p => p.Name == name);

    public override string ToString() =>
        Key + "(" + string.Join(", ", Parameters.Select(p => p.ToString())) + ") -> " + Result;

    /// <summary>Reads a line written by <see cref="ToString"/>; null when it is not one.</summary>
    public static ContractMethod? Parse(string line)
    {
        int space = line.IndexOf(' ');
        int open = line.IndexOf('(');
        if (space <= 0 || open < space + 2) return null;
        int close = Matching(line, open);
        const string arrow = " -> ";
        if (close < 0 || string.CompareOrdinal(line, close + 1, arrow, 0, arrow.Length) != 0) return null;
        var result = line.Substring(close + 1 + arrow.Length).Trim();
        if (result.Length == 0) return null;

        var parameters = new List<ContractParameter>();
        foreach (var text in SplitTopLevel(line.Substring(open + 1, close - open - 1)))
        {
            var parameter = ContractParameter.Parse(text);
            if (parameter is null) return null;
            parameters.Add(parameter);
        }

        return new ContractMethod(line.Substring(0, space), line.Substring(space + 1, open - space - 1), parameters, result);
    }

    private static string Plain(string type) => type.Replace("global::", string.Empty);

    /// <summary>The index of the parenthesis closing the one at <paramref name="open"/>, skipping string and char literals.</summary>
    private static int Matching(string text, int open)
    {
        int depth = 0;
        for (int i = open; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '"' or '\'':
                    i = EndOfLiteral(text, i);
                    if (i < 0) return -1;
                    break;
                case '(':
                    depth++;
                    break;
                case ')':
                    if (--depth == 0) return i;
                    break;
            }
        }

        return -1;
    }

    private static IEnumerable<string> SplitTopLevel(string list)
    {
        if (list.Trim().Length == 0) yield break;
        int depth = 0, start = 0;
        for (int i = 0; i < list.Length; i++)
        {
            switch (list[i])
            {
                case '"' or '\'':
                    i = EndOfLiteral(list, i);
                    if (i < 0) i = list.Length - 1;
                    break;
                case '(' or '<' or '[':
                    depth++;
                    break;
                case ')' or '>' or ']':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return list.Substring(start, i - start).Trim();
                    start = i + 1;
                    break;
            }
        }

        yield return list.Substring(start).Trim();
    }

    private static int EndOfLiteral(string text, int quote)
    {
        for (int i = quote + 1; i < text.Length; i++)
        {
            if (text[i] == '\\') i++;
            else if (text[i] == text[quote]) return i;
        }

        return -1;
    }
}

/// <param name="Default">The default value as C#, or null for a required parameter (a params parameter has none either).</param>
internal sealed record ContractParameter(string Name, string Type, bool IsParams, string? Default)
{
    private const string ParamsPrefix = "params ";

    /// <summary>Whether a request may leave it out.</summary>
    public bool IsOptional => IsParams || Default is not null;

    /// <summary>Its type, and its default when it has one: what must not change.</summary>
    public string Shape => (IsParams ? ParamsPrefix : string.Empty) + Type + (Default is null ? string.Empty : " = " + Default);

    public override string ToString() => Name + ": " + Shape;

    public static ContractParameter? Parse(string text)
    {
        int colon = text.IndexOf(": ", StringComparison.Ordinal);
        if (colon <= 0) return null;
        var name = text.Substring(0, colon).Trim();
        var rest = text.Substring(colon + 2).Trim();
        bool isParams = rest.StartsWith(ParamsPrefix, StringComparison.Ordinal);
        if (isParams) rest = rest.Substring(ParamsPrefix.Length);
        int equals = rest.IndexOf(" = ", StringComparison.Ordinal);
        var type = (equals < 0 ? rest : rest.Substring(0, equals)).Trim();
        var @default = equals < 0 ? null : rest.Substring(equals + 3).Trim();
        if (name.Length == 0 || type.Length == 0 || @default is { Length: 0 }) return null;
        return new ContractParameter(name, type, isParams, @default);
    }
}
