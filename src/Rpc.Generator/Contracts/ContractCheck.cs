using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Model;
using RpcGen.Generator.Parsing;

namespace RpcGen.Generator.Contracts;

/// <summary>
/// Compares the services of one compilation with RpcContracts.Shipped.txt by the evolution rules of
/// docs/wire-format.md: what would break a peer built against the shipped contract is a warning on the member that
/// breaks it; what is new or changed compatibly is a suggestion giving the line to ship. One instance per compilation:
/// services are checked as the analyzer meets them, what is gone once every service has been seen.
/// </summary>
internal sealed class ContractCheck
{
    private readonly ShippedContract _shipped;
    private readonly ConcurrentDictionary<string, bool> _accountedFor = new();
    private readonly ConcurrentDictionary<string, Location> _serviceLocations = new();
    private volatile bool _sawBrokenService;

    public ContractCheck(ShippedContract shipped) => _shipped = shipped;

    /// <summary>A service with errors is not compared; nothing it shipped is called removed while it has them.</summary>
    public void SkipBrokenService() => _sawBrokenService = true;

    public void Check(ServiceModel service, INamedTypeSymbol symbol, DiagnosticBag diagnostics)
    {
        var interfaceLocation = symbol.Locations.FirstOrDefault();
        if (interfaceLocation is not null) _serviceLocations.TryAdd(service.Queue, interfaceLocation);
        var shipped = _shipped.MethodsOf(service.Queue);
        var symbols = MethodsByWireName(symbol);
        var current = new HashSet<string>(service.Methods.Select(m => m.WireName));

        foreach (var method in service.Methods)
        {
            var contract = ContractMethod.From(service, method);
            symbols.TryGetValue(method.WireName, out var methodSymbol);
            var location = methodSymbol?.Locations.FirstOrDefault();
            var displayName = service.ServiceName + "." + method.WireName;
            if (shipped.TryGetValue(method.WireName, out var before))
            {
                _accountedFor[contract.Key] = true;
                if (!CompareShape(before.Method, contract, displayName, methodSymbol, location, diagnostics) && before.Method.ToString() != contract.ToString())
                {
                    diagnostics.Report(DiagnosticDescriptors.NotInShippedContract, location, LineToShip(contract), displayName,
                        "compatibly changed from its line in", "replace that line with", contract.ToString());
                }

                continue;
            }

            // An [RpcMethod] name on a method whose default wire name shipped: the attribute changed the wire name.
            var defaultName = methodSymbol is null ? null : Names.DefaultWireName(methodSymbol.Name);
            if (defaultName is not null && defaultName != method.WireName && !current.Contains(defaultName) && shipped.ContainsKey(defaultName))
            {
                _accountedFor[service.Queue + " " + defaultName] = true;
                diagnostics.Report(DiagnosticDescriptors.ShippedWireNameChanged, location,
                    ImmutableDictionary<string, string?>.Empty.Add(ShippedWireNameProperty, defaultName), methodSymbol!.Name, method.WireName, defaultName);
                continue;
            }

            diagnostics.Report(DiagnosticDescriptors.NotInShippedContract, location, LineToShip(contract), displayName, "not yet in", "add the line", contract.ToString());
        }
    }

    /// <summary>RPCGEN026's property for its code fix: the wire name to keep.</summary>
    public const string ShippedWireNameProperty = "ShippedWireName";

    /// <summary>RPCGEN030's properties for its code fix: the line, and the key of the line it replaces.</summary>
    public const string LineProperty = "ContractLine";
    public const string KeyProperty = "ContractKey";

    private static ImmutableDictionary<string, string?> LineToShip(ContractMethod contract) =>
        ImmutableDictionary<string, string?>.Empty.Add(LineProperty, contract.ToString()).Add(KeyProperty, contract.Key);

