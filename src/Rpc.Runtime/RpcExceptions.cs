using System;

namespace RpcGen;

/// <summary>
/// The base of every exception RpcGen throws for a call, timeouts included; names the service and method where known,
/// and says what kind of failure it is (<see cref="StatusCode"/>).
/// </summary>
public class RpcException : Exception
{
    /// <summary>Creates an exception with a message; its status is <see cref="RpcStatusCode.Internal"/>.</summary>
    public RpcException(string message) : this(RpcStatusCode.Internal, message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it; its status is <see cref="RpcStatusCode.Internal"/>.</summary>
    public RpcException(string message, Exception? innerException) : this(RpcStatusCode.Internal, message, innerException: innerException)
    {
    }

    /// <summary>Creates an exception for one call; its status is <see cref="RpcStatusCode.Internal"/>.</summary>
    public RpcException(string message, string? service, string? method, Exception? innerException = null)
        : this(RpcStatusCode.Internal, message, service, method, innerException)
    {
    }

    /// <summary>Creates an exception of status <paramref name="statusCode"/>, for one call when <paramref name="service"/> is given.</summary>
    public RpcException(RpcStatusCode statusCode, string message, string? service = null, string? method = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Service = service;
        Method = method;
    }

    /// <summary>What kind of failure this is; the exception's type says more.</summary>
    public RpcStatusCode StatusCode { get; }

    /// <summary>The service name, e.g. <c>Calculator</c>.</summary>
    public string? Service { get; }

    /// <summary>The method's wire name, e.g. <c>Add</c>.</summary>
    public string? Method { get; }
}

/// <summary>
/// No reply came within the call's timeout (its own, or the time left of the call being served when it was made);
/// <see cref="RpcException.StatusCode"/> is <see cref="RpcStatusCode.DeadlineExceeded"/>.
/// </summary>
/// <remarks>
/// An <see cref="RpcException"/>, so <c>catch (RpcException)</c> handles it with every other call failure; it is not a
/// <see cref="TimeoutException"/> (it was before 1.0): resilience policies that should treat it as a timeout handle
/// <see cref="RpcTimeoutException"/>, or <see cref="RpcException"/> whose status is
/// <see cref="RpcStatusCode.DeadlineExceeded"/>. The request may still run, or have run: retry only an idempotent
/// method (docs/reliability.md, "Which failures are safe to retry").
/// </remarks>
public sealed class RpcTimeoutException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcTimeoutException(string service, string method, string queue, TimeSpan timeout)
        : this(service, method, queue, timeout,
            $"RPC {service}.{method} timed out after {timeout.TotalMilliseconds:0} ms waiting for a reply (queue '{queue}').")
    {
    }

    /// <summary>Creates the exception for a call whose caller's deadline had already passed when it was made.</summary>
    internal RpcTimeoutException(string service, string method, string queue, TimeSpan timeout, string message)
        : base(RpcStatusCode.DeadlineExceeded, message, service, method)
    {
        Queue = queue;
        Timeout = timeout;
    }

    /// <summary>The request queue.</summary>
    public string Queue { get; }

    /// <summary>The timeout that elapsed.</summary>
    public TimeSpan Timeout { get; }
}

