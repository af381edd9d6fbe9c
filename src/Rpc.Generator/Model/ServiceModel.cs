namespace RpcGen.Generator.Model;

/// <summary>Everything the emitters need to write one service; decided by the parser, plain data only.</summary>
internal sealed record ServiceModel(
    string? Namespace,
    string InterfaceType,
    string ServiceName,
    string Queue,
    string ClientName,
    string DispatcherName,
    string DescriptorName,
    string Accessibility,
    string HintName,
    EquatableArray<MethodModel> Methods,
    bool Ordered = false,
    EventsModel? Events = null);

internal enum ReturnKind
{
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,

    /// <summary>IAsyncEnumerable&lt;T&gt;: a streamed result; ResultType is the item type.</summary>
    AsyncEnumerable,
}

/// <param name="Name">The C# method name, escaped with @ where it is a keyword.</param>
/// <param name="ReturnType">The full return type as written in the generated signature.</param>
/// <param name="ResultType">The T of Task&lt;T&gt; / ValueTask&lt;T&gt;, the item type of IAsyncEnumerable&lt;T&gt;, or null.</param>
/// <param name="ExplicitInterface">The interface to implement the method explicitly for, when a public method of that name would not compile.</param>
/// <param name="CallThrough">The interface the dispatcher calls the method through, when calling it on the service would be ambiguous.</param>
/// <param name="TimeoutMilliseconds">[RpcMethod(TimeoutMilliseconds)] or else the service's; 0 for the connection default.</param>
/// <param name="Faults">The method's [RpcFault] types, then the service's, each once.</param>
/// <param name="ResultTypeOf">The result type as <c>typeof</c> takes it (no nullable reference annotations), or null without a result.</param>
/// <param name="TimeToLiveMilliseconds">For a one-way method, its requests' expiration (the method's, else the service's); zero for none.</param>
internal sealed record MethodModel(
    string Name,
    string WireName,
    ReturnKind ReturnKind,
    string ReturnType,
    string? ResultType,
    bool OneWay,
    EquatableArray<ParameterModel> Parameters,
    string? ExplicitInterface,
    string? CallThrough,
    int TimeoutMilliseconds = 0,
    EquatableArray<FaultModel> Faults = default,
    int TimeToLiveMilliseconds = 0,
    string? ResultTypeOf = null);

/// <param name="Identifier">The C# identifier, escaped with @ where it is a keyword.</param>
/// <param name="WireName">The JSON property name: the parameter name without @.</param>
/// <param name="DefaultValue">The default value as a C# expression, or null when the parameter has none.</param>
/// <param name="TypeOf">The type as <c>typeof</c> takes it (no nullable reference annotations), for the descriptor.</param>
/// <param name="IsRoutingKey">An event's [RpcRoutingKey] parameter: the routing key, not part of the body.</param>
/// <param name="EmptyParamsValue">For a params parameter, the empty array or collection used when a request leaves it out.</param>
internal sealed record ParameterModel(
    string Identifier,
    string WireName,
    string Type,
    bool IsCancellationToken,
    bool IsParams,
    bool IsNotNull,
    string? DefaultValue,
    string? EmptyParamsValue,
    bool IsRoutingKey = false,
    string? TypeOf = null);

/// <summary>An exception declared with [RpcFault]: how the descriptor writes its properties and builds it again.</summary>
/// <param name="Type">The exception type, global::-qualified.</param>
/// <param name="Properties">Every public property declared on it and its bases below System.Exception, written into <c>data</c>.</param>
/// <param name="ConstructorArguments">The constructor's arguments as expressions over the generated <c>reader</c>.</param>
/// <param name="Initialized">Properties the constructor does not take but a setter or init accessor can, set after it.</param>
internal sealed record FaultModel(
    string Type,
    EquatableArray<FaultProperty> Properties,
    EquatableArray<string> ConstructorArguments,
    EquatableArray<FaultProperty> Initialized);

/// <param name="Name">The C# property name, also its name in the <c>data</c> object.</param>
/// <param name="Type">The property type, global::-qualified.</param>
/// <param name="TypeOf">The property type as <c>typeof</c> takes it (no nullable reference annotations), for the descriptor.</param>
internal sealed record FaultProperty(string Name, string Type, string? TypeOf = null);
