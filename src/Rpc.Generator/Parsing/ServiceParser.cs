using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Model;

namespace RpcGen.Generator.Parsing;

/// <summary>
/// Turns one [RpcService] interface symbol into a <see cref="ServiceModel"/> and diagnostics. Every decision the
/// emitters need (names, wire names, queue, type strings, default values) is made here.
/// </summary>
internal static class ServiceParser
{
    public const string ServiceAttributeName = "RpcGen.RpcServiceAttribute";
    private const string MethodAttributeName = "RpcGen.RpcMethodAttribute";

    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var symbol = (INamedTypeSymbol)context.TargetSymbol;

        // [RpcService] on two parts of a partial interface (already error CS0579) reaches here once per part;
        // answering for the first part only keeps one generated file per interface.
        if (!IsFirstMarkedPart(context, symbol)) return ParseResult.Nothing;

        var diagnostics = new List<DiagnosticInfo>();
        var interfaceLocation = LocationInfo.From(symbol.Locations.FirstOrDefault());

        void Report(DiagnosticDescriptor descriptor, Location? location, params string[] args) =>
            diagnostics.Add(new DiagnosticInfo(descriptor.Id, LocationInfo.From(location) ?? interfaceLocation, args.ToEquatableArray()));

        if (IsGenericOrInGeneric(symbol))
        {
            Report(DiagnosticDescriptors.GenericInterface, symbol.Locations.FirstOrDefault(), symbol.Name);
        }

        var accessibility = EffectiveAccessibility(symbol, out var hiddenBy);
        if (accessibility is null)
        {
            Report(DiagnosticDescriptors.InaccessibleInterface, symbol.Locations.FirstOrDefault(), symbol.Name, hiddenBy);
        }

        var serviceName = ServiceNameOf(symbol.Name);
        var queue = serviceName;
        var attribute = context.Attributes.FirstOrDefault();
        var queueArgument = attribute?.NamedArguments.FirstOrDefault(a => a.Key == "Queue");
        if (queueArgument is { Key: not null } && queueArgument.Value.Value.Value is string explicitQueue)
        {
            queue = explicitQueue;
        }

        var queueProblem = QueueNameProblem(queue);
        if (queueProblem is not null)
        {
            var location = attribute?.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? symbol.Locations.FirstOrDefault();
            Report(DiagnosticDescriptors.InvalidQueueName, location, queue, queueProblem);
        }

        var typeName = GeneratedTypeBaseName(symbol);
        var clientName = typeName + "Client";
        var dispatcherName = typeName + "Dispatcher";
        var descriptorName = typeName + "RpcDescriptor";
        foreach (var (generated, clash) in GeneratedNameClashes(symbol, typeName, clientName, dispatcherName, descriptorName))
        {
            Report(DiagnosticDescriptors.GeneratedNameClash, symbol.Locations.FirstOrDefault(), generated, clash);
        }

