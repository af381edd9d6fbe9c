using System.Text.RegularExpressions;
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
    private static readonly SymbolDisplayFormat TypeOfFormat = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.ExpandValueTuple);

    /// <summary>
    /// A type as <c>typeof(...)</c> takes it: <see cref="TypeOfFormat"/>, with <c>dynamic</c> (which typeof refuses,
    /// alone or as a type argument) written as the <c>object</c> it is at run time. Other types named <c>dynamic</c>
    /// are global::-qualified, so only the keyword matches.
    /// </summary>
    public static string TypeOf(ITypeSymbol type) =>
        s_dynamic.Replace(type.ToDisplayString(TypeOfFormat), "object");

    private static readonly Regex s_dynamic = new(@"(?<![\w.:@])dynamic(?!\w)", RegexOptions.CultureInvariant);
}
