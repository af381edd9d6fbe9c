using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace RpcGen.Generator.Parsing;

/// <summary>
/// The problems found in one service. A problem without a location in source (a method inherited from a referenced
/// assembly) points at the interface, so every one lands in the user's code, where a click, #pragma or a fix reaches it. The analyzer reports them; the generator only asks whether there were any.
/// </summary>
internal sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = new();
    private readonly Location? _fallback;

    public DiagnosticBag(Location? fallback) => _fallback = fallback;

    /// <summary>Errors keep a service from being generated; suggestions do not.</summary>
    public bool HasErrors { get; private set; }

    public void Report(DiagnosticDescriptor descriptor, Location? location, params string[] args) =>
        Report(descriptor, location, ImmutableDictionary<string, string?>.Empty, args);

    /// <summary>Reports with <paramref name="properties"/>: what a code fix needs that the message only shows.</summary>
    public void Report(DiagnosticDescriptor descriptor, Location? location, ImmutableDictionary<string, string?> properties, params string[] args)
    {
        HasErrors |= descriptor.DefaultSeverity == DiagnosticSeverity.Error;
        _items.Add(Diagnostic.Create(descriptor, (location is { IsInSource: true } ? location : _fallback) ?? Location.None, properties, args));
    }

    public ImmutableArray<Diagnostic> ToImmutableArray() => _items.ToImmutableArray();
}
