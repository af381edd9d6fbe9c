using System;

namespace RpcGen;

/// <summary>The base of every exception RpcGen throws for a call; names the service and method where known.</summary>
public class RpcException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public RpcException(string message) : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    public RpcException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for one call.</summary>
    public RpcException(string message, string? service, string? method, Exception? innerException = null)
        : base(message, innerException)
    {
        Service = service;
        Method = method;
    }

    /// <summary>The service name, e.g. <c>Calculator</c>.</summary>
    public string? Service { get; }

    /// <summary>The method's wire name, e.g. <c>Add</c>.</summary>
    public string? Method { get; }
}

/// <summary>No reply came within the call's timeout.</summary>
public sealed class RpcTimeoutException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcTimeoutException(string service, string method, string queue, TimeSpan timeout)
        : base($"RPC {service}.{method} timed out after {timeout.TotalMilliseconds:0} ms waiting for a reply (queue '{queue}').", service, method)
    {
        Queue = queue;
        Timeout = timeout;
    }

    /// <summary>The request queue.</summary>
    public string Queue { get; }

    /// <summary>The timeout that elapsed.</summary>
    public TimeSpan Timeout { get; }
}

/// <summary>The server replied with an error: its handler threw, or it could not accept the request.</summary>
public sealed class RpcRemoteException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcRemoteException(string service, string method, string remoteType, string remoteMessage, string? remoteDetail = null)
        : base($"RPC {service}.{method} failed on the server: {remoteType}: {remoteMessage}", service, method)
    {
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
        RemoteDetail = remoteDetail;
    }

    /// <summary>
    /// The error type from the reply: the server exception's type name (e.g. <c>System.InvalidOperationException</c>),
    /// or one of the <c>rpc:</c> types the runtime itself produces (see docs/wire-format.md).
    /// </summary>
    public string RemoteType { get; }

    /// <summary>The error message from the reply.</summary>
    public string RemoteMessage { get; }

    /// <summary>The server exception's full text, when the server sends it (<see cref="RpcOptions.IncludeExceptionDetails"/>).</summary>
    public string? RemoteDetail { get; }
}

/// <summary>The request could not be routed: no queue of that name exists, so no server serves it.</summary>
public sealed class RpcServiceUnavailableException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcServiceUnavailableException(string service, string method, string queue)
        : base($"RPC {service}.{method} could not be delivered: no queue '{queue}' exists on the broker (is a server for {service} running?).", service, method)
    {
        Queue = queue;
    }

    /// <summary>The request queue that does not exist.</summary>
    public string Queue { get; }
}

/// <summary>
/// An event no queue is bound for: the broker dropped it. Thrown only when <see cref="RpcOptions.FailUnroutableEvents"/>
/// is set; otherwise it is logged and counted.
/// </summary>
public sealed class RpcUnroutableEventException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcUnroutableEventException(string events, string method, string exchange, string routingKey)
        : base($"Event {events}.{method} reached no queue: nothing is bound to exchange '{exchange}' for routing key '{routingKey}' (is a subscriber running?).", events, method)
    {
        Exchange = exchange;
        RoutingKey = routingKey;
    }

    /// <summary>The exchange the event was published to.</summary>
    public string Exchange { get; }

    /// <summary>The routing key no binding matched.</summary>
    public string RoutingKey { get; }
}

/// <summary>The broker could not be reached, or the connection was lost while the call was in flight.</summary>
public sealed class RpcConnectionException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcConnectionException(string message, string? service = null, string? method = null, Exception? innerException = null)
        : base(message, service, method, innerException)
    {
    }
}

/// <summary>An argument or a result could not be serialised or deserialised on this side of the call.</summary>
public sealed class RpcSerializationException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcSerializationException(string message, string service, string method, Exception? innerException)
        : base(message, service, method, innerException)
    {
    }
}
