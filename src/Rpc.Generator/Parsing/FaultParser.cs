using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Model;

namespace RpcGen.Generator.Parsing;

/// <summary>
/// [RpcFault(typeof(X))] on a method or an interface → a <see cref="FaultModel"/>: which properties of X travel in the
/// error reply's <c>data</c> object, and which public constructor (its parameters named after those properties, or
/// <c>message</c>) builds X again on the caller's side.
/// </summary>
internal static class FaultParser
{
    /// <summary>The faults declared on <paramref name="symbol"/>, in declaration order; each bad one is reported.</summary>
    public static List<FaultModel> Read(ISymbol symbol, DiagnosticBag diagnostics, CancellationToken cancellationToken, ref bool valid)
    {
        var faults = new List<FaultModel>();
        foreach (var attribute in symbol.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() != AttributeNames.RpcFault) continue;
            var location = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? symbol.Locations.FirstOrDefault();
            if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not INamedTypeSymbol type)
            {
                // typeof(...) of something that is not a named type (an error type is reported by the compiler itself).
                continue;
            }

            var fault = Parse(type, out var problem);
            if (fault is null)
            {
                diagnostics.Report(DiagnosticDescriptors.InvalidFaultType, location, type.ToDisplayString(), problem!);
                valid = false;
                continue;
            }

            if (faults.All(f => f.Type != fault.Type)) faults.Add(fault);
        }

        return faults;
    }

    private static FaultModel? Parse(INamedTypeSymbol type, out string? problem)
    {
        problem = null;
        if (!DerivesFromException(type))
        {
            problem = "it does not derive from System.Exception; declare an exception type";
            return null;
        }

        if (type.IsAbstract || type.IsGenericType)
        {
            problem = "the caller must be able to create it, so it cannot be abstract or generic; declare a concrete exception type";
            return null;
        }

        var properties = PublicProperties(type);
        IMethodSymbol? best = null;
        List<string>? bestArguments = null;
        foreach (var constructor in type.InstanceConstructors)
        {
            if (constructor.DeclaredAccessibility != Accessibility.Public) continue;
            var arguments = Arguments(constructor, properties);
            if (arguments is null) continue;
            if (best is null || constructor.Parameters.Length > best.Parameters.Length)
            {
                best = constructor;
                bestArguments = arguments;
            }
        }

        if (best is null)
        {
            problem = "it has no public constructor whose parameters are all named after its public properties (or 'message'); add one, " +
                "e.g. (string sku, int requested) for properties Sku and Requested";
            return null;
        }

        var taken = new HashSet<string>(best.Parameters.Select(p => p.Name), StringComparer.OrdinalIgnoreCase);
        var initialized = properties
            .Where(p => !taken.Contains(p.Name) && p.SetMethod is { DeclaredAccessibility: Accessibility.Public })
            .Select(Model)
            .ToList();
        return new FaultModel
        {
            Type = type.ToDisplayString(SymbolFormats.Type),
            Properties = properties.Select(Model).ToEquatableArray(),
            ConstructorArguments = bestArguments!.ToEquatableArray(),
            Initialized = initialized.ToEquatableArray(),
        };
    }

    /// <summary>How each constructor parameter is read from the reply, or null when one names no property.</summary>
    private static List<string>? Arguments(IMethodSymbol constructor, List<IPropertySymbol> properties)
    {
        var arguments = new List<string>();
        foreach (var parameter in constructor.Parameters)
        {
            if (parameter.RefKind != RefKind.None) return null;
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, parameter.Name, StringComparison.OrdinalIgnoreCase)
                && SymbolEqualityComparer.Default.Equals(p.Type.WithNullableAnnotation(NullableAnnotation.None), parameter.Type.WithNullableAnnotation(NullableAnnotation.None)));
            if (property is not null)
            {
                arguments.Add("reader.Read<" + parameter.Type.ToDisplayString(SymbolFormats.Type) + ">(" + Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(property.Name, quote: true) + ")");
            }
            else if (string.Equals(parameter.Name, "message", StringComparison.OrdinalIgnoreCase) && parameter.Type.SpecialType == SpecialType.System_String)
            {
                arguments.Add("reader.Message");
            }
            else
            {
                return null;
            }
        }

        return arguments;
    }

    /// <summary>Public readable instance properties declared below System.Exception, most derived first, each name once.</summary>
    private static List<IPropertySymbol> PublicProperties(INamedTypeSymbol type)
    {
        var properties = new List<IPropertySymbol>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var current = type; current is not null && !IsException(current); current = current.BaseType)
        {
            foreach (var member in current.GetMembers().OfType<IPropertySymbol>())
            {
                if (member.IsStatic || member.IsIndexer || member.DeclaredAccessibility != Accessibility.Public) continue;
                if (member.GetMethod is not { DeclaredAccessibility: Accessibility.Public }) continue;
                if (names.Add(member.Name)) properties.Add(member);
            }
        }

        return properties;
    }

    private static FaultProperty Model(IPropertySymbol property) =>
        new() { Name = property.Name, Type = property.Type.ToDisplayString(SymbolFormats.Type), TypeOf = SymbolFormats.TypeOf(property.Type) };

    private static bool DerivesFromException(INamedTypeSymbol type)
    {
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (IsException(current)) return true;
        }

        return false;
    }

    private static bool IsException(INamedTypeSymbol type) => type.ToDisplayString() == "System.Exception";
}
