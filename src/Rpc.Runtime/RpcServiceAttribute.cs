using System;

namespace RpcGen;

/// <summary>
/// Marks an interface as a service callable over RabbitMQ. The RpcGen source generator writes a client
/// (<c>{Name}Client</c>) and a server dispatcher for it at compile time.
/// </summary>
[AttributeUsage(AttributeTargets.Interface, Inherited = false, AllowMultiple = false)]
public sealed class RpcServiceAttribute : Attribute
{
    /// <summary>
    /// The request queue. Defaults to the interface name without its leading <c>I</c>
    /// (<c>IFibonacci</c> → <c>Fibonacci</c>).
    /// </summary>
    public string? Queue { get; set; }

    /// <summary>
    /// How long a caller waits for a reply from any method of this service, in milliseconds; 0 (the default) means
    /// the connection's <see cref="RpcClientOptions.DefaultTimeout"/>. A method's own
    /// <see cref="RpcMethodAttribute.TimeoutMilliseconds"/> and a per-call <see cref="RpcCallOptions.Timeout"/> take precedence.
    /// </summary>
    public int TimeoutMilliseconds { get; set; }

    /// <summary>
    /// How long, in milliseconds, a one-way request to this service may wait in the queue before the broker discards
    /// it, unless the method sets its own <see cref="RpcMethodAttribute.TimeToLiveMilliseconds"/>. Zero, the default:
    /// one-way requests are durable work that waits for a server as long as the queue lives.
    /// </summary>
    public int TimeToLiveMilliseconds { get; set; }

    /// <summary>
    /// When <see langword="true"/>, requests are handled strictly in queue order: the queue is declared with
    /// single active consumer (one server at a time takes it, the others stand by), the server runs one request at a
    /// time, and a failed one-way request is retried in place before the next one starts. Throughput is that of one
    /// request at a time. Set it on a new queue: RabbitMQ refuses to redeclare an existing queue with other arguments.
    /// </summary>
    public bool Ordered { get; set; }

    /// <summary>
    /// The source-generated <see cref="System.Text.Json.Serialization.JsonSerializerContext"/> that serialises this
    /// contract's parameter and result types. Checked at compile time only: RpcGen reports every such type the context
    /// does not cover (RPCGEN015), so a trimmed or AOT app cannot build with a gap it would meet at its first call.
    /// Serialisation at run time still uses <see cref="RpcConnectionOptions.JsonSerializerOptions"/>; put the same context there.
    /// </summary>
    public Type? JsonContext { get; set; }
}