        var compilation = context.SemanticModel.Compilation;
        var known = new KnownTypes(compilation);
        var methods = new List<(IMethodSymbol Symbol, MethodModel Model)>();
        var wireNames = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var member in ServiceMembers(symbol))
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (member)
            {
                case { IsStatic: true }:
                    Report(DiagnosticDescriptors.UnsupportedMember, member.Locations.FirstOrDefault(), member.Name, "a static abstract member",
                        "remove it, or give it a body (static virtual) so the interface can still be used as a type argument");
                    break;
                case IMethodSymbol { MethodKind: MethodKind.Ordinary } method:
                    var model = ParseMethod(method, known, Report);
                    if (model is null) break;
                    if (wireNames.TryGetValue(model.WireName, out var other))
                    {
                        Report(DiagnosticDescriptors.DuplicateWireName, method.Locations.FirstOrDefault(), other, method.Name, model.WireName);
                        break;
                    }

                    wireNames.Add(model.WireName, method.Name);
                    methods.Add((method, model));
                    break;
                case IPropertySymbol { IsIndexer: true } indexer:
                    Report(DiagnosticDescriptors.UnsupportedMember, indexer.Locations.FirstOrDefault(), "this[]", "an indexer",
                        "replace it with a method such as 'Task<T> GetAsync(TKey key)'");
                    break;
                case IPropertySymbol property:
                    Report(DiagnosticDescriptors.UnsupportedMember, property.Locations.FirstOrDefault(), property.Name, "a property",
                        "replace it with a method such as 'Task<T> Get" + property.Name + "Async()'");
                    break;
                case IEventSymbol @event:
                    Report(DiagnosticDescriptors.UnsupportedMember, @event.Locations.FirstOrDefault(), @event.Name, "an event",
                        "remove it; to notify the other side, call a one-way method ([RpcMethod(OneWay = true)]) of a service it serves");
                    break;
            }
        }

        var result = diagnostics.ToEquatableArray();
        if (diagnostics.Count > 0 || accessibility is null)
        {
            return new ParseResult(null, result);
        }

        var service = new ServiceModel(
            Namespace: NamespaceOf(symbol),
            InterfaceType: symbol.ToDisplayString(s_typeFormat),
            ServiceName: serviceName,
            Queue: queue,
            ClientName: clientName,
            DispatcherName: dispatcherName,
            DescriptorName: descriptorName,
            Accessibility: accessibility,
            HintName: HintNameOf(symbol),
            Methods: ResolveMemberNameClashes(symbol, clientName, methods).ToEquatableArray());
        return new ParseResult(service, result);
    }

    private static MethodModel? ParseMethod(IMethodSymbol method, KnownTypes known, Action<DiagnosticDescriptor, Location?, string[]> report)
    {
        var location = method.Locations.FirstOrDefault();
        bool valid = true;

        if (method.IsGenericMethod)
        {
            report(DiagnosticDescriptors.GenericMethod, location, new[] { method.Name });
            valid = false;
        }

        var returnType = method.ReturnType;
        ReturnKind kind;
        string? resultType = null;
        if (SymbolEqualityComparer.Default.Equals(returnType, known.Task)) kind = ReturnKind.Task;
        else if (SymbolEqualityComparer.Default.Equals(returnType, known.ValueTask)) kind = ReturnKind.ValueTask;
        else if (returnType is INamedTypeSymbol { IsGenericType: true } generic
                 && SymbolEqualityComparer.Default.Equals(generic.OriginalDefinition, known.TaskOfT))
        {
            kind = ReturnKind.TaskOfT;
            resultType = generic.TypeArguments[0].ToDisplayString(s_typeFormat);
        }
        else if (returnType is INamedTypeSymbol { IsGenericType: true } genericValueTask
                 && SymbolEqualityComparer.Default.Equals(genericValueTask.OriginalDefinition, known.ValueTaskOfT))
        {
            kind = ReturnKind.ValueTaskOfT;
            resultType = genericValueTask.TypeArguments[0].ToDisplayString(s_typeFormat);
        }
        else
        {
            report(DiagnosticDescriptors.UnsupportedReturnType, location, new[] { method.Name, returnType.ToDisplayString() });
            return null;
        }

        var wireName = DefaultWireName(method.Name);
        bool oneWay = false;
        var methodAttribute = MayHaveAttributes(method)
            ? method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == MethodAttributeName)
            : null;
        if (methodAttribute is not null)
        {
            if (methodAttribute.ConstructorArguments.Length == 1 && methodAttribute.ConstructorArguments[0].Value is string explicitName)
            {
                wireName = explicitName;
            }

            foreach (var named in methodAttribute.NamedArguments)
            {
                if (named.Key == "OneWay" && named.Value.Value is bool flag) oneWay = flag;
            }
        }

        if (!IsValidWireName(wireName))
        {
            report(DiagnosticDescriptors.InvalidMethodName, location, new[] { wireName, method.Name });
            valid = false;
        }

        if (oneWay && resultType is not null)
        {
            report(DiagnosticDescriptors.OneWayWithResult, location, new[] { method.Name, returnType.ToDisplayString() });
            valid = false;
        }

        var parameters = new List<ParameterModel>();
        int cancellationTokens = 0;
        foreach (var parameter in method.Parameters)
        {
            var parameterLocation = parameter.Locations.FirstOrDefault() ?? location;
            if (parameter.RefKind != RefKind.None)
            {
                report(DiagnosticDescriptors.ByRefParameter, parameterLocation, new[] { parameter.Name, method.Name, RefKindText(parameter.RefKind) });
                valid = false;
                continue;
            }

            if (UnsendableTypeReason(parameter.Type) is { } reason)
            {
                report(DiagnosticDescriptors.UnsupportedParameterType, parameterLocation,
                    new[] { parameter.Name, method.Name, parameter.Type.ToDisplayString(), reason });
                valid = false;
                continue;
            }

            bool isToken = SymbolEqualityComparer.Default.Equals(parameter.Type, known.CancellationToken);
            if (isToken && ++cancellationTokens == 2)
            {
                report(DiagnosticDescriptors.SeveralCancellationTokens, parameterLocation, new[] { method.Name });
                valid = false;
            }

            parameters.Add(new ParameterModel(
                Identifier: EscapeIdentifier(parameter.Name),
                WireName: parameter.Name,
                Type: parameter.Type.ToDisplayString(s_typeFormat),
                IsCancellationToken: isToken,
                IsParams: parameter.IsParams,
                IsNotNull: parameter.Type.IsReferenceType && parameter.NullableAnnotation == NullableAnnotation.NotAnnotated,
                DefaultValue: parameter.HasExplicitDefaultValue ? DefaultValueLiteral(parameter) : null,
                EmptyParamsValue: parameter.IsParams ? EmptyCollection(parameter.Type) : null));
        }

        if (!valid) return null;

        return new MethodModel(
            Name: EscapeIdentifier(method.Name),
            WireName: wireName,
            ReturnKind: kind,
            ReturnType: returnType.ToDisplayString(s_typeFormat),
            ResultType: resultType,
            OneWay: oneWay,
            Parameters: parameters.ToEquatableArray(),
            ExplicitInterface: null,
            CallThrough: null);
    }

    /// <summary>
    /// Implementing every method as a public member of the client fails to compile when two methods share a C#
    /// signature (inherited from two bases, or hidden with 'new'), or when a name is taken by the client itself or by
    /// object (Equals, ToString...). Those methods are implemented explicitly instead, and the dispatcher calls
    /// methods that share a signature through their declaring interface so the call is not ambiguous.
    /// </summary>
    private static IEnumerable<MethodModel> ResolveMemberNameClashes(INamedTypeSymbol service, string clientName, List<(IMethodSymbol Symbol, MethodModel Model)> methods)
    {
        var bySignature = methods.GroupBy(m => SignatureKey(m.Symbol)).ToDictionary(g => g.Key, g => g.Count());
        var implicitSignatures = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (symbol, model) in methods)
        {
            var declaring = symbol.ContainingType.ToDisplayString(s_typeFormat);
            var key = SignatureKey(symbol);
            bool reservedName = s_clientReservedNames.Contains(symbol.Name) || symbol.Name == clientName;
            bool explicitImplementation = reservedName || !implicitSignatures.Add(key);
            bool shared = bySignature[key] > 1 && !SymbolEqualityComparer.Default.Equals(symbol.ContainingType, service);
            yield return model with
            {
                ExplicitInterface = explicitImplementation ? declaring : null,
                CallThrough = shared ? declaring : null,
            };
        }
    }

    /// <summary>Names a client class cannot give a public method: its field, and object's members (which it would hide).</summary>
    private static readonly HashSet<string> s_clientReservedNames = new(StringComparer.Ordinal)
    {
        "_invoker", "Equals", "GetHashCode", "ToString", "GetType", "MemberwiseClone", "Finalize", "ReferenceEquals",
    };

    private static string SignatureKey(IMethodSymbol method) =>
        method.Name + "(" + string.Join(",", method.Parameters.Select(p => p.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat))) + ")";

    private static IEnumerable<(string Generated, string Clash)> GeneratedNameClashes(
        INamedTypeSymbol symbol, string typeName, params string[] generatedNames)
    {
        var ns = symbol.ContainingNamespace;
        foreach (var name in generatedNames)
        {
            foreach (var existing in ns.GetTypeMembers(name))
            {
                yield return (name, "the existing type '" + existing.ToDisplayString() + "'");
            }
        }

        // A nested Outer.IFoo and a top-level IOuterFoo both generate OuterFooClient; the nested one gives way.
        if (symbol.ContainingType is null) yield break;
        foreach (var other in ns.GetTypeMembers("I" + typeName).Concat(ns.GetTypeMembers(typeName)))
        {
            if (other.TypeKind == TypeKind.Interface && ServiceNameOf(other.Name) == typeName
                && other.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == ServiceAttributeName))
            {
                yield return (generatedNames[0], "the client generated for interface '" + other.ToDisplayString() + "'");
            }
        }
    }

    private static bool IsFirstMarkedPart(GeneratorAttributeSyntaxContext context, INamedTypeSymbol symbol)
    {
        if (symbol.DeclaringSyntaxReferences.Length < 2) return true;
        var first = symbol.GetAttributes()
            .FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == ServiceAttributeName)?.ApplicationSyntaxReference;
        return first is null || (first.SyntaxTree == context.TargetNode.SyntaxTree && context.TargetNode.Span.Contains(first.Span));
    }

    /// <summary>
    /// Binding attributes is a large share of parsing, which reruns for every service on every edit; a method declared
    /// in source without an attribute list has none to bind.
    /// </summary>
    private static bool MayHaveAttributes(IMethodSymbol method)
    {
        var declarations = method.DeclaringSyntaxReferences;
        if (declarations.Length == 0) return true;
        foreach (var declaration in declarations)
        {
            if (declaration.GetSyntax() is not MethodDeclarationSyntax { AttributeLists.Count: 0 }) return true;
        }

        return false;
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
            ? "global::System.Array.Empty<" + array.ElementType.ToDisplayString(s_typeFormat) + ">()"
            : "[]";

    private static string? NamespaceOf(INamedTypeSymbol symbol) =>
        symbol.ContainingNamespace.IsGlobalNamespace
            ? null
            : symbol.ContainingNamespace.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Substring("global::".Length);

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

    private static bool IsGenericOrInGeneric(INamedTypeSymbol symbol)
    {
        for (var type = symbol; type is not null; type = type.ContainingType)
        {
            if (type.TypeParameters.Length > 0) return true;
        }

        return false;
    }

    /// <summary>public when every enclosing type is public, internal when all are at least internal, else null.</summary>
    private static string? EffectiveAccessibility(INamedTypeSymbol symbol, out string hiddenBy)
    {
        var result = "public";
        hiddenBy = string.Empty;
        for (var type = symbol; type is not null; type = type.ContainingType)
        {
            if (type.IsFileLocal)
            {
                hiddenBy = SymbolEqualityComparer.Default.Equals(type, symbol) ? "file-local" : "nested in a file-local type";
                return null;
            }

            switch (type.DeclaredAccessibility)
            {
                case Accessibility.Public:
                    break;
                case Accessibility.Internal:
                case Accessibility.ProtectedOrInternal:
                    result = "internal";
                    break;
                case Accessibility.Private:
                    hiddenBy = SymbolEqualityComparer.Default.Equals(type, symbol) ? "private" : "nested in a private type";
                    return null;
                default:
                    hiddenBy = SymbolEqualityComparer.Default.Equals(type, symbol) ? "protected" : "nested in a protected type";
                    return null;
            }
        }

        return result;
    }

    /// <summary>IFibonacci → Fibonacci; a name that does not follow the I-prefix convention is kept.</summary>
    internal static string ServiceNameOf(string interfaceName) =>
        interfaceName.Length > 1 && interfaceName[0] == 'I' && char.IsUpper(interfaceName[1]) ? interfaceName.Substring(1) : interfaceName;

    /// <summary>Nested interfaces take their containing types' names so two nested IFoo never collide.</summary>
    private static string GeneratedTypeBaseName(INamedTypeSymbol symbol)
    {
        var name = ServiceNameOf(symbol.Name);
        for (var type = symbol.ContainingType; type is not null; type = type.ContainingType)
        {
            name = type.Name + name;
        }

        return name;
    }

    private static string HintNameOf(INamedTypeSymbol symbol)
    {
        var builder = new StringBuilder();
        foreach (var ch in symbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", string.Empty))
        {
            builder.Append(char.IsLetterOrDigit(ch) || ch == '.' || ch == '_' ? ch : '_');
        }

        return builder.Append(".RpcGen.g.cs").ToString();
    }

    internal static string DefaultWireName(string methodName) =>
        methodName.Length > 5 && methodName.EndsWith("Async", StringComparison.Ordinal) ? methodName.Substring(0, methodName.Length - 5) : methodName;

    internal static bool IsValidWireName(string name)
    {
        if (name.Length == 0 || name.Length > 255) return false;
        foreach (var ch in name)
        {
            if (!(ch is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '.' or '-' or '_')) return false;
        }

        return true;
    }

    /// <summary>The rules RabbitMQ applies to a queue name, plus the reserved amq. prefix.</summary>
    internal static string? QueueNameProblem(string queue)
    {
        if (string.IsNullOrWhiteSpace(queue)) return "it is empty; give the service a queue name or leave Queue unset";
        if (Encoding.UTF8.GetByteCount(queue) > 255) return "it is longer than 255 bytes; shorten it";
        if (queue.StartsWith("amq.", StringComparison.Ordinal)) return "names starting with 'amq.' are reserved by RabbitMQ; choose another";
        foreach (var ch in queue)
        {
            if (char.IsControl(ch) || char.IsWhiteSpace(ch)) return "it contains white space or control characters; remove them";
        }

        return null;
    }

    private static string EscapeIdentifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static string RefKindText(RefKind kind) => kind switch
    {
        RefKind.Ref => "ref",
        RefKind.Out => "out",
        RefKind.In => "in",
        _ => "ref readonly",
    };

    /// <summary>The default value as a C# expression that compiles in the generated signature.</summary>
    private static string DefaultValueLiteral(IParameterSymbol parameter)
    {
        var value = parameter.ExplicitDefaultValue;
        var type = parameter.Type;
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            if (value is null) return "null";
            type = nullable.TypeArguments[0];
        }

        if (value is null) return type.IsReferenceType ? "null" : "default";

        if (type.TypeKind == TypeKind.Enum)
        {
            return "(" + type.ToDisplayString(s_typeFormat) + ")(" + NumericLiteral(value) + ")";
        }

        return value switch
        {
            string s => SymbolDisplay.FormatLiteral(s, quote: true),
            char c => SymbolDisplay.FormatLiteral(c, quote: true),
            bool b => b ? "true" : "false",
            _ => NumericLiteral(value),
        };
    }

    private static string NumericLiteral(object value) => value switch
    {
        float f when float.IsNaN(f) => "float.NaN",
        float f when float.IsPositiveInfinity(f) => "float.PositiveInfinity",
        float f when float.IsNegativeInfinity(f) => "float.NegativeInfinity",
        double d when double.IsNaN(d) => "double.NaN",
        double d when double.IsPositiveInfinity(d) => "double.PositiveInfinity",
        double d when double.IsNegativeInfinity(d) => "double.NegativeInfinity",
        float f => f.ToString("R", CultureInfo.InvariantCulture) + "F",
        double d => d.ToString("R", CultureInfo.InvariantCulture) + "D",
        decimal m => m.ToString(CultureInfo.InvariantCulture) + "M",
        long l => l.ToString(CultureInfo.InvariantCulture) + "L",
        ulong ul => ul.ToString(CultureInfo.InvariantCulture) + "UL",
        uint u => u.ToString(CultureInfo.InvariantCulture) + "U",
        sbyte or byte or short or ushort => "(" + TypeKeyword(value) + ")" + Convert.ToString(value, CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "default",
    };

    private static string TypeKeyword(object value) => value switch
    {
        sbyte => "sbyte",
        byte => "byte",
        short => "short",
        _ => "ushort",
    };

    private sealed class KnownTypes
    {
        public KnownTypes(Compilation compilation)
        {
            Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
            TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
            ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
            ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
            CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        }

        public INamedTypeSymbol? Task { get; }
        public INamedTypeSymbol? TaskOfT { get; }
        public INamedTypeSymbol? ValueTask { get; }
        public INamedTypeSymbol? ValueTaskOfT { get; }
        public INamedTypeSymbol? CancellationToken { get; }
    }
}
