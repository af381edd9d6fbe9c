using Microsoft.CodeAnalysis;

namespace RpcGen.Generator.Parsing;

/// <summary>How the parser writes type names into the model, so every emitter gets the same spelling.</summary>
internal static class SymbolFormats
{
    /// <summary>global::-qualified, keeping '?' on nullable reference types so generated signatures match the contract.</summary>
    public static readonly SymbolDisplayFormat Type = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>
    /// global::-qualified without nullable reference annotations and with tuples as ValueTuple, for <c>typeof(...)</c>,
    /// which refuses both (a nullable value type keeps its '?': <c>typeof(int?)</c> is Nullable&lt;int&gt;).
    /// </summary>
    public static readonly SymbolDisplayFormat TypeOf = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.ExpandValueTuple);
}
