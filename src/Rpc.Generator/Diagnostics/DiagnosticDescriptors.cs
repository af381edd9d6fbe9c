using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace RpcGen.Generator.Diagnostics;

/// <summary>Every diagnostic RpcGen reports. Each has a section in docs/diagnostics.md under its id.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "RpcGen";

    /// <summary>
    /// Where docs/diagnostics.md is published; each rule links to its section there. The repository's address is the
    /// build's <c>RepositoryUrl</c> (Directory.Build.props), so it is set in one place for the package and the links.
    /// </summary>
    public static readonly string HelpLinkBase = RepositoryUrl() + "/blob/main/docs/diagnostics.md";

    private static string RepositoryUrl() =>
        typeof(DiagnosticDescriptors).Assembly.GetCustomAttributes(typeof(AssemblyMetadataAttribute), inherit: false)
            .Cast<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "RepositoryUrl")
            .Value!.TrimEnd('/');

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink(id, title));

    /// <summary>A suggestion: shown in the editor with its fix, never in the way of a build.</summary>
    private static DiagnosticDescriptor Suggestion(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: HelpLink(id, title));

    /// <summary>A break of the shipped contract: a warning, so it fails builds that treat warnings as errors and can be suppressed on purpose.</summary>
    private static DiagnosticDescriptor Warning(string id, string title, string message, bool compilationEnd = false) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpLink(id, title),
            customTags: compilationEnd ? new[] { WellKnownDiagnosticTags.CompilationEnd } : System.Array.Empty<string>());

    /// <summary>The section's anchor as Markdown renderers make it from "## RPCGEN001: Title": lower case, punctuation dropped, spaces as '-'.</summary>
    private static string HelpLink(string id, string title)
    {
        var anchor = new System.Text.StringBuilder();
        foreach (var ch in (id + ": " + title).ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(ch) || ch is '-' or '_') anchor.Append(ch);
            else if (ch == ' ') anchor.Append('-');
        }

        return HelpLinkBase + "#" + anchor;
    }

    public static readonly DiagnosticDescriptor UnsupportedReturnType = Error("RPCGEN001",
        "Unsupported return type",
        "Method '{0}' returns '{1}': RPC methods must return Task, Task<T>, ValueTask, ValueTask<T> or IAsyncEnumerable<T>; change the return type");

    public static readonly DiagnosticDescriptor GenericMethod = Error("RPCGEN002",
        "Generic RPC method",
        "Method '{0}' is generic: the wire format cannot carry type arguments; replace the type parameters with concrete types");

    public static readonly DiagnosticDescriptor ByRefParameter = Error("RPCGEN003",
        "ref, out or in parameter",
        "Parameter '{0}' of method '{1}' is passed by reference ({2}): values cross the network by copy; remove the modifier and return results instead");

    public static readonly DiagnosticDescriptor SeveralCancellationTokens = Error("RPCGEN004",
        "More than one CancellationToken",
        "Method '{0}' has more than one CancellationToken parameter: keep one");

    public static readonly DiagnosticDescriptor GenericInterface = Error("RPCGEN005",
        "Generic RPC service",
        "Interface '{0}' is generic or nested in a generic type: an RPC service needs one concrete contract; remove the type parameters");

    public static readonly DiagnosticDescriptor UnsupportedMember = Error("RPCGEN006",
        "Property, event, indexer or static abstract member",
        "'{0}' is {1}: RPC services may only declare instance methods; {2}");

    public static readonly DiagnosticDescriptor DuplicateWireName = Error("RPCGEN007",
        "Two methods with the same wire name",
        "Methods '{0}' and '{1}' both use the wire name '{2}': give one of them a distinct name with [RpcMethod(\"name\")]");

    public static readonly DiagnosticDescriptor InaccessibleInterface = Error("RPCGEN008",
        "RPC service not accessible to generated code",
        "Interface '{0}' is {1}: generated code lives beside the containing type and cannot see it; make it internal or public");

    public static readonly DiagnosticDescriptor InvalidQueueName = Error("RPCGEN009",
        "Invalid queue name",
        "Queue name '{0}' is invalid: {1}");

    public static readonly DiagnosticDescriptor InvalidMethodName = Error("RPCGEN010",
        "Invalid method wire name",
        "Wire name '{0}' of method '{1}' is invalid: name it with [RpcMethod(\"name\")] using 1 to 255 ASCII letters, digits, '.', '-' or '_'");

    public static readonly DiagnosticDescriptor OneWayWithResult = Error("RPCGEN011",
        "One-way method returns a value",
        "Method '{0}' is marked OneWay but returns '{1}': a one-way call gets no reply; return Task or ValueTask, or remove OneWay");

    public static readonly DiagnosticDescriptor UnsupportedParameterType = Error("RPCGEN012",
        "Parameter type cannot be sent",
        "Parameter '{0}' of method '{1}' has type '{2}': {3}");

    public static readonly DiagnosticDescriptor GeneratedNameClash = Error("RPCGEN013",
        "Generated type name clashes with another type",
        "The generated type '{0}' would clash with {1} in the same namespace: rename the interface or that type");

    public static readonly DiagnosticDescriptor NoCancellationToken = Suggestion("RPCGEN014",
        "RPC method takes no CancellationToken",
        "Method '{0}' takes no CancellationToken: callers cannot cancel the call or bound it by their own deadline; add 'CancellationToken cancellationToken = default' (it is not sent, so the wire contract stays the same)");

    public static readonly DiagnosticDescriptor JsonContextGap = Error("RPCGEN015",
        "JSON context does not cover a contract type",
        "Type '{0}' of {1} is not covered by JSON context '{2}': a trimmed or AOT app would fail at the first call; add [JsonSerializable(typeof({0}))] to the context");

    public static readonly DiagnosticDescriptor JsonContextNotAContext = Error("RPCGEN016",
        "JsonContext is not a JsonSerializerContext",
        "'{0}' given as JsonContext of '{1}' does not derive from System.Text.Json.Serialization.JsonSerializerContext: give the source-generated context that serialises the contract's types");

    public static readonly DiagnosticDescriptor InvalidFaultType = Error("RPCGEN017",
        "Declared fault type cannot be carried",
        "[RpcFault(typeof({0}))] cannot be carried to the caller: {1}");

    public static readonly DiagnosticDescriptor InvalidTimeout = Error("RPCGEN018",
        "Negative timeout",
        "TimeoutMilliseconds of '{0}' is {1}: give a positive number of milliseconds, or 0 for the default");
    public static readonly DiagnosticDescriptor EventWithResult = Error("RPCGEN020",
        "Event returns a value",
        "Event '{0}' returns '{1}': an event has no reply; return Task or ValueTask, or make it a method of an [RpcService]");

    public static readonly DiagnosticDescriptor InvalidExchangeName = Error("RPCGEN021",
        "Invalid exchange name",
        "Exchange name '{0}' is invalid: {1}");

    public static readonly DiagnosticDescriptor SeveralRoutingKeys = Error("RPCGEN022",
        "More than one routing key",
        "Event '{0}' has more than one [RpcRoutingKey] parameter: an event has one routing key; keep one and send the others in the body");

    public static readonly DiagnosticDescriptor RoutingKeyNotString = Error("RPCGEN023",
        "Routing key is not a string",
        "[RpcRoutingKey] parameter '{0}' of event '{1}' has type '{2}': a routing key is text; make it a string");

    public static readonly DiagnosticDescriptor RoutingKeyOutsideEvents = Error("RPCGEN024",
        "Routing key on a service method",
        "[RpcRoutingKey] parameter '{0}' of method '{1}' is in an [RpcService]: requests are routed by queue; remove [RpcRoutingKey], or declare the interface [RpcEvents]");

    // Contracts that evolve: RpcContracts.Shipped.txt against the code (docs/wire-format.md, "Contracts that evolve").
    // Reported only when the project has that file; the removals are known only once every service has been seen.
    public static readonly DiagnosticDescriptor ShippedMethodRemoved = Warning("RPCGEN025",
        "Shipped RPC method removed",
        "Method '{0}' of queue '{1}' is in RpcContracts.Shipped.txt but no [RpcService] has it: callers built against the shipped contract get rpc:unknown-method; keep the method (a renamed C# method keeps its wire name with [RpcMethod(\"{0}\")]), or delete its line from RpcContracts.Shipped.txt if breaking those callers is intended",
        compilationEnd: true);

    public static readonly DiagnosticDescriptor ShippedWireNameChanged = Warning("RPCGEN026",
        "Wire name differs from the shipped contract",
        "Method '{0}' goes on the wire as '{1}', but RpcContracts.Shipped.txt ships it as '{2}': callers built against the shipped contract get rpc:unknown-method; name it [RpcMethod(\"{2}\")] to keep the shipped wire name, or update RpcContracts.Shipped.txt if breaking those callers is intended");

    public static readonly DiagnosticDescriptor ShippedRequiredParameterAdded = Warning("RPCGEN027",
        "Required parameter not in the shipped contract",
        "Parameter '{0}' of method '{1}' is required, but {2}: callers built against the shipped contract leave it out and get rpc:bad-request; give it a default value (added parameters go last, with a default), or update RpcContracts.Shipped.txt if breaking those callers is intended");

    public static readonly DiagnosticDescriptor ShippedShapeChanged = Warning("RPCGEN028",
        "Parameter or result differs from the shipped contract",
        "{0} of method '{1}' is '{2}', but RpcContracts.Shipped.txt ships '{3}': peers built against the shipped contract send and read the shipped shape; change it back, or add a method with its own wire name for the new shape (or update RpcContracts.Shipped.txt if breaking those peers is intended)");

    public static readonly DiagnosticDescriptor ShippedParameterRemoved = Warning("RPCGEN029",
        "Shipped parameter removed",
        "Method '{0}' no longer has parameter '{1}' of RpcContracts.Shipped.txt: callers built against the shipped contract that pass it get rpc:bad-request; keep the parameter (the implementation may ignore it), or update RpcContracts.Shipped.txt if breaking those callers is intended");

    public static readonly DiagnosticDescriptor NotInShippedContract = Suggestion("RPCGEN030",
        "Not in the shipped contract yet",
        "Method '{0}' is {1} RpcContracts.Shipped.txt: once it has shipped, {2}: {3}");

    public static readonly DiagnosticDescriptor UnreadableShippedLine = Warning("RPCGEN031",
        "Unreadable line in RpcContracts.Shipped.txt",
        "RpcContracts.Shipped.txt line '{0}' is not '{{queue}} {{wire name}}({{name}}: {{type}}[ = {{default}}], ...) -> {{result}}': nothing is checked against it; fix the line (the RPCGEN030 messages give each method's line), or delete it",
        compilationEnd: true);

    public static readonly ImmutableArray<DiagnosticDescriptor> All = ImmutableArray.Create(
        UnsupportedReturnType, GenericMethod, ByRefParameter, SeveralCancellationTokens, GenericInterface, UnsupportedMember,
        DuplicateWireName, InaccessibleInterface, InvalidQueueName, InvalidMethodName, OneWayWithResult, UnsupportedParameterType,
        GeneratedNameClash, NoCancellationToken, JsonContextGap, JsonContextNotAContext, InvalidFaultType, InvalidTimeout,
        EventWithResult, InvalidExchangeName, SeveralRoutingKeys, RoutingKeyNotString, RoutingKeyOutsideEvents,
        ShippedMethodRemoved, ShippedWireNameChanged, ShippedRequiredParameterAdded, ShippedShapeChanged, ShippedParameterRemoved,
        NotInShippedContract, UnreadableShippedLine);

    private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = All.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => s_byId[id];
}
