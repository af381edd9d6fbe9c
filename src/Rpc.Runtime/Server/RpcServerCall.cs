using System;
using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using RpcGen.Server;
using RpcGen.Wire;

namespace RpcGen.Generated;

/// <summary>One request being served: generated dispatchers read arguments from it and store the result in it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcServerCall
{
    // One writer per thread, pointed at each call's buffer in turn: serialising a result allocates no writer.
    [ThreadStatic] private static Utf8JsonWriter? t_resultWriter;

    // A mutable struct: not readonly, so reading arguments can keep what it parsed.
    private RequestBodyReader _body;
    private readonly JsonSerializerOptions _json;
    private readonly ServerRequest _request;
    private readonly ServerStreamSettings _streams;
    private readonly CancellationToken _serverStopping;
    private CancellationTokenSource? _deadlineSource;
    private ITimer? _deadlineTimer; // the deadline's timer on a clock other than the system's, which CancelAfter cannot use
    private ServerStream? _stream;
    private int _refusedByInterceptor;
    private static readonly TimeSpan s_longestTimer = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <param name="method">The method the request calls.</param>
    /// <param name="request">The delivered request: its body, the buffer the result is written to, the channel it came on.</param>
    /// <param name="context">What the handler may know about the request.</param>
    /// <param name="json">The server's serializer options.</param>
    /// <param name="routingKey">The routing key as first published (a retried copy carries it in a header).</param>
    /// <param name="streams">What a streamed result is sent with.</param>
    internal RpcServerCall(RpcMethodDescriptor method, ServerRequest request, RpcContext context, JsonSerializerOptions json, string routingKey,
        ServerStreamSettings streams)
    {
        RoutingKey = routingKey;
        Method = method;
        _request = request;
        _body = new RequestBodyReader(method, request.Body, request.Properties.ContentType);
        _json = json;
        Context = context;
        _streams = streams;
        // Fires when the broker closes the request's channel, and when the server stops past its drain timeout.
        _serverStopping = request.Consumer.ChannelLost.Token;
    }

    private int _cancelledByCaller;

    /// <summary>The method being called.</summary>
    public RpcMethodDescriptor Method { get; }

    /// <summary>What the handler may know about the request (caller, correlation id, redelivery).</summary>
    public RpcContext Context { get; }

    /// <summary>The event's routing key (for a <see cref="RpcRoutingKeyAttribute"/> parameter): as first published, also on a retry.</summary>
    public string RoutingKey { get; }

    /// <summary>
    /// Cancelled when the caller's deadline passes (<see cref="RpcContext.Deadline"/>), when the caller cancels the
    /// call (its token or its timeout, sent on the control path), and when the server stops and the call did not
    /// finish within the drain timeout.
    /// </summary>
    /// <remarks>
    /// Made on first read: only handlers that take a <see cref="System.Threading.CancellationToken"/> pay for the
    /// linked source and its timer.
    /// </remarks>
    public CancellationToken CancellationToken => Volatile.Read(ref _deadlineSource) is { } source ? source.Token : CreateToken();

    private CancellationToken CreateToken()
    {
        // Always a source of our own (even without a deadline): a cancel from the caller must be able to fire it.
        var source = CancellationTokenSource.CreateLinkedTokenSource(_serverStopping);
        if (Interlocked.CompareExchange(ref _deadlineSource, source, null) is { } existing)
        {
            source.Dispose();
            return existing.Token;
        }

        if (Context.Deadline is { } deadline)
        {
            var time = _streams.Time;
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero) source.Cancel();
            // A timer cannot wait longer (CancelAfter throws); a caller's deadline weeks away is no deadline in practice.
            else if (remaining < s_longestTimer && ReferenceEquals(time, TimeProvider.System)) source.CancelAfter(remaining);
            else if (remaining < s_longestTimer) _deadlineTimer = time.CreateTimer(static state => CancelQuietly((CancellationTokenSource)state!), source, remaining, Timeout.InfiniteTimeSpan);
        }

        // A cancel that came before the source existed set the flag; one that comes after sees the source.
        if (Volatile.Read(ref _cancelledByCaller) != 0) source.Cancel();
        return source.Token;
    }

    /// <summary>The caller gave up: fires the handler's token (now, or as soon as the handler asks for it).</summary>
    internal void CancelByCaller()
    {
        Interlocked.Exchange(ref _cancelledByCaller, 1);
        try
        {
            Volatile.Read(ref _deadlineSource)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call finished meanwhile.
        }
    }

    /// <summary>The server's clock, which the caller's deadline is read on.</summary>
    internal TimeProvider Time => _streams.Time;

    /// <summary>Whether the caller cancelled this call.</summary>
    internal bool CancelledByCaller => Volatile.Read(ref _cancelledByCaller) != 0;

    /// <summary>
    /// The handler's token fired for the caller's deadline: neither the caller nor a lost channel or stopping server
    /// fired it. Asked instead of the clock, because the deadline's timer may fire a fraction of a millisecond before
    /// the wall clock reaches the deadline, and a reply sent then would race the caller's own timeout.
    /// </summary>
    internal bool StoppedByDeadline => Volatile.Read(ref _deadlineSource) is { IsCancellationRequested: true }
        && !CancelledByCaller && !_serverStopping.IsCancellationRequested;

    /// <summary>The call is over: its linked source and deadline timer, if one was made, are released.</summary>
    internal void Complete()
    {
        _deadlineTimer?.Dispose();
        Volatile.Read(ref _deadlineSource)?.Dispose();
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call completed as its deadline passed.
        }
    }

    /// <summary>A server interceptor threw before the handler ran: a refusal, which a retry would meet again.</summary>
    internal bool RefusedByInterceptor => Volatile.Read(ref _refusedByInterceptor) != 0;

    internal void RefuseByInterceptor() => Volatile.Write(ref _refusedByInterceptor, 1);

    /// <summary>The stream of the result while it runs, once the method streams it (credit from the caller goes to it); null otherwise.</summary>
    internal ServerStream? Stream => Volatile.Read(ref _stream);

    /// <summary>
    /// Sends the items of a method returning <see cref="System.Collections.Generic.IAsyncEnumerable{T}"/> to the caller
    /// as the caller grants credit, then the end marker; an exception from the enumeration becomes the error marker
    /// after the items sent so far. Completes when the stream is over; the enumeration gets <see cref="CancellationToken"/>.
    /// </summary>
    public System.Threading.Tasks.Task StreamAsync<T>(System.Collections.Generic.IAsyncEnumerable<T> items)
    {
        if (items is null) throw new ArgumentNullException(nameof(items), $"Method '{Method.WireName}' returned a null IAsyncEnumerable.");
        var typeInfo = GetTypeInfo<T>();
        var stream = ServerStream.Open(_request, _streams);
        Volatile.Write(ref _stream, stream);
        return stream.RunAsync(this, items, typeInfo);
    }

    /// <summary>Reads a required argument.</summary>
    public T ReadArgument<T>(int index) => _body.Read(index, GetTypeInfo<T>(), hasDefault: false, default!);

    /// <summary>Reads an optional argument, using <paramref name="defaultValue"/> when the request leaves it out.</summary>
    public T ReadArgument<T>(int index, T defaultValue) => _body.Read(index, GetTypeInfo<T>(), hasDefault: true, defaultValue);

    /// <summary>Checks that a request to a method without parameters carries no arguments.</summary>
    public void EnsureNoArguments() => _body.EnsureNoArguments();

    /// <summary>Stores the handler's result; it is serialised now, so a failure is reported as a server error.</summary>
    public void SetResult<T>(T value)
    {
        try
        {
            var writer = t_resultWriter;
            if (writer is null) t_resultWriter = writer = new Utf8JsonWriter(_request.Result);
            else writer.Reset(_request.Result);
            JsonSerializer.Serialize(writer, value, GetTypeInfo<T>());
            writer.Flush();
        }
        catch (Exception e)
        {
            throw new RpcResultSerializationException($"The result of method '{Method.WireName}' ({typeof(T).Name}) cannot be serialised: {e.Message}", e);
        }
    }

    private JsonTypeInfo<T> GetTypeInfo<T>()
    {
        try
        {
            return JsonTypeInfoCache<T>.Get(_json);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException)
        {
            throw new RpcResultSerializationException($"Type {typeof(T).FullName} is not supported by the server's JsonSerializerOptions: {e.Message}", e);
        }
    }
}

/// <summary>The result could not be serialised; reported as <see cref="WireContract.ErrorTypes.ServerError"/>.</summary>
internal sealed class RpcResultSerializationException : Exception
{
    public RpcResultSerializationException(string message, Exception inner) : base(message, inner)
    {
    }
}
