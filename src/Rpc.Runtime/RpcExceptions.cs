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

/// <summary>
/// No reply came within the call's timeout (its own, or the time left of the call being served when it was made).
/// </summary>
/// <remarks>
/// A <see cref="TimeoutException"/>, not an <see cref="RpcException"/>, so that <c>catch (TimeoutException)</c> and
/// resilience libraries (Polly's timeout and retry handling, for example) see it for what it is. <c>catch (RpcException)</c>
/// therefore no longer catches it; catch both, or <see cref="Exception"/>, where every call failure is handled alike.
/// It names the service and method as <see cref="RpcException"/> does.
/// </remarks>
public sealed class RpcTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public RpcTimeoutException(string service, string method, string queue, TimeSpan timeout)
        : base($"RPC {service}.{method} timed out after {timeout.TotalMilliseconds:0} ms waiting for a reply (queue '{queue}').")
    {
        Service = service;
        Method = method;
        Queue = queue;
        Timeout = timeout;
    }

    /// <summary>Creates the exception for a call whose caller's deadline had already passed when it was made.</summary>
    internal RpcTimeoutException(string service, string method, string queue, TimeSpan timeout, string message)
        : base(message)
    {
        Service = service;
        Method = method;
        Queue = queue;
        Timeout = timeout;
    }

    /// <summary>The service name, e.g. <c>Calculator</c>.</summary>
    public string Service { get; }

    /// <summary>The method's wire name, e.g. <c>Add</c>.</summary>
    public string Method { get; }

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

/// <summary>
/// No server serves the call: no queue of that name exists (the broker returned the request), or the queue exists
/// but nothing consumes it (checked when a call has waited <see cref="RpcOptions.ServerCheckDelay"/> without a reply,
/// unless the call waits for ready).
/// </summary>
public sealed class RpcServiceUnavailableException : RpcException
{
    /// <summary>Creates the exception for a queue that does not exist.</summary>
    public RpcServiceUnavailableException(string service, string method, string queue)
        : this(service, method, queue, queueExists: false)
    {
    }

    /// <summary>Creates the exception; <paramref name="queueExists"/> tells a queue without consumers from a missing one.</summary>
    public RpcServiceUnavailableException(string service, string method, string queue, bool queueExists)
        : base(queueExists
            ? $"RPC {service}.{method} could not be served: queue '{queue}' exists but no server consumes it (is a server for {service} running?)."
            : $"RPC {service}.{method} could not be delivered: no queue '{queue}' exists on the broker (is a server for {service} running?).",
            service, method)
    {
        Queue = queue;
        QueueExists = queueExists;
    }

    /// <summary>The request queue.</summary>
    public string Queue { get; }

    /// <summary>True when the queue exists but has no consumer; false when it does not exist.</summary>
    public bool QueueExists { get; }
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
