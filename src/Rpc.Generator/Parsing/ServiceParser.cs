using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
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

        var compilation = context.SemanticModel.Compilation;
        var known = new KnownTypes(compilation);
        var methods = new List<MethodModel>();
        var wireNames = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var member in ServiceMembers(symbol))
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (member)
            {
                case IMethodSymbol { MethodKind: MethodKind.Ordinary } method:
                    var model = ParseMethod(method, known, Report);
                    if (model is null) break;
                    if (wireNames.TryGetValue(model.WireName, out var other))
                    {
                        Report(DiagnosticDescriptors.DuplicateWireName, method.Locations.FirstOrDefault(), other, method.Name, model.WireName);
                        break;
                    }

                    wireNames.Add(model.WireName, method.Name);
                    methods.Add(model);
                    break;
                case IPropertySymbol property:
                    Report(DiagnosticDescriptors.UnsupportedMember, property.Locations.FirstOrDefault(),
                        property.IsIndexer ? "this[]" : property.Name, property.IsIndexer ? "indexer" : "property");
                    break;
                case IEventSymbol @event:
                    Report(DiagnosticDescriptors.UnsupportedMember, @event.Locations.FirstOrDefault(), @event.Name, "event");
                    break;
            }
        }

        var result = diagnostics.ToEquatableArray();
        if (diagnostics.Count > 0 || accessibility is null)
        {
            return new ParseResult(null, result);
        }

        var typeName = GeneratedTypeBaseName(symbol);
        var ns = symbol.ContainingNamespace.IsGlobalNamespace ? null : symbol.ContainingNamespace.ToDisplayString();
        var service = new ServiceModel(
            Namespace: ns,
            InterfaceType: symbol.ToDisplayString(s_typeFormat),
            ServiceName: serviceName,
            Queue: queue,
            ClientName: typeName + "Client",
            DispatcherName: typeName + "Dispatcher",
            DescriptorName: typeName + "RpcDescriptor",
            Accessibility: accessibility,
            HintName: HintNameOf(symbol),
            Methods: methods.ToEquatableArray());
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
        var methodAttribute = method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == MethodAttributeName);
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
            if (parameter.RefKind != RefKind.None)
            {
                report(DiagnosticDescriptors.ByRefParameter, parameter.Locations.FirstOrDefault() ?? location,
                    new[] { parameter.Name, method.Name, RefKindText(parameter.RefKind) });
                valid = false;
                continue;
            }

            bool isToken = SymbolEqualityComparer.Default.Equals(parameter.Type, known.CancellationToken);
            if (isToken && ++cancellationTokens == 2)
            {
                report(DiagnosticDescriptors.SeveralCancellationTokens, parameter.Locations.FirstOrDefault() ?? location, new[] { method.Name });
                valid = false;
            }

            parameters.Add(new ParameterModel(
                Identifier: EscapeIdentifier(parameter.Name),
                WireName: parameter.Name,
                Type: parameter.Type.ToDisplayString(s_typeFormat),
                IsCancellationToken: isToken,
                IsParams: parameter.IsParams,
                IsNotNull: parameter.Type.IsReferenceType && parameter.NullableAnnotation == NullableAnnotation.NotAnnotated,
                DefaultValue: parameter.HasExplicitDefaultValue ? DefaultValueLiteral(parameter) : null));
        }

        if (!valid) return null;

        return new MethodModel(method.Name, wireName, kind, returnType.ToDisplayString(s_typeFormat), resultType, oneWay,
            parameters.ToEquatableArray());
    }

    /// <summary>Own members first, then those of every base interface; a diamond yields each method once.</summary>
    private static IEnumerable<ISymbol> ServiceMembers(INamedTypeSymbol service)
    {
        var seen = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (var type in new[] { service }.Concat(service.AllInterfaces))
        {
            foreach (var member in type.GetMembers())
            {
                // Static members and default implementations are not part of the wire contract.
                if (member.IsStatic || !member.IsAbstract) continue;
                if (member is IMethodSymbol { MethodKind: not MethodKind.Ordinary }) continue;
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
