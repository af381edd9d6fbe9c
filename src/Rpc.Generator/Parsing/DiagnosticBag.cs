using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using RpcGen.Generator.Model;

namespace RpcGen.Generator.Parsing;

/// <summary>
/// The diagnostics of one parsed service, kept as plain data. A diagnostic without a source location of its own
/// points at the interface, so every one lands somewhere a user can click.
/// </summary>
internal sealed class DiagnosticBag
{
    private readonly List<DiagnosticInfo> _items = new();
    private readonly LocationInfo? _fallback;

    public DiagnosticBag(Location? fallback) => _fallback = LocationInfo.From(fallback);

    public int Count => _items.Count;

    public void Report(DiagnosticDescriptor descriptor, Location? location, params string[] args) =>
        _items.Add(new DiagnosticInfo(descriptor.Id, LocationInfo.From(location) ?? _fallback, args.ToEquatableArray()));

    public EquatableArray<DiagnosticInfo> ToEquatableArray() => _items.ToEquatableArray();
}
