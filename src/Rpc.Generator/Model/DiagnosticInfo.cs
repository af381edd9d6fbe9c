using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace RpcGen.Generator.Model;

/// <summary>
/// Where a diagnostic points, as plain values: a <see cref="Location"/> holds its syntax tree, which would keep the
/// compilation alive and defeat caching.
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location) =>
        location is null || location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
}

/// <summary>A diagnostic to report, as data carried through the pipeline.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> MessageArgs);

/// <summary>What parsing one [RpcService] interface produced: a model when code can be generated, and diagnostics.</summary>
internal sealed record ParseResult(ServiceModel? Service, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>Neither code nor diagnostics: the interface is handled by another of its declarations.</summary>
    public static readonly ParseResult Nothing = new(null, EquatableArray<DiagnosticInfo>.Empty);
}
