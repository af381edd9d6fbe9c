using System;
using System.Threading;

namespace RpcGen;

/// <summary>
/// What a service implementation may know about the request it is serving. <see cref="Current"/> is set while a
/// handler runs on an RpcGen server.
/// </summary>
public sealed class RpcContext
{
    private static readonly AsyncLocal<RpcContext?> s_current = new();

    internal RpcContext(string service, string method, string? correlationId, string? userId, bool redelivered, DateTimeOffset? deadline = null)
    {
        Deadline = deadline;
        Service = service;
        Method = method;
        CorrelationId = correlationId;
        UserId = userId;
        Redelivered = redelivered;
    }

    /// <summary>The request being served on this async flow, or <see langword="null"/> outside a handler.</summary>
    public static RpcContext? Current
    {
        get => s_current.Value;
        internal set => s_current.Value = value;
    }

    /// <summary>The service name.</summary>
    public string Service { get; }

    /// <summary>The method's wire name.</summary>
    public string Method { get; }

    /// <summary>The caller's correlation id (absent for one-way calls from plain clients).</summary>
    public string? CorrelationId { get; }

    /// <summary>
    /// The AMQP <c>user_id</c> of the request. RabbitMQ rejects a message whose <c>user_id</c> differs from the
    /// publishing connection's user, so when it is set it names the authenticated caller.
    /// </summary>
    public string? UserId { get; }

    /// <summary>
    /// True when the broker delivered this request before (a server died or stopped without acknowledging it).
    /// Calls are at-least-once: a handler with side effects can use this to check for a repeat.
    /// </summary>
    public bool Redelivered { get; }

    /// <summary>
    /// When the caller stops waiting for the reply (its timeout), from the request's <c>rpc-deadline</c> header; or
    /// <see langword="null"/> when the caller sent none (plain clients, one-way sends). The handler's
    /// <see cref="System.Threading.CancellationToken"/> parameter fires at this moment (and when the server stops
    /// past its drain timeout), so a handler that honours it frees its slot and stops work nobody waits for.
    /// The deadline is the caller's clock: allow for skew between hosts (<see cref="RpcOptions.ClockSkewTolerance"/>).
    /// </summary>
    public DateTimeOffset? Deadline { get; }
}
