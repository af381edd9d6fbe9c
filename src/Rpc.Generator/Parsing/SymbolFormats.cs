using Microsoft.CodeAnalysis;

namespace RpcGen.Generator.Parsing;

/// <summary>How the parser writes type names into the model, so every emitter gets the same spelling.</summary>
internal static class SymbolFormats
{
    /// <summary>global::-qualified, keeping '?' on nullable reference types so generated signatures match the contract.</summary>
    public static readonly SymbolDisplayFormat Type = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);
}
