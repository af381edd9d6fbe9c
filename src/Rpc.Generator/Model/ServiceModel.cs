namespace RpcGen.Generator.Model;

/// <summary>
/// Everything the emitters need to write one service; decided by the parser, plain data only. The models are records
/// of named members: a new member is one more property, required or with its default, never a constructor parameter.
/// </summary>
internal sealed record ServiceModel
{
    public required string? Namespace { get; init; }

    public required string InterfaceType { get; init; }

    public required string ServiceName { get; init; }

    public required string Queue { get; init; }

    public required string ClientName { get; init; }

    public required string DispatcherName { get; init; }

    public required string DescriptorName { get; init; }

    public required string Accessibility { get; init; }

    public required string HintName { get; init; }

    public required EquatableArray<MethodModel> Methods { get; init; }

    /// <summary>[RpcService(Ordered = true)]: requests handled one at a time in queue order.</summary>
    public bool Ordered { get; init; }

    /// <summary>For an [RpcEvents] interface, its exchange; null for a service.</summary>
    public EventsModel? Events { get; init; }
}

internal enum ReturnKind
{
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,

    /// <summary>IAsyncEnumerable&lt;T&gt;: a streamed result; ResultType is the item type.</summary>
    AsyncEnumerable,
}

internal sealed record MethodModel
{
    /// <summary>The C# method name, escaped with @ where it is a keyword.</summary>
    public required string Name { get; init; }

    public required string WireName { get; init; }

    public required ReturnKind ReturnKind { get; init; }

    /// <summary>The full return type as written in the generated signature.</summary>
    public required string ReturnType { get; init; }

    /// <summary>The T of Task&lt;T&gt; / ValueTask&lt;T&gt;, the item type of IAsyncEnumerable&lt;T&gt;, or null.</summary>
    public required string? ResultType { get; init; }

    public required bool OneWay { get; init; }

    public required EquatableArray<ParameterModel> Parameters { get; init; }

    /// <summary>The interface to implement the method explicitly for, when a public method of that name would not compile.</summary>
    public string? ExplicitInterface { get; init; }

    /// <summary>The interface the dispatcher calls the method through, when calling it on the service would be ambiguous.</summary>
    public string? CallThrough { get; init; }

    /// <summary>[RpcMethod(TimeoutMilliseconds)] or else the service's; 0 for the connection default.</summary>
    public int TimeoutMilliseconds { get; init; }

    /// <summary>The method's [RpcFault] types, then the service's, each once.</summary>
    public EquatableArray<FaultModel> Faults { get; init; }

    /// <summary>For a one-way method, its requests' expiration (the method's, else the service's); zero for none.</summary>
    public int TimeToLiveMilliseconds { get; init; }

    /// <summary>The result type (a stream's item type) as <c>typeof</c> takes it (no nullable reference annotations), or null without a result.</summary>
    public string? ResultTypeOf { get; init; }
}

internal sealed record ParameterModel
{
    /// <summary>The C# identifier, escaped with @ where it is a keyword.</summary>
    public required string Identifier { get; init; }

    /// <summary>The JSON property name: the parameter name without @.</summary>
    public required string WireName { get; init; }

    public required string Type { get; init; }

    public required bool IsCancellationToken { get; init; }

    public required bool IsParams { get; init; }

    public required bool IsNotNull { get; init; }

    /// <summary>The default value as a C# expression, or null when the parameter has none.</summary>
    public required string? DefaultValue { get; init; }

    /// <summary>For a params parameter, the empty array or collection used when a request leaves it out.</summary>
    public required string? EmptyParamsValue { get; init; }

    /// <summary>An event's [RpcRoutingKey] parameter: the routing key, not part of the body.</summary>
    public bool IsRoutingKey { get; init; }

    /// <summary>The type as <c>typeof</c> takes it (no nullable reference annotations), for the descriptor.</summary>
    public string? TypeOf { get; init; }
}

/// <summary>An exception declared with [RpcFault]: how the descriptor writes its properties and builds it again.</summary>
internal sealed record FaultModel
{
    /// <summary>The exception type, global::-qualified.</summary>
    public required string Type { get; init; }

    /// <summary>Every public property declared on it and its bases below System.Exception, written into <c>data</c>.</summary>
    public required EquatableArray<FaultProperty> Properties { get; init; }

    /// <summary>The constructor's arguments as expressions over the generated <c>reader</c>.</summary>
    public required EquatableArray<string> ConstructorArguments { get; init; }

    /// <summary>Properties the constructor does not take but a setter or init accessor can, set after it.</summary>
    public required EquatableArray<FaultProperty> Initialized { get; init; }
}

internal sealed record FaultProperty
{
    /// <summary>The C# property name, also its name in the <c>data</c> object.</summary>
    public required string Name { get; init; }

    /// <summary>The property type, global::-qualified.</summary>
    public required string Type { get; init; }

    /// <summary>The property type as <c>typeof</c> takes it (no nullable reference annotations), for the descriptor.</summary>
    public string? TypeOf { get; init; }
}
