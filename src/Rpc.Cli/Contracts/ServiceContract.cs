using System.Collections.Generic;
using System.Text.Json;

namespace RpcGen.Cli.Contracts;

/// <summary>How a method travels, from the document's <c>x-rpcgen</c> extension.</summary>
internal enum MethodKind
{
    /// <summary>Request and reply.</summary>
    Call,

    /// <summary>Durable one-way work: no reply, retried and dead-lettered on failure.</summary>
    OneWay,

    /// <summary>A streamed result (IAsyncEnumerable).</summary>
    Stream,

    /// <summary>An event of an [RpcEvents] interface, published to its exchange.</summary>
    Event,
}

/// <summary>One parameter as the request body carries it.</summary>
internal sealed record ParameterContract(string Name, bool Optional, bool NotNull);

/// <summary>One method (or event) of a contract document.</summary>
internal sealed class MethodContract
{
    public required ServiceContract Service { get; init; }

    public required string Name { get; init; }

    public required MethodKind Kind { get; init; }

    public required IReadOnlyList<ParameterContract> Parameters { get; init; }

    /// <summary>The wire types of the faults it declares.</summary>
    public required IReadOnlyList<string> Faults { get; init; }

    public int TimeoutMilliseconds { get; init; }

    public int TimeToLiveMilliseconds { get; init; }

    /// <summary>The schema of the request body (an event's body), within <see cref="ServiceContract.Document"/>.</summary>
    public JsonElement? RequestSchema { get; init; }

    /// <summary>The schema of the result (a stream's item); null for one-way work and events.</summary>
    public JsonElement? ReplySchema { get; init; }

    /// <summary>Service.Method, as the verbs take it.</summary>
    public string FullName => Service.Name + "." + Name;

    public string KindName => Kind switch
    {
        MethodKind.OneWay => "one-way",
        MethodKind.Stream => "stream",
        MethodKind.Event => "event",
        _ => "call",
    };
}

/// <summary>A service or events interface, as one AsyncAPI document RpcGen wrote describes it.</summary>
internal sealed class ServiceContract
{
    public required string Name { get; init; }

    /// <summary>The file it came from.</summary>
    public required string Source { get; init; }

    /// <summary>The whole document: schemas' <c>$ref</c>s resolve in it.</summary>
    public required JsonElement Document { get; init; }

    public bool IsEvents => Exchange is not null;

    /// <summary>The service queue; null for events.</summary>
    public string? Queue { get; init; }

    public bool Ordered { get; init; }

    /// <summary>The events exchange; null for a service.</summary>
    public string? Exchange { get; init; }

    /// <summary>fanout, direct or topic; null for a service.</summary>
    public string? ExchangeType { get; init; }

    public List<MethodContract> Methods { get; } = new();
}
