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

    internal RpcContext(string service, string method, string? correlationId, string? userId, bool redelivered)
    {
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
}