    /// <summary>Reports every way <paramref name="now"/> breaks <paramref name="before"/>; true when there was one.</summary>
    private static bool CompareShape(ContractMethod before, ContractMethod now, string displayName, IMethodSymbol? method, Location? location,
        DiagnosticBag diagnostics)
    {
        bool broken = false;
        if (before.Result != now.Result)
        {
            diagnostics.Report(DiagnosticDescriptors.ShippedShapeChanged, location, "The result", displayName, now.Result, before.Result);
            broken = true;
        }

        // A bare-value body is read as the first argument, so the first parameter must stay first.
        if (before.Parameters.Count > 0 && now.Parameters.Count > 0 && before.Parameters[0].Name != now.Parameters[0].Name
            && now.Find(before.Parameters[0].Name) is not null)
        {
            diagnostics.Report(DiagnosticDescriptors.ShippedShapeChanged, ParameterLocation(method, now.Parameters[0].Name) ?? location,
                "The first parameter", displayName, now.Parameters[0].Name, before.Parameters[0].Name);
            broken = true;
        }

        foreach (var old in before.Parameters)
        {
            var parameter = now.Find(old.Name);
            if (parameter is null)
            {
                diagnostics.Report(DiagnosticDescriptors.ShippedParameterRemoved, location, displayName, old.Name);
                broken = true;
            }
            else if (parameter.Type != old.Type || parameter.IsParams != old.IsParams || (old.Default is not null && parameter.Default is not null && old.Default != parameter.Default))
            {
                diagnostics.Report(DiagnosticDescriptors.ShippedShapeChanged, ParameterLocation(method, old.Name) ?? location,
                    "Parameter '" + old.Name + "'", displayName, parameter.Shape, old.Shape);
                broken = true;
            }
            else if (old.IsOptional && !parameter.IsOptional)
            {
                diagnostics.Report(DiagnosticDescriptors.ShippedRequiredParameterAdded, ParameterLocation(method, old.Name) ?? location,
                    old.Name, displayName, "RpcContracts.Shipped.txt ships it optional");
                broken = true;
            }
        }

        foreach (var parameter in now.Parameters)
        {
            if (before.Find(parameter.Name) is null && !parameter.IsOptional)
            {
                diagnostics.Report(DiagnosticDescriptors.ShippedRequiredParameterAdded, ParameterLocation(method, parameter.Name) ?? location,
                    parameter.Name, displayName, "it is not in RpcContracts.Shipped.txt");
                broken = true;
            }
        }

        return broken;
    }

    /// <summary>What only the whole compilation tells: shipped methods no service has, and lines that could not be read.</summary>
    public IEnumerable<Diagnostic> Finish()
    {
        foreach (var (location, line) in _shipped.UnreadableLines)
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.UnreadableShippedLine, location, line);
        }

        if (_sawBrokenService) yield break;
        foreach (var shipped in _shipped.Methods)
        {
            if (_accountedFor.ContainsKey(shipped.Method.Key)) continue;
            // On the interface that lost the method, where #pragma reaches it; on the file's line when the service is gone too.
            var location = _serviceLocations.TryGetValue(shipped.Method.Queue, out var service) ? service : shipped.Location;
            yield return Diagnostic.Create(DiagnosticDescriptors.ShippedMethodRemoved, location, shipped.Method.WireName, shipped.Method.Queue);
        }
    }

    private static Location? ParameterLocation(IMethodSymbol? method, string name) =>
        method?.Parameters.FirstOrDefault(p => p.Name == name)?.Locations.FirstOrDefault();

    /// <summary>The interface's methods and those it inherits, by wire name, for locations.</summary>
    private static Dictionary<string, IMethodSymbol> MethodsByWireName(INamedTypeSymbol symbol)
    {
        var methods = new Dictionary<string, IMethodSymbol>();
        foreach (var type in new[] { symbol }.Concat(symbol.AllInterfaces))
        {
            foreach (var member in type.GetMembers())
            {
                if (member is not IMethodSymbol { MethodKind: MethodKind.Ordinary, IsAbstract: true, IsStatic: false } method) continue;
                var wireName = MethodOptions.Read(method).WireName;
                if (!methods.ContainsKey(wireName)) methods.Add(wireName, method);
            }
        }

        return methods;
    }
}
