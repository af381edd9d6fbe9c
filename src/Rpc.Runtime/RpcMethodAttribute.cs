using System;

namespace RpcGen;

/// <summary>Sets how one method of an <see cref="RpcServiceAttribute"/> interface appears on the wire.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false, AllowMultiple = false)]
public sealed class RpcMethodAttribute : Attribute
{
    /// <summary>Keeps the default wire name: the C# method name without a trailing <c>Async</c>.</summary>
    public RpcMethodAttribute()
    {
    }

    /// <summary>Sets the wire name, sent as the AMQP <c>type</c> property of each request.</summary>
    /// <param name="name">The wire name; letters, digits, <c>.</c>, <c>-</c> and <c>_</c>.</param>
    public RpcMethodAttribute(string name) => Name = name;

    /// <summary>The wire name, or <see langword="null"/> for the default.</summary>
    public string? Name { get; }

    /// <summary>
    /// When <see langword="true"/> the call is fire-and-forget: the request carries no <c>reply_to</c>,
    /// the client completes once the broker has confirmed the publish, and the server sends no reply.
    /// Only valid on methods returning <see cref="System.Threading.Tasks.Task"/> or <see cref="System.Threading.Tasks.ValueTask"/>.
    /// </summary>
    public bool OneWay { get; set; }

    /// <summary>
    /// How long a caller waits for this method's reply, in milliseconds; 0 (the default) means the service's
    /// <see cref="RpcServiceAttribute.TimeoutMilliseconds"/>, else the connection's <see cref="RpcClientOptions.DefaultTimeout"/>.
    /// A per-call <see cref="RpcCallOptions.Timeout"/> overrides it. The effective timeout is sent as the request's
    /// <c>expiration</c> and <c>rpc-deadline</c>.
    /// </summary>
    public int TimeoutMilliseconds { get; set; }

    /// <summary>
    /// For a one-way method: how long, in milliseconds, a request may wait in the queue before the broker discards
    /// it (the AMQP <c>expiration</c>). Zero, the default, takes the service's
    /// <see cref="RpcServiceAttribute.TimeToLiveMilliseconds"/>; when that is zero too, one-way requests never expire.
    /// </summary>
    public int TimeToLiveMilliseconds { get; set; }
}
