using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Model;

namespace RpcGen.Generator.Parsing;

/// <summary>
/// What makes an [RpcEvents] interface different from a service: its exchange, events that return nothing, and at
/// most one [RpcRoutingKey] string parameter per event. A [RpcRoutingKey] on a service method is reported too.
/// </summary>
internal static class EventRules
{
    /// <summary>The exchange and its type from [RpcEvents]; the exchange name checked like a queue name.</summary>
    public static EventsModel Read(AttributeData? attribute, string serviceName, Location? location, DiagnosticBag diagnostics)
    {
        var exchange = serviceName;
        int type = 2;
        foreach (var named in attribute?.NamedArguments ?? Enumerable.Empty<KeyValuePair<string, TypedConstant>>())
        {
            if (named.Key == "Exchange" && named.Value.Value is string explicitExchange) exchange = explicitExchange;
            if (named.Key == "Type" && named.Value.Value is int explicitType) type = explicitType;
        }

        var problem = Names.QueueNameProblem(exchange);
        if (problem is not null) diagnostics.Report(DiagnosticDescriptors.InvalidExchangeName, location, exchange, problem);
        var typeName = type switch { 0 => "Fanout", 1 => "Direct", _ => "Topic" };
        return new EventsModel { Exchange = exchange, ExchangeType = typeName };
    }

    /// <summary>Reports what an event may not be; returns the methods as events (one-way, so failures are retried and dead-lettered).</summary>
    public static List<(IMethodSymbol Symbol, MethodModel Model)> Check(List<(IMethodSymbol Symbol, MethodModel Model)> methods, bool isEvents,
        DiagnosticBag diagnostics)
    {
        var checkedMethods = new List<(IMethodSymbol Symbol, MethodModel Model)>(methods.Count);
        foreach (var (symbol, model) in methods)
        {
            var location = symbol.Locations.FirstOrDefault();
            var keys = model.Parameters.Where(p => p.IsRoutingKey).ToList();
            if (!isEvents)
            {
                if (keys.Count > 0) diagnostics.Report(DiagnosticDescriptors.RoutingKeyOutsideEvents, location, keys[0].WireName, symbol.Name);
                checkedMethods.Add((symbol, model));
                continue;
            }

            if (model.ResultType is not null)
            {
                diagnostics.Report(DiagnosticDescriptors.EventWithResult, location, symbol.Name, symbol.ReturnType.ToDisplayString());
            }

            if (keys.Count > 1) diagnostics.Report(DiagnosticDescriptors.SeveralRoutingKeys, location, symbol.Name);
            foreach (var key in keys)
            {
                if (key.Type != "string") diagnostics.Report(DiagnosticDescriptors.RoutingKeyNotString, location, key.WireName, symbol.Name, key.Type);
            }

            checkedMethods.Add((symbol, model with { OneWay = true, TimeToLiveMilliseconds = 0 }));
        }

        return checkedMethods;
    }
}
