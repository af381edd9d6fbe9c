using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Model;

namespace RpcGen.Generator.Parsing;

/// <summary>
/// Turns one [RpcService] interface symbol into a <see cref="ServiceModel"/> and diagnostics. Every decision the
/// emitters need (names, wire names, queue, type strings, default values) is made while parsing; this class only
/// walks the interface and hands each piece to the parser that owns it.
/// </summary>
internal static class ServiceParser
{
    /// <summary>The generator's entry: the model of a service that code can be generated for, or null.</summary>
    public static ServiceModel? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;

        // [RpcService] on two parts of a partial interface (already error CS0579) reaches here once per part;
        // answering for the first part only keeps one generated file per interface.
        if (!IsFirstMarkedPart(context, symbol, context.Attributes.FirstOrDefault()?.AttributeClass?.ToDisplayString() ?? AttributeNames.RpcService)) return null;

        var diagnostics = new DiagnosticBag(symbol.Locations.FirstOrDefault());
        return Parse(symbol, context.Attributes.FirstOrDefault(), context.SemanticModel.Compilation, diagnostics, cancellationToken);
    }

    /// <summary>
    /// The model of <paramref name="symbol"/>, or null when <paramref name="diagnostics"/> got a problem that keeps
    /// code from being generated. The generator and the analyzer both come here, so they never disagree.
    /// </summary>
    public static ServiceModel? Parse(
        INamedTypeSymbol symbol, AttributeData? attribute, Compilation compilation, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        var interfaceLocation = symbol.Locations.FirstOrDefault();

        if (InterfaceRules.IsGenericOrInGeneric(symbol))
        {
            diagnostics.Report(DiagnosticDescriptors.GenericInterface, interfaceLocation, symbol.Name);
        }

        var accessibility = InterfaceRules.EffectiveAccessibility(symbol, out var hiddenBy);
        if (accessibility is null)
        {
            diagnostics.Report(DiagnosticDescriptors.InaccessibleInterface, interfaceLocation, symbol.Name, hiddenBy);
        }

        var serviceName = Names.ServiceNameOf(symbol.Name);
        bool isEvents = attribute?.AttributeClass?.ToDisplayString() == AttributeNames.RpcEvents;
        var attributeLocation = attribute?.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? interfaceLocation;
        var events = isEvents ? EventRules.Read(attribute, serviceName, attributeLocation, diagnostics) : null;
        var queue = isEvents ? serviceName : ReadQueue(attribute, symbol, serviceName, diagnostics, cancellationToken);

        var typeName = Names.GeneratedTypeBaseName(symbol);
        var clientName = typeName + (isEvents ? "Publisher" : "Client");
        var dispatcherName = typeName + "Dispatcher";
        var descriptorName = typeName + "RpcDescriptor";
        foreach (var (generated, clash) in NameClashes.GeneratedTypeClashes(symbol, typeName, clientName, dispatcherName, descriptorName))
        {
            diagnostics.Report(DiagnosticDescriptors.GeneratedNameClash, interfaceLocation, generated, clash);
        }

        var defaults = ReadDefaults(attribute, symbol, diagnostics, cancellationToken);
        var methods = EventRules.Check(ParseMembers(symbol, new KnownTypes(compilation), diagnostics, defaults, cancellationToken), isEvents, diagnostics);

        if (diagnostics.HasErrors || accessibility is null) return null;

        return new ServiceModel
        {
            Namespace = Names.NamespaceOf(symbol),
            InterfaceType = symbol.ToDisplayString(SymbolFormats.Type),
            ServiceName = serviceName,
            Queue = queue,
            ClientName = clientName,
            DispatcherName = dispatcherName,
            DescriptorName = descriptorName,
            Accessibility = accessibility,
            HintName = Names.HintNameOf(symbol),
            Methods = NameClashes.ResolveMemberNames(symbol, clientName, methods)
                .Select(m => m.OneWay && m.TimeToLiveMilliseconds == 0 ? m with { TimeToLiveMilliseconds = ReadInt(attribute, "TimeToLiveMilliseconds") } : m)
                .ToEquatableArray(),
            Ordered = !isEvents && ReadBool(attribute, "Ordered"),
            Events = events,
        };
    }

    /// <summary>[RpcService(Queue = "...")] or the service name, checked against RabbitMQ's queue name rules.</summary>
    private static string ReadQueue(
        AttributeData? attribute, INamedTypeSymbol symbol, string serviceName, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        var queue = serviceName;
        var queueArgument = attribute?.NamedArguments.FirstOrDefault(a => a.Key == "Queue");
        if (queueArgument is { Key: not null } && queueArgument.Value.Value.Value is string explicitQueue)
        {
            queue = explicitQueue;
        }

        var queueProblem = Names.QueueNameProblem(queue);
        if (queueProblem is not null)
        {
            var location = attribute?.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? symbol.Locations.FirstOrDefault();
            diagnostics.Report(DiagnosticDescriptors.InvalidQueueName, location, queue, queueProblem);
        }

        return queue;
    }

    /// <summary>[RpcService(TimeoutMilliseconds = ...)] and the [RpcFault]s on the interface, for every method.</summary>
    private static ServiceDefaults ReadDefaults(
        AttributeData? attribute, INamedTypeSymbol symbol, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        int timeout = 0;
        foreach (var named in attribute?.NamedArguments ?? default)
        {
            if (named.Key == "TimeoutMilliseconds" && named.Value.Value is int milliseconds) timeout = milliseconds;
        }

        if (timeout < 0)
        {
            diagnostics.Report(DiagnosticDescriptors.InvalidTimeout, symbol.Locations.FirstOrDefault(), symbol.Name,
                timeout.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        bool valid = true;
        var faults = FaultParser.Read(symbol, diagnostics, cancellationToken, ref valid);
        return new ServiceDefaults(timeout, faults);
    }

    private static int ReadInt(AttributeData? attribute, string name) =>
        attribute?.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value is int value ? Math.Max(0, value) : 0;

    private static bool ReadBool(AttributeData? attribute, string name) =>
        attribute?.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value is true;

    /// <summary>The methods that can be generated, in declaration order; every other member is reported.</summary>
    private static List<(IMethodSymbol Symbol, MethodModel Model)> ParseMembers(
        INamedTypeSymbol symbol, KnownTypes known, DiagnosticBag diagnostics, ServiceDefaults defaults, CancellationToken cancellationToken)
    {
        var methods = new List<(IMethodSymbol Symbol, MethodModel Model)>();
        var wireNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in ServiceMembers(symbol))
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (member)
            {
                case { IsStatic: true }:
                    diagnostics.Report(DiagnosticDescriptors.UnsupportedMember, member.Locations.FirstOrDefault(), member.Name, "a static abstract member",
                        "remove it, or give it a body (static virtual) so the interface can still be used as a type argument");
                    break;
                case IMethodSymbol { MethodKind: MethodKind.Ordinary } method:
                    var model = MethodParser.Parse(method, known, diagnostics, defaults, cancellationToken);
                    if (model is null) break;
                    if (wireNames.TryGetValue(model.WireName, out var other))
                    {
                        diagnostics.Report(DiagnosticDescriptors.DuplicateWireName, method.Locations.FirstOrDefault(), other, method.Name, model.WireName);
                        break;
                    }

                    wireNames.Add(model.WireName, method.Name);
                    methods.Add((method, model));
                    break;
                case IPropertySymbol { IsIndexer: true } indexer:
                    diagnostics.Report(DiagnosticDescriptors.UnsupportedMember, indexer.Locations.FirstOrDefault(), "this[]", "an indexer",
                        "replace it with a method such as 'Task<T> GetAsync(TKey key)'");
                    break;
                case IPropertySymbol property:
                    diagnostics.Report(DiagnosticDescriptors.UnsupportedMember, property.Locations.FirstOrDefault(), property.Name, "a property",
                        "replace it with a method such as 'Task<T> Get" + property.Name + "Async()'");
                    break;
                case IEventSymbol @event:
                    diagnostics.Report(DiagnosticDescriptors.UnsupportedMember, @event.Locations.FirstOrDefault(), @event.Name, "an event",
                        "remove it; to notify the other side, call a one-way method ([RpcMethod(OneWay = true)]) of a service it serves");
                    break;
            }
        }

        return methods;
    }

    private static bool IsFirstMarkedPart(GeneratorAttributeSyntaxContext context, INamedTypeSymbol symbol, string attributeName)
    {
        if (symbol.DeclaringSyntaxReferences.Length < 2) return true;
        var first = symbol.GetAttributes()
            .FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == attributeName)?.ApplicationSyntaxReference;
        return first is null || (first.SyntaxTree == context.TargetNode.SyntaxTree && context.TargetNode.Span.Contains(first.Span));
    }

    /// <summary>Own members first, then those of every base interface; a diamond yields each method once.</summary>
    private static IEnumerable<ISymbol> ServiceMembers(INamedTypeSymbol service)
    {
        var seen = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (var type in new[] { service }.Concat(service.AllInterfaces))
        {
            foreach (var member in type.GetMembers())
            {
                // Default implementations are not part of the wire contract; static abstract members are reported.
                if (!member.IsAbstract) continue;
                if (member is IMethodSymbol { AssociatedSymbol: not null }) continue;
                if (seen.Add(member)) yield return member;
            }
        }
    }
}
