using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using RpcGen.Generator.Model;

namespace RpcGen.Generator.Parsing;

/// <summary>Where generated names would collide with other types or members, and how the generated code steps around it.</summary>
internal static class NameClashes
{
    /// <summary>Names a client class cannot give a public method: its field, and object's members (which it would hide).</summary>
    private static readonly HashSet<string> s_clientReservedNames = new(StringComparer.Ordinal)
    {
        "_invoker", "Equals", "GetHashCode", "ToString", "GetType", "MemberwiseClone", "Finalize", "ReferenceEquals",
    };

    /// <summary>
    /// Implementing every method as a public member of the client fails to compile when two methods share a C#
    /// signature (inherited from two bases, or hidden with 'new'), or when a name is taken by the client itself or by
    /// object (Equals, ToString...). Those methods are implemented explicitly instead, and the dispatcher calls
    /// methods that share a signature through their declaring interface so the call is not ambiguous.
    /// </summary>
    public static IEnumerable<MethodModel> ResolveMemberNames(INamedTypeSymbol service, string clientName, List<(IMethodSymbol Symbol, MethodModel Model)> methods)
    {
        var bySignature = methods.GroupBy(m => SignatureKey(m.Symbol)).ToDictionary(g => g.Key, g => g.Count());
        var implicitSignatures = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (symbol, model) in methods)
        {
            var declaring = symbol.ContainingType.ToDisplayString(SymbolFormats.Type);
            var key = SignatureKey(symbol);
            bool reservedName = s_clientReservedNames.Contains(symbol.Name) || symbol.Name == clientName;
            bool explicitImplementation = reservedName || !implicitSignatures.Add(key);
            bool shared = bySignature[key] > 1 && !SymbolEqualityComparer.Default.Equals(symbol.ContainingType, service);
            yield return model with
            {
                ExplicitInterface = explicitImplementation ? declaring : null,
                CallThrough = shared ? declaring : null,
            };
        }
    }

    private static bool IsGenerated(INamedTypeSymbol type) =>
        type.DeclaringSyntaxReferences.Length > 0
        && type.DeclaringSyntaxReferences.All(r => r.SyntaxTree.FilePath.EndsWith(GeneratedFileSuffix, StringComparison.Ordinal));

    /// <summary>Every file the generator adds ends so (see <see cref="Names.HintNameOf"/>).</summary>
    public const string GeneratedFileSuffix = ".RpcGen.g.cs";

    private static string SignatureKey(IMethodSymbol method) =>
        method.Name + "(" + string.Join(",", method.Parameters.Select(p => p.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat))) + ")";

    /// <summary>Existing types (and other services' generated types) that a generated type name would collide with.</summary>
    public static IEnumerable<(string Generated, string Clash)> GeneratedTypeClashes(
        INamedTypeSymbol symbol, string typeName, params string[] generatedNames)
    {
        var ns = symbol.ContainingNamespace;
        foreach (var name in generatedNames)
        {
            foreach (var existing in ns.GetTypeMembers(name))
            {
                // The analyzer sees the generator's output in its compilation; a service's own generated types are no clash.
                if (IsGenerated(existing)) continue;
                yield return (name, "the existing type '" + existing.ToDisplayString() + "'");
            }
        }

        // A nested Outer.IFoo and a top-level IOuterFoo both generate OuterFooClient; the nested one gives way.
        if (symbol.ContainingType is null) yield break;
        foreach (var other in ns.GetTypeMembers("I" + typeName).Concat(ns.GetTypeMembers(typeName)))
        {
            if (other.TypeKind == TypeKind.Interface && Names.ServiceNameOf(other.Name) == typeName
                && other.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == AttributeNames.RpcService))
            {
                yield return (generatedNames[0], "the client generated for interface '" + other.ToDisplayString() + "'");
            }
        }
    }
}
