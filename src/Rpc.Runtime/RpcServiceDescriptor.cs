using System;
using System.Collections.Generic;
using System.ComponentModel;

namespace RpcGen;

/// <summary>
/// What the generator knows about one service: its name, queue and methods. Built by generated code. An
/// <see cref="RpcEventsAttribute"/> interface is described by the derived <see cref="RpcEventsDescriptor"/>, which the
/// server engine consumes like a service's queue.
/// </summary>
public class RpcServiceDescriptor
{
    private readonly Dictionary<string, RpcMethodDescriptor> _byWireName;

    /// <summary>Creates a descriptor; generated code calls this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RpcServiceDescriptor(string name, string queue, params RpcMethodDescriptor[] methods)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Queue = queue ?? throw new ArgumentNullException(nameof(queue));
        Methods = methods ?? throw new ArgumentNullException(nameof(methods));
        _byWireName = new Dictionary<string, RpcMethodDescriptor>(methods.Length, StringComparer.Ordinal);
        for (int i = 0; i < methods.Length; i++)
        {
            methods[i].Attach(this, i);
            _byWireName.Add(methods[i].WireName, methods[i]);
        }
    }

    /// <summary>The service name: the interface name without its leading <c>I</c>.</summary>
    public string Name { get; }

    /// <summary>The request queue.</summary>
    public string Queue { get; }

    /// <summary>The methods, in declaration order.</summary>
    public IReadOnlyList<RpcMethodDescriptor> Methods { get; }

    /// <summary>Whether requests are handled one at a time in queue order (<see cref="RpcServiceAttribute.Ordered"/>).</summary>
    public bool Ordered { get; init; }

    /// <summary>Finds a method by its wire name (the AMQP <c>type</c> property).</summary>
    public RpcMethodDescriptor? FindMethod(string wireName) => _byWireName.TryGetValue(wireName, out var method) ? method : null;
}

/// <summary>One method of a service as it appears on the wire.</summary>
public sealed class RpcMethodDescriptor
{
    private RpcServiceDescriptor? _service;

    /// <summary>Creates a descriptor; generated code calls this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RpcMethodDescriptor(string wireName, RpcParameterDescriptor[] parameters, bool oneWay = false)
    {
        WireName = wireName ?? throw new ArgumentNullException(nameof(wireName));
        Parameters = parameters ?? throw new ArgumentNullException(nameof(parameters));
        OneWay = oneWay;
        TakesSingleValue = parameters.Length > 0;
        for (int i = 1; i < parameters.Length; i++)
        {
            if ((parameters[i].Flags & RpcParameterFlags.Optional) == 0) TakesSingleValue = false;
        }

        if (TakesSingleValue) FirstParameterQuoted = System.Text.Encoding.UTF8.GetBytes("\"" + parameters[0].Name + "\"");
    }

    /// <summary>The wire name, sent as the AMQP <c>type</c> property.</summary>
    public string WireName { get; }

    /// <summary>The parameters sent in the body (a <see cref="System.Threading.CancellationToken"/> is never sent).</summary>
    public IReadOnlyList<RpcParameterDescriptor> Parameters { get; }

    /// <summary>Whether the call is fire-and-forget.</summary>
    public bool OneWay { get; }

    /// <summary>
    /// How long a caller waits for the reply, in milliseconds, from <see cref="RpcMethodAttribute.TimeoutMilliseconds"/>
    /// or else the service's <see cref="RpcServiceAttribute.TimeoutMilliseconds"/>; zero for the connection's default.
    /// </summary>
    public int TimeoutMilliseconds
    {
        get => _timeoutMilliseconds;
        init
        {
            if (value < 0) throw new ArgumentOutOfRangeException(nameof(TimeoutMilliseconds), value, $"Method '{WireName}': a timeout must not be negative.");
            _timeoutMilliseconds = value;
            Timeout = value == 0 ? null : TimeSpan.FromMilliseconds(value);
        }
    }

    private readonly int _timeoutMilliseconds;

    internal TimeSpan? Timeout { get; private init; }

    /// <summary>
    /// The exceptions declared with <see cref="RpcFaultAttribute"/> on the method and on its service, which reach the
    /// caller as themselves; empty when none are.
    /// </summary>
    public IReadOnlyList<RpcFaultDescriptor> Faults { get; init; } = Array.Empty<RpcFaultDescriptor>();

    /// <summary>
    /// The type of the result the reply carries (<c>T</c> of <c>Task&lt;T&gt;</c>), or null for a method without a
    /// result. Set by generated code; describes the contract (<c>RpcAsyncApi</c>), not used to make calls.
    /// </summary>
    public Type? ResultType { get; init; }

    /// <summary>
    /// True for a method that streams its result (<c>IAsyncEnumerable&lt;T&gt;</c>); <see cref="ResultType"/> is then
    /// the item type. Set by generated code; describes the contract (<c>RpcAsyncApi</c>), not used to make calls.
    /// </summary>
    public bool Streams { get; init; }

    /// <summary>
    /// For a one-way method: how long its requests may wait in the queue, in milliseconds, or zero for no expiration
    /// (the method's or else the service's <see cref="RpcMethodAttribute.TimeToLiveMilliseconds"/>).
    /// </summary>
    public int TimeToLiveMilliseconds { get; init; }

    /// <summary>The position of this method in <see cref="RpcServiceDescriptor.Methods"/>.</summary>
    public int Index { get; private set; }

    /// <summary>The service this method belongs to.</summary>
    public RpcServiceDescriptor Service => _service ?? throw new InvalidOperationException($"Method '{WireName}' is not part of an RpcServiceDescriptor.");

    /// <summary>
    /// Whether a request body may be the first argument's bare JSON value: the method has one parameter, or every
    /// parameter after the first is optional. Such a method keeps accepting the bodies its one-parameter version was
    /// called with after optional parameters are added (docs/wire-format.md, "Contracts that evolve").
    /// </summary>
    internal bool TakesSingleValue { get; }

    /// <summary>
    /// The first parameter's name as a JSON string in UTF-8 (quotes included) when <see cref="TakesSingleValue"/>: a body
    /// in which it does not occur, and which has no escapes, cannot name that parameter (Wire/RequestBody.cs).
    /// </summary>
    internal byte[]? FirstParameterQuoted { get; }

    internal void Attach(RpcServiceDescriptor service, int index)
    {
        if (_service is not null) throw new InvalidOperationException($"Method '{WireName}' already belongs to service '{_service.Name}'.");
        _service = service;
        Index = index;
    }
}

/// <summary>How a parameter is read from a request body.</summary>
[Flags]
public enum RpcParameterFlags
{
    /// <summary>Required, and may be JSON <c>null</c>.</summary>
    None = 0,

    /// <summary>May be left out of the request; the C# default value is used.</summary>
    Optional = 1,

    /// <summary>A JSON <c>null</c> is rejected (a non-nullable reference type).</summary>
    NotNull = 2,
}

/// <summary>One parameter of a method as it appears on the wire.</summary>
/// <param name="Name">The name used as the JSON property name when a method has two or more parameters.</param>
/// <param name="Flags">How the parameter is read.</param>
public sealed record RpcParameterDescriptor(string Name, RpcParameterFlags Flags = RpcParameterFlags.None)
{
    /// <summary>
    /// The parameter's declared type; set by generated code (null from code generated by an older RpcGen). Describes the
    /// contract (<c>RpcAsyncApi</c>); arguments are read by the generated dispatcher, not through it.
    /// </summary>
    public Type? ParameterType { get; init; }
}
