using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;

namespace RpcGen;

/// <summary>
/// What a service implementation may know about the request it is serving. <see cref="Current"/> is set while a
/// handler runs on an RpcGen server; a unit test creates one with the public constructor and makes it current with
/// <see cref="MakeCurrent"/>.
/// </summary>
public sealed class RpcContext
{
    private static readonly AsyncLocal<RpcContext?> s_current = new();

    private static readonly IReadOnlyDictionary<string, string> s_noHeaders = new Dictionary<string, string>(0);

    private readonly IDictionary<string, object?>? _rawHeaders;
    private IReadOnlyDictionary<string, string>? _headers;

    /// <summary>
    /// Creates the context of a request, for a unit test of a handler that reads <see cref="Current"/> (or takes a context):
    /// <c>using (new RpcContext("Orders", "Place", deadline: DateTimeOffset.UtcNow.AddSeconds(5)).MakeCurrent()) { ... }</c>.
    /// </summary>
    /// <param name="service">The service name, e.g. <c>Orders</c>.</param>
    /// <param name="method">The method's wire name, e.g. <c>Place</c>.</param>
    /// <param name="headers">The caller's own headers (<see cref="Headers"/>); none when <see langword="null"/>.</param>
    /// <param name="deadline">When the caller stops waiting (<see cref="Deadline"/>); none when <see langword="null"/>.</param>
    /// <param name="correlationId">The caller's correlation id (<see cref="CorrelationId"/>).</param>
    /// <param name="userId">The authenticated caller (<see cref="UserId"/>).</param>
    /// <param name="messageId">The request's message id (<see cref="MessageId"/>).</param>
    /// <param name="redelivered">Whether the broker delivered the request before (<see cref="Redelivered"/>).</param>
    public RpcContext(string service, string method, IReadOnlyDictionary<string, string>? headers = null, DateTimeOffset? deadline = null,
        string? correlationId = null, string? userId = null, string? messageId = null, bool redelivered = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        ArgumentException.ThrowIfNullOrEmpty(method);
        Service = service;
        Method = method;
        _headers = headers is null ? s_noHeaders : new Dictionary<string, string>(headers, StringComparer.Ordinal);
        Deadline = deadline;
        CorrelationId = correlationId;
        UserId = userId;
        MessageId = messageId;
        Redelivered = redelivered;
    }

    internal RpcContext(string service, string method, string? correlationId, string? userId, bool redelivered,
        DateTimeOffset? deadline = null, IDictionary<string, object?>? rawHeaders = null)
    {
        Deadline = deadline;
        _rawHeaders = rawHeaders;
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

    /// <summary>
    /// Makes this context <see cref="Current"/> on the calling async flow until the returned scope is disposed, which
    /// puts back the one before: for unit tests of handlers (RpcGen servers set it themselves).
    /// </summary>
    public IDisposable MakeCurrent() => new CurrentScope(this);

    /// <summary>The service name.</summary>
    public string Service { get; }

    /// <summary>The method's wire name.</summary>
    public string Method { get; }

    /// <summary>The caller's correlation id (absent for one-way calls from plain clients).</summary>
    public string? CorrelationId { get; }

    /// <summary>
    /// The AMQP <c>message_id</c> of the request: RpcGen clients give every one-way request and every event a new
    /// random id, kept on its retries, its dead-letter copy and a replay of it. A handler of work that may arrive twice
    /// (a caller's resend after a failed send, a redelivery after a server died) can de-duplicate on it. Null when the
    /// sender set none (calls, plain clients).
    /// </summary>
    public string? MessageId { get; internal init; }

    /// <summary>
    /// The AMQP <c>user_id</c> of the request. RabbitMQ rejects a message whose <c>user_id</c> differs from the
    /// publishing connection's user, so when it is set it names the authenticated caller. On a retry of one-way work or
    /// an event it is the original caller, which the server's copy carries in its <c>rpc-original-user</c> header,
    /// believed only when the copy was published by the server's own broker user (a server whose connection the app
    /// opened without <see cref="RpcConnectionOptions.Uri"/> does not know that user: then it is null on retries).
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
    /// <see cref="System.Threading.CancellationToken"/> parameter fires at this moment (and when the caller cancels, and
    /// when the server stops past its drain timeout), so a handler that honours it frees its slot and stops work nobody
    /// waits for. Calls the handler makes are cut to the time left until then, so none outlives the call being served.
    /// The deadline is the caller's clock: allow for skew between hosts (<see cref="RpcServerOptions.ClockSkewTolerance"/>).
    /// </summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>
    /// The caller's own headers (<see cref="RpcCallOptions.Headers"/>, or any AMQP header a plain client sets), by
    /// name; the runtime's headers (<c>rpc-*</c>, <c>traceparent</c>, <c>tracestate</c>) are left out. Text values
    /// only: a header of another AMQP type (a number, a table) is not listed. Empty when there are none.
    /// </summary>
    public IReadOnlyDictionary<string, string> Headers => _headers ??= ReadHeaders(_rawHeaders);

    private sealed class CurrentScope : IDisposable
    {
        private readonly RpcContext? _previous;
        private bool _disposed;

        public CurrentScope(RpcContext context)
        {
            _previous = Current;
            Current = context;
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Current = _previous;
        }
    }

    private static IReadOnlyDictionary<string, string> ReadHeaders(IDictionary<string, object?>? raw)
    {
        if (raw is null || raw.Count == 0) return s_noHeaders;
        Dictionary<string, string>? headers = null;
        foreach (var header in raw)
        {
            if (Wire.WireContract.IsReservedHeader(header.Key)) continue;
            string? text = header.Value switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                string s => s,
                _ => null,
            };
            if (text is null) continue;
            (headers ??= new Dictionary<string, string>(StringComparer.Ordinal))[header.Key] = text;
        }

        return headers ?? s_noHeaders;
    }
}
