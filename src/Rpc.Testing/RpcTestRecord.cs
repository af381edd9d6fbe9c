using System;

namespace RpcGen.Testing;

/// <summary>One thing that happened on the in-memory broker or in a handler, recorded by <see cref="RpcTestHarness"/>.</summary>
public sealed class RpcTestRecord
{
    internal RpcTestRecord(RpcTestEventKind kind, string? service, string destination, string method, DateTimeOffset at)
    {
        Kind = kind;
        Service = service;
        Destination = destination;
        Method = method;
        At = at;
    }

    /// <summary>What happened.</summary>
    public RpcTestEventKind Kind { get; }

    /// <summary>The service or events interface name, when the record came from a handler; <see langword="null"/> for what the broker saw.</summary>
    public string? Service { get; }

    /// <summary>The queue a request went to, or the exchange an event was published to; empty for a handler's record.</summary>
    public string Destination { get; }

    /// <summary>The method's or event's wire name (the AMQP <c>type</c>).</summary>
    public string Method { get; }

    /// <summary>When it happened, on the harness's <see cref="RpcTestHarness.TimeProvider"/>.</summary>
    public DateTimeOffset At { get; }

    /// <summary>The message's correlation id, when it has one (calls and their replies).</summary>
    public string? CorrelationId { get; init; }

    /// <summary>An event's routing key; a request's queue.</summary>
    public string? RoutingKey { get; init; }

    /// <summary>The broker's redelivered flag (<see cref="RpcTestEventKind.Delivered"/>) or the handler's context (<see cref="RpcTestEventKind.Handled"/>, <see cref="RpcTestEventKind.Faulted"/>).</summary>
    public bool Redelivered { get; init; }

    /// <summary>The <c>rpc-retries</c> count the message carried.</summary>
    public int Retries { get; init; }

    /// <summary>What a handler threw (<see cref="RpcTestEventKind.Faulted"/>).</summary>
    public Exception? Exception { get; init; }

    /// <summary>An error reply's or a dead letter's error type (<c>rpc:*</c> or the fault's name), when the message says it.</summary>
    public string? ErrorType { get; init; }

    /// <summary>Whether an <see cref="RpcTestEventKind.Answered"/> reply is an error.</summary>
    public bool IsError { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Kind} {Service ?? Destination}.{Method}" + (Redelivered ? " (redelivered)" : "") + (Retries > 0 ? $" (retry {Retries})" : "") +
        (ErrorType is null ? "" : $" [{ErrorType}]") + (Exception is null ? "" : $" threw {Exception.GetType().Name}");
}
