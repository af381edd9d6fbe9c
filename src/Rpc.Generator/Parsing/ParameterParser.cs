using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Model;

namespace RpcGen.Generator.Parsing;

/// <summary>A method's parameters → <see cref="ParameterModel"/>s: which can travel, and what a request may leave out.</summary>
internal static class ParameterParser
{
    /// <summary>The parameters that can be generated; clears <paramref name="valid"/> when any cannot.</summary>
    public static EquatableArray<ParameterModel> Parse(IMethodSymbol method, KnownTypes known, DiagnosticBag diagnostics, ref bool valid)
    {
        var location = method.Locations.FirstOrDefault();
        var parameters = new List<ParameterModel>();
        int cancellationTokens = 0;
        foreach (var parameter in method.Parameters)
        {
            var parameterLocation = parameter.Locations.FirstOrDefault() ?? location;
            if (parameter.RefKind != RefKind.None)
            {
                diagnostics.Report(DiagnosticDescriptors.ByRefParameter, parameterLocation, parameter.Name, method.Name, RefKindText(parameter.RefKind));
                valid = false;
                continue;
            }

            if (UnsendableTypeReason(parameter.Type) is { } reason)
            {
                diagnostics.Report(DiagnosticDescriptors.UnsupportedParameterType, parameterLocation,
                    parameter.Name, method.Name, parameter.Type.ToDisplayString(), reason);
                valid = false;
                continue;
            }

            bool isToken = SymbolEqualityComparer.Default.Equals(parameter.Type, known.CancellationToken);
            if (isToken && ++cancellationTokens == 2)
            {
                diagnostics.Report(DiagnosticDescriptors.SeveralCancellationTokens, parameterLocation, method.Name);
                valid = false;
            }

            parameters.Add(new ParameterModel
            {
                Identifier = Names.EscapeIdentifier(parameter.Name),
                WireName = parameter.Name,
                Type = parameter.Type.ToDisplayString(SymbolFormats.Type),
                TypeOf = SymbolFormats.TypeOf(parameter.Type),
                IsCancellationToken = isToken,
                IsParams = parameter.IsParams,
                IsNotNull = parameter.Type.IsReferenceType && parameter.NullableAnnotation == NullableAnnotation.NotAnnotated,
                DefaultValue = parameter.HasExplicitDefaultValue ? CSharpLiterals.DefaultValue(parameter) : null,
                EmptyParamsValue = parameter.IsParams ? EmptyCollection(parameter.Type) : null,
                IsRoutingKey = parameter.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == AttributeNames.RoutingKey),
            });
        }

        return parameters.ToEquatableArray();
    }

    /// <summary>Why a value of this type cannot be an argument of a generated call, or null when it can.</summary>
    private static string? UnsendableTypeReason(ITypeSymbol type) => type switch
    {
        { IsRefLikeType: true } => "it is a ref struct, which cannot be serialised or kept across an await; use an array or List<T>",
        { TypeKind: TypeKind.Pointer or TypeKind.FunctionPointer } => "pointers have no meaning in another process; send the data they point to",
        _ => null,
    };

    /// <summary>What a params parameter gets when the request leaves it out: an empty array or collection.</summary>
    private static string EmptyCollection(ITypeSymbol type) =>
        type is IArrayTypeSymbol array
            ? "global::System.Array.Empty<" + array.ElementType.ToDisplayString(SymbolFormats.Type) + ">()"
            : "[]";

    private static string RefKindText(RefKind kind) => kind switch
    {
        RefKind.Ref => "ref",
        RefKind.Out => "out",
        RefKind.In => "in",
        _ => "ref readonly",
    };
}