/// <summary>
/// The server replied with an error: its handler threw (<see cref="RpcException.StatusCode"/> is
/// <see cref="RpcStatusCode.Remote"/>), or it could not accept the request (an <see cref="RpcErrorTypes"/> type, whose
/// status says why: <see cref="RpcErrorTypes.DeadlineExceeded"/> is <see cref="RpcStatusCode.DeadlineExceeded"/>,
/// <see cref="RpcErrorTypes.UnknownMethod"/> <see cref="RpcStatusCode.Unimplemented"/>, <see cref="RpcErrorTypes.BadRequest"/>
/// <see cref="RpcStatusCode.InvalidArgument"/>, <see cref="RpcErrorTypes.TooLarge"/> <see cref="RpcStatusCode.ResourceExhausted"/>,
/// <see cref="RpcErrorTypes.Cancelled"/> <see cref="RpcStatusCode.Cancelled"/>, other <c>rpc:</c> types <see cref="RpcStatusCode.Internal"/>).
/// </summary>
public sealed class RpcRemoteException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcRemoteException(string service, string method, string remoteType, string remoteMessage, string? remoteDetail = null)
        : base(RpcErrorTypes.StatusOf(remoteType), $"RPC {service}.{method} failed on the server: {remoteType}: {remoteMessage}", service, method)
    {
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
        RemoteDetail = remoteDetail;
    }

    /// <summary>
    /// The error type from the reply: the server exception's type name (e.g. <c>System.InvalidOperationException</c>),
    /// or one of the <see cref="RpcErrorTypes"/> the runtime itself produces (see docs/wire-format.md).
    /// </summary>
    public string RemoteType { get; }

    /// <summary>The error message from the reply.</summary>
    public string RemoteMessage { get; }

    /// <summary>The server exception's full text, when the server sends it (<see cref="RpcServerOptions.IncludeExceptionDetails"/>).</summary>
    public string? RemoteDetail { get; }

    /// <summary>
    /// The error reply's <c>data</c> object, when it has one: the properties of a fault the server declared
    /// (<see cref="RpcFaultAttribute"/>) that this client's contract does not, so a client built from a contract
    /// document (the <c>rpcgen</c> tool) can still show them. Null when the reply carries no data.
    /// </summary>
    public System.Text.Json.JsonElement? RemoteData { get; init; }
}

/// <summary>
/// No server serves the call, and the request will not run: no queue of that name exists (the broker returned the
/// request, or the queue is gone and took it along), or the queue exists but nothing consumes it and the request was
/// not sent (a call to a queue that an earlier call found without a consumer asks the broker first). Safe to retry: the
/// method did not run. A request that was published and may still run fails with <see cref="RpcRequestQueuedException"/> instead.
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
        : this(service, method, queue, queueExists, queueExists
            ? $"RPC {service}.{method} could not be served: queue '{queue}' exists but no server consumes it (is a server for {service} running?)."
            : $"RPC {service}.{method} could not be delivered: no queue '{queue}' exists on the broker (is a server for {service} running?).")
    {
    }

    /// <summary>The request was not published: the broker said, just before, that nobody consumes the queue (or that it is missing).</summary>
    internal static RpcServiceUnavailableException NotSent(string service, string method, string queue, bool queueExists) =>
        new(service, method, queue, queueExists, queueExists
            ? $"RPC {service}.{method} was not sent: queue '{queue}' exists but no server consumes it (is a server for {service} running?). It did not run; it is safe to retry."
            : $"RPC {service}.{method} was not sent: no queue '{queue}' exists on the broker (is a server for {service} running?). It did not run; it is safe to retry.");

    private RpcServiceUnavailableException(string service, string method, string queue, bool queueExists, string message)
        : base(RpcStatusCode.Unavailable, message, service, method)
    {
        Queue = queue;
        QueueExists = queueExists;
    }

    /// <summary>The request queue.</summary>
    public string Queue { get; }

    /// <summary>True when the queue exists but has no consumer; false when it does not exist.</summary>
    public bool QueueExists { get; }
}

/// <summary>
/// The request was published to its queue, but no server consumed the queue while the call waited (checked when a call
/// has waited <see cref="RpcClientOptions.ServerCheckDelay"/> without a reply): the request is still in the queue and <b>may
/// still run</b> if a server starts before it expires (its expiration is the call's timeout). Not safe to retry as is:
/// a retry may run the method twice. Retry only a method that is idempotent, or one whose handler de-duplicates.
/// Compare <see cref="RpcServiceUnavailableException"/>, thrown only when the request will not run.
/// </summary>
public sealed class RpcRequestQueuedException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcRequestQueuedException(string service, string method, string queue)
        : base(RpcStatusCode.Unavailable,
            $"RPC {service}.{method}: no server consumes queue '{queue}', where the request waits; the call was given up, but the request " +
            $"may still run if a server for {service} starts before it expires (its expiration is the call's timeout). Retrying may run it twice.",
            service, method)
    {
        Queue = queue;
    }

    /// <summary>The request queue the request waits in.</summary>
    public string Queue { get; }
}

