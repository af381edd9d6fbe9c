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
    /// the connection's <see cref="RpcOptions.DefaultTimeout"/>. A method's own
    /// <see cref="RpcMethodAttribute.TimeoutMilliseconds"/> and a per-call <see cref="RpcCallOptions.Timeout"/> take precedence.
    /// </summary>
    public int TimeoutMilliseconds { get; set; }
}
