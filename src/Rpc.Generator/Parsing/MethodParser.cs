using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Model;

namespace RpcGen.Generator.Parsing;

/// <summary>
/// One interface method → a <see cref="MethodModel"/>: its return shape, what [RpcMethod] says about it and its
/// parameters. Reports every problem it finds in the method before giving up on it, so one build shows them all.
/// </summary>
internal static class MethodParser
{
    public static MethodModel? Parse(IMethodSymbol method, KnownTypes known, DiagnosticBag diagnostics, ServiceDefaults defaults,
        System.Threading.CancellationToken cancellationToken)
    {
        var location = method.Locations.FirstOrDefault();
        bool valid = true;

        if (method.IsGenericMethod)
        {
            diagnostics.Report(DiagnosticDescriptors.GenericMethod, location, method.Name);
            valid = false;
        }

        if (ReturnShape.Of(method.ReturnType, known) is not { } shape)
        {
            diagnostics.Report(DiagnosticDescriptors.UnsupportedReturnType, location, method.Name, method.ReturnType.ToDisplayString());
            return null;
        }

        var options = MethodOptions.Read(method);

        if (!Names.IsValidWireName(options.WireName))
        {
            diagnostics.Report(DiagnosticDescriptors.InvalidMethodName, location, options.WireName, method.Name);
            valid = false;
        }

        if (options.OneWay && shape.ResultType is not null)
        {
            diagnostics.Report(DiagnosticDescriptors.OneWayWithResult, location, method.Name, method.ReturnType.ToDisplayString());
            valid = false;
        }

        if (options.TimeoutMilliseconds < 0)
        {
            diagnostics.Report(DiagnosticDescriptors.InvalidTimeout, location, method.Name, options.TimeoutMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            valid = false;
        }

        var faults = MethodOptions.MayHaveAttributes(method)
            ? FaultParser.Read(method, diagnostics, cancellationToken, ref valid)
            : new List<FaultModel>();
        foreach (var fault in defaults.Faults)
        {
            if (faults.All(f => f.Type != fault.Type)) faults.Add(fault);
        }

        var parameters = ParameterParser.Parse(method, known, diagnostics, ref valid);
        if (!valid) return null;

        // Only where the user can add one: a method declared in a referenced assembly is not theirs to change.
        if (location is { IsInSource: true } && !parameters.Any(p => p.IsCancellationToken))
        {
            diagnostics.Report(DiagnosticDescriptors.NoCancellationToken, location, method.Name);
        }

        return new MethodModel
        {
            Name = Names.EscapeIdentifier(method.Name),
            WireName = options.WireName,
            ReturnKind = shape.Kind,
            ReturnType = method.ReturnType.ToDisplayString(SymbolFormats.Type),
            ResultType = shape.ResultType,
            ResultTypeOf = shape.ResultTypeOf,
            OneWay = options.OneWay,
            Parameters = parameters,
            TimeoutMilliseconds = options.TimeoutMilliseconds != 0 ? options.TimeoutMilliseconds : defaults.TimeoutMilliseconds,
            Faults = faults.ToEquatableArray(),
            TimeToLiveMilliseconds = options.OneWay ? options.TimeToLiveMilliseconds : 0,
        };
    }
}

/// <summary>Which awaitable a method returns, and the type of its result when it has one.</summary>
internal readonly record struct ReturnShape(ReturnKind Kind, string? ResultType, string? ResultTypeOf = null)
{
    /// <summary>The shape of a supported return type, or null when RPC methods cannot return it.</summary>
    public static ReturnShape? Of(ITypeSymbol returnType, KnownTypes known)
    {
        if (SymbolEqualityComparer.Default.Equals(returnType, known.Task)) return new ReturnShape(ReturnKind.Task, null);
        if (SymbolEqualityComparer.Default.Equals(returnType, known.ValueTask)) return new ReturnShape(ReturnKind.ValueTask, null);
        if (returnType is INamedTypeSymbol { IsGenericType: true } generic)
        {
            if (SymbolEqualityComparer.Default.Equals(generic.OriginalDefinition, known.TaskOfT))
            {
                return new ReturnShape(ReturnKind.TaskOfT, generic.TypeArguments[0].ToDisplayString(SymbolFormats.Type),
                    SymbolFormats.TypeOf(generic.TypeArguments[0]));
            }

            if (SymbolEqualityComparer.Default.Equals(generic.OriginalDefinition, known.ValueTaskOfT))
            {
                return new ReturnShape(ReturnKind.ValueTaskOfT, generic.TypeArguments[0].ToDisplayString(SymbolFormats.Type),
                    SymbolFormats.TypeOf(generic.TypeArguments[0]));
            }

            if (SymbolEqualityComparer.Default.Equals(generic.OriginalDefinition, known.AsyncEnumerableOfT))
            {
                return new ReturnShape(ReturnKind.AsyncEnumerable, generic.TypeArguments[0].ToDisplayString(SymbolFormats.Type),
                    SymbolFormats.TypeOf(generic.TypeArguments[0]));
            }
        }

        return null;
    }
}

/// <summary>What [RpcMethod] sets on a method, or the defaults when it has none.</summary>
internal readonly record struct MethodOptions(string WireName, bool OneWay, int TimeoutMilliseconds, int TimeToLiveMilliseconds)
{
    public static MethodOptions Read(IMethodSymbol method)
    {
        var wireName = Names.DefaultWireName(method.Name);
        bool oneWay = false;
        int timeout = 0;
        int timeToLive = 0;
        var attribute = MayHaveAttributes(method)
            ? method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == AttributeNames.RpcMethod)
            : null;
        if (attribute is not null)
        {
            if (attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string explicitName)
            {
                wireName = explicitName;
            }

            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key == "OneWay" && named.Value.Value is bool flag) oneWay = flag;
                if (named.Key == "TimeoutMilliseconds" && named.Value.Value is int milliseconds) timeout = milliseconds;
                if (named.Key == "TimeToLiveMilliseconds" && named.Value.Value is int ttl) timeToLive = Math.Max(0, ttl);
            }
        }

        return new MethodOptions(wireName, oneWay, timeout, timeToLive);
    }

    /// <summary>
    /// Binding attributes is a large share of parsing, which reruns for every service on every edit; a method declared
    /// in source without an attribute list has none to bind.
    /// </summary>
    internal static bool MayHaveAttributes(IMethodSymbol method)
    {
        var declarations = method.DeclaringSyntaxReferences;
        if (declarations.Length == 0) return true;
        foreach (var declaration in declarations)
        {
            if (declaration.GetSyntax() is not MethodDeclarationSyntax { AttributeLists.Count: 0 }) return true;
        }

        return false;
    }
}

/// <summary>What [RpcService] and the interface's [RpcFault]s give every method that does not say otherwise.</summary>
internal sealed record ServiceDefaults(int TimeoutMilliseconds, List<FaultModel> Faults);