/// <summary>
/// An event no queue is bound for: the broker dropped it. Thrown only when <see cref="RpcClientOptions.FailUnroutableEvents"/>
/// is set; otherwise it is logged and counted.
/// </summary>
public sealed class RpcUnroutableEventException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcUnroutableEventException(string events, string method, string exchange, string routingKey)
        : base(RpcStatusCode.Unavailable,
            $"Event {events}.{method} reached no queue: nothing is bound to exchange '{exchange}' for routing key '{routingKey}' (is a subscriber running?).", events, method)
    {
        Exchange = exchange;
        RoutingKey = routingKey;
    }

    /// <summary>The exchange the event was published to.</summary>
    public string Exchange { get; }

    /// <summary>The routing key no binding matched.</summary>
    public string RoutingKey { get; }
}

/// <summary>
/// The broker could not be reached, the connection was lost while the call was in flight, or the broker closed the
/// channel or blocks publishers (the subclasses say which). A call that was in flight may still run, or have run:
/// retry only an idempotent method (docs/reliability.md, "Which failures are safe to retry").
/// </summary>
public class RpcConnectionException : RpcException
{
    /// <summary>Creates the exception; its status is <see cref="RpcStatusCode.Unavailable"/>.</summary>
    public RpcConnectionException(string message, string? service = null, string? method = null, Exception? innerException = null)
        : this(RpcStatusCode.Unavailable, message, service, method, innerException)
    {
    }

    /// <summary>Creates the exception with the status of a subclass.</summary>
    private protected RpcConnectionException(RpcStatusCode statusCode, string message, string? service, string? method, Exception? innerException)
        : base(statusCode, message, service, method, innerException)
    {
    }
}

/// <summary>An argument or a result could not be serialised or deserialised on this side of the call (<see cref="RpcStatusCode.Internal"/>).</summary>
public sealed class RpcSerializationException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcSerializationException(string message, string service, string method, Exception? innerException)
        : base(message, service, method, innerException)
    {
    }
}

/// <summary>
/// The broker closed the channel that carried the call (the connection stayed open), e.g. a message over the broker's
/// <c>max_message_size</c>, a <c>user_id</c> that is not the connection's user, or a consumer past the broker's
/// <c>consumer_timeout</c>. The runtime rebuilds the channel at once; later calls go out on the new one.
/// </summary>
public sealed class RpcChannelClosedException : RpcConnectionException
{
    /// <summary>Creates the exception.</summary>
    public RpcChannelClosedException(string message, ushort replyCode, string replyText, string? service = null, string? method = null)
        : base(message, service, method)
    {
        ReplyCode = replyCode;
        ReplyText = replyText;
    }

    /// <summary>The broker's AMQP reply code, e.g. 406 (PRECONDITION_FAILED).</summary>
    public ushort ReplyCode { get; }

    /// <summary>The broker's reason, e.g. <c>PRECONDITION_FAILED - message size 2097152 is larger than configured max size 1048576</c>.</summary>
    public string ReplyText { get; }
}

/// <summary>
/// The broker blocks this connection's publishers (<c>connection.blocked</c>: a memory or disk alarm), so the request
/// was not sent (<see cref="RpcStatusCode.ResourceExhausted"/>). Nothing was published; the call can be retried once the
/// alarm clears (<see cref="RpcConnection.IsBlocked"/> turns false).
/// </summary>
public sealed class RpcBrokerBlockedException : RpcConnectionException
{
    /// <summary>Creates the exception.</summary>
    public RpcBrokerBlockedException(string message, string reason, string? service = null, string? method = null)
        : base(RpcStatusCode.ResourceExhausted, message, service, method, innerException: null)
    {
        Reason = reason;
    }

    /// <summary>The broker's reason for blocking, e.g. <c>low on memory</c> or <c>low on disk</c>.</summary>
    public string Reason { get; }
}

/// <summary>
/// The request is larger than <see cref="RpcConnectionOptions.MaxMessageSize"/>, so it was not published: over the broker's own
/// <c>max_message_size</c> it would have closed the channel.
/// </summary>
public sealed class RpcMessageTooLargeException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcMessageTooLargeException(string service, string method, int size, int limit)
        : base(RpcStatusCode.ResourceExhausted,
            $"RPC {service}.{method}: the request is {size} bytes, larger than RpcConnectionOptions.MaxMessageSize ({limit} bytes); it was not sent.", service, method)
    {
        Size = size;
        Limit = limit;
    }

    /// <summary>The request body's size in bytes.</summary>
    public int Size { get; }

    /// <summary>The limit it exceeded (<see cref="RpcConnectionOptions.MaxMessageSize"/>).</summary>
    public int Limit { get; }
}
