using Microsoft.CodeAnalysis;

namespace RpcGen.Generator.Parsing;

/// <summary>What the interface declaration itself must satisfy for generated code to implement and reach it.</summary>
internal static class InterfaceRules
{
    public static bool IsGenericOrInGeneric(INamedTypeSymbol symbol)
    {
        for (var type = symbol; type is not null; type = type.ContainingType)
        {
            if (type.TypeParameters.Length > 0) return true;
        }

        return false;
    }

    /// <summary>public when every enclosing type is public, internal when all are at least internal, else null.</summary>
    public static string? EffectiveAccessibility(INamedTypeSymbol symbol, out string hiddenBy)
    {
        var result = "public";
        hiddenBy = string.Empty;
        for (var type = symbol; type is not null; type = type.ContainingType)
        {
            if (type.IsFileLocal)
            {
                hiddenBy = SymbolEqualityComparer.Default.Equals(type, symbol) ? "file-local" : "nested in a file-local type";
                return null;
            }

            switch (type.DeclaredAccessibility)
            {
                case Accessibility.Public:
                    break;
                case Accessibility.Internal:
                case Accessibility.ProtectedOrInternal:
                    result = "internal";
                    break;
                case Accessibility.Private:
                    hiddenBy = SymbolEqualityComparer.Default.Equals(type, symbol) ? "private" : "nested in a private type";
                    return null;
                default:
                    hiddenBy = SymbolEqualityComparer.Default.Equals(type, symbol) ? "protected" : "nested in a protected type";
                    return null;
            }
        }

        return result;
    }
}
