using System;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RpcGen.Generator.Parsing;

/// <summary>The names a service gets: service and wire names, generated type and file names, and their validity rules.</summary>
internal static class Names
{
    /// <summary>IFibonacci → Fibonacci; a name that does not follow the I-prefix convention is kept.</summary>
    internal static string ServiceNameOf(string interfaceName) =>
        interfaceName.Length > 1 && interfaceName[0] == 'I' && char.IsUpper(interfaceName[1]) ? interfaceName.Substring(1) : interfaceName;

    /// <summary>Nested interfaces take their containing types' names so two nested IFoo never collide.</summary>
    public static string GeneratedTypeBaseName(INamedTypeSymbol symbol)
    {
        var name = ServiceNameOf(symbol.Name);
        for (var type = symbol.ContainingType; type is not null; type = type.ContainingType)
        {
            name = type.Name + name;
        }

        return name;
    }

    public static string HintNameOf(INamedTypeSymbol symbol)
    {
        var builder = new StringBuilder();
        foreach (var ch in symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", string.Empty))
        {
            builder.Append(char.IsLetterOrDigit(ch) || ch == '.' || ch == '_' ? ch : '_');
        }

        return builder.Append(NameClashes.GeneratedFileSuffix).ToString();
    }

    public static string? NamespaceOf(INamedTypeSymbol symbol) =>
        symbol.ContainingNamespace.IsGlobalNamespace
            ? null
            : symbol.ContainingNamespace.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Substring("global::".Length);

    internal static string DefaultWireName(string methodName) =>
        methodName.Length > 5 && methodName.EndsWith("Async", StringComparison.Ordinal) ? methodName.Substring(0, methodName.Length - 5) : methodName;

    internal static bool IsValidWireName(string name)
    {
        if (name.Length == 0 || name.Length > 255) return false;
        foreach (var ch in name)
        {
            if (!(ch is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '.' or '-' or '_')) return false;
        }

        return true;
    }

    /// <summary>The rules RabbitMQ applies to a queue name, plus the reserved amq. prefix.</summary>
    internal static string? QueueNameProblem(string queue)
    {
        if (string.IsNullOrWhiteSpace(queue)) return "it is empty; give the service a queue name or leave Queue unset";
        if (Encoding.UTF8.GetByteCount(queue) > 255) return "it is longer than 255 bytes; shorten it";
        if (queue.StartsWith("amq.", StringComparison.Ordinal)) return "names starting with 'amq.' are reserved by RabbitMQ; choose another";
        foreach (var ch in queue)
        {
            if (char.IsControl(ch) || char.IsWhiteSpace(ch)) return "it contains white space or control characters; remove them";
        }

        return null;
    }

    public static string EscapeIdentifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
}
