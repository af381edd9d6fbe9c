using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using RpcGen.Generator.Diagnostics;

namespace RpcGen.Generator.Parsing;

/// <summary>
/// <c>[RpcService(JsonContext = typeof(X))]</c>: every type a call serialises (parameters, results) must be one the
/// context can serialise, or a trimmed or AOT app fails at that method's first call instead of at compile time. A type
/// counts as covered when it is a <c>[JsonSerializable]</c> root of the context or reachable from one the way
/// System.Text.Json's source generator reaches it: array elements, type arguments (List&lt;T&gt;, Dictionary&lt;K, V&gt;,
/// Nullable&lt;T&gt;) and public instance properties of the user's own types.
/// </summary>
internal static class JsonContextCoverage
{
    private const string ContextBase = "System.Text.Json.Serialization.JsonSerializerContext";
    private const string SerializableAttribute = "System.Text.Json.Serialization.JsonSerializableAttribute";

    public static void Check(INamedTypeSymbol service, AttributeData serviceAttribute, Compilation compilation, DiagnosticBag diagnostics, System.Threading.CancellationToken cancellationToken)
    {
        var argument = serviceAttribute.NamedArguments.FirstOrDefault(a => a.Key == "JsonContext");
        if (argument.Key is null || argument.Value.Value is not INamedTypeSymbol context) return;

        var attributeLocation = serviceAttribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation();
        if (!DerivesFrom(context, compilation.GetTypeByMetadataName(ContextBase)))
        {
            diagnostics.Report(DiagnosticDescriptors.JsonContextNotAContext, attributeLocation, context.ToDisplayString(), service.Name);
            return;
        }

        var covered = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        foreach (var attribute in context.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == SerializableAttribute
                && attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is ITypeSymbol root)
            {
                Reach(root, covered);
            }
        }

        var cancellationTokenType = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        var known = new KnownTypes(compilation);
        var contextName = context.ToDisplayString();
        foreach (var method in new[] { service }.Concat(service.AllInterfaces).SelectMany(t => t.GetMembers()).OfType<IMethodSymbol>())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (method.MethodKind != MethodKind.Ordinary || !method.IsAbstract) continue;
            foreach (var parameter in method.Parameters)
            {
                if (SymbolEqualityComparer.Default.Equals(parameter.Type, cancellationTokenType) || IsCovered(parameter.Type, covered)) continue;
                diagnostics.Report(DiagnosticDescriptors.JsonContextGap, parameter.Locations.FirstOrDefault(),
                    parameter.Type.ToDisplayString(), "parameter '" + parameter.Name + "' of method '" + method.Name + "'", contextName);
            }

            if (method.ReturnType is INamedTypeSymbol { IsGenericType: true } returnType
                && (SymbolEqualityComparer.Default.Equals(returnType.OriginalDefinition, known.TaskOfT)
                    || SymbolEqualityComparer.Default.Equals(returnType.OriginalDefinition, known.ValueTaskOfT)
                    || SymbolEqualityComparer.Default.Equals(returnType.OriginalDefinition, known.AsyncEnumerableOfT))
                && !IsCovered(returnType.TypeArguments[0], covered))
            {
                diagnostics.Report(DiagnosticDescriptors.JsonContextGap, method.Locations.FirstOrDefault(),
                    returnType.TypeArguments[0].ToDisplayString(), "the result of method '" + method.Name + "'", contextName);
            }
        }
    }

    private static bool IsCovered(ITypeSymbol type, HashSet<ITypeSymbol> covered) =>
        covered.Contains(type)
        || type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable && covered.Contains(nullable.TypeArguments[0]);

    private static void Reach(ITypeSymbol type, HashSet<ITypeSymbol> covered)
    {
        if (!covered.Add(type)) return;
        switch (type)
        {
            case IArrayTypeSymbol array:
                Reach(array.ElementType, covered);
                return;
            case INamedTypeSymbol named:
                foreach (var argument in named.TypeArguments) Reach(argument, covered);
                if (named.ContainingNamespace?.ToDisplayString() is { } ns && (ns == "System" || ns.StartsWith("System.", System.StringComparison.Ordinal))) return;
                for (var current = named; current is not null; current = current.BaseType)
                {
                    foreach (var property in current.GetMembers().OfType<IPropertySymbol>())
                    {
                        if (!property.IsStatic && !property.IsIndexer && property.DeclaredAccessibility == Accessibility.Public) Reach(property.Type, covered);
                    }
                }

                return;
        }
    }

    private static bool DerivesFrom(INamedTypeSymbol type, INamedTypeSymbol? baseType)
    {
        if (baseType is null) return false;
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, baseType)) return true;
        }

        return false;
    }
}
