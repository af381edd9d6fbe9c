using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Capture;
using RpcGen.Client;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Generated;

/// <summary>
/// The narrow API generated clients call: create a request, write its arguments, then call, stream, send or publish
/// it. Each starts the same way (<see cref="OutgoingCall"/>: pre-flight, timeout, deadline, fail-fast) and then goes to
/// the part that carries it: <see cref="RequestReplyClient"/> for calls and streams, <see cref="WorkPublisher"/> for
/// one-way work and events.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcInvoker
{
    private readonly RpcSettings _options;
    // Null for a capturing invoker (RpcMessageCapture): it has no connection, so no state to refuse on and no calls.
    private readonly ConnectionState? _state;
    private readonly RequestReplyClient? _requests;
    // Where one-way work and events leave: the send channel's publisher, or a capturing invoker's sink.
    private readonly IOneWaySender _oneWay;
    private readonly ConcurrentDictionary<RpcServiceDescriptor, QueueName> _queues = new();

    private RpcInvoker(RpcSettings options, ConnectionState? state, RequestReplyClient? requests, IOneWaySender oneWay)
    {
        _options = options;
        _state = state;
        _requests = requests;
        _oneWay = oneWay;
    }

    /// <summary>An invoker that hands one-way requests and events to <paramref name="sink"/> instead of publishing them.</summary>
    internal static RpcInvoker Capturing(RpcSettings options, IRpcMessageSink sink) => new(options, null, null, new MessageCapture(sink, options));

    /// <summary>The send channel's publisher, which also publishes captured messages (a connected invoker's only).</summary>
    internal WorkPublisher Work => (WorkPublisher)_oneWay;

    /// <summary>The request/reply client; a capturing invoker has none (only a connected invoker's callers get here).</summary>
    private RequestReplyClient Requests => _requests ?? throw new InvalidOperationException("A capturing invoker makes no calls.");

    internal static async Task<RpcInvoker> CreateAsync(IConnection connection, ConnectionState state, RpcSettings options, string? userId,
        CancellationToken cancellationToken)
    {
        var requests = await RequestReplyClient.CreateAsync(connection, state, options, userId, cancellationToken).ConfigureAwait(false);
        try
        {
            var work = await WorkPublisher.CreateAsync(connection, options, userId, state.LostQueues, cancellationToken).ConfigureAwait(false);
            return new RpcInvoker(options, state, requests, work);
        }
        catch
        {
            await requests.CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts a request to <paramref name="method"/>.</summary>
    public RpcRequest CreateRequest(RpcMethodDescriptor method) => new(this, method);

    /// <summary>Calls the method and returns its result.</summary>
    public Task<T> CallAsync<T>(RpcRequest request, CancellationToken cancellationToken)
    {
        JsonTypeInfo<T> resultType;
        try
        {
            resultType = GetTypeInfo<T>();
        }
        catch (Exception e)
        {
            request.Release();
            return Task.FromException<T>(new RpcSerializationException(
                CallFailures.Text(request.Method, $"result type {typeof(T).Name} cannot be deserialised: {e.Message}"),
                request.Method.Service.Name, request.Method.WireName, e));
        }

        return Start(request, resultType, cancellationToken);
    }

    /// <summary>Calls a method that returns no result and completes when the server has replied.</summary>
    public Task CallAsync(RpcRequest request, CancellationToken cancellationToken) => Start<object?>(request, null, cancellationToken);

    private Task<T> Start<T>(RpcRequest request, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken) =>
        _requests is null ? NotCaptured<T>(request)
        : OutgoingCall.Start(this, request, cancellationToken, RpcCallOptions.Current, RpcContext.Current, out var call) is { } failure
            ? OutgoingCall.Failed<T>(failure)
            : _requests.CallAsync(call, resultType, cancellationToken);

    /// <summary>
    /// Calls a method whose result is a stream. Nothing is sent until the result is enumerated; each enumeration
    /// starts the call once (a second one throws). The ambient <see cref="RpcCallOptions"/> scope and the deadline of
    /// the call being served are read now, when the method is called, not when the stream is enumerated. Breaking out
    /// of <c>await foreach</c>, or cancelling, stops the server's enumeration.
    /// </summary>
    public IAsyncEnumerable<T> StreamAsync<T>(RpcRequest request, CancellationToken cancellationToken) =>
        new RpcStream<T>(this, request, cancellationToken, RpcCallOptions.Current, RpcContext.Current);

    /// <summary>Starts the call behind an enumeration: the same start as any call; a failure is thrown from GetAsyncEnumerator.</summary>
    internal StreamingCall<T> StartStream<T>(RpcRequest request, CancellationToken cancellationToken, RpcCallOptions? ambient, RpcContext? serving,
        CancellationTokenSource? linked = null)
    {
        JsonTypeInfo<T> itemType = null!;
        if (request.Error is null)
        {
            // An item type that cannot be read fails before anything is sent, as an argument that cannot be written does.
            try
            {
                itemType = GetTypeInfo<T>();
            }
            catch (Exception e)
            {
                request.Release();
                throw new RpcSerializationException(CallFailures.Text(request.Method, $"item type {typeof(T).Name} cannot be deserialised: {e.Message}"),
                    request.Method.Service.Name, request.Method.WireName, e);
            }
        }

        if (_requests is null)
        {
            request.Release();
            throw MessageCapture.CallNotSupported(request.Method);
        }

        if (OutgoingCall.Start(this, request, cancellationToken, ambient, serving, out var outgoing) is { } failure) throw failure;
        return _requests.StartStream(outgoing, itemType, cancellationToken, linked);
    }

    /// <summary>
    /// Sends a one-way request as durable work: persistent, to the durable service queue (declared if need be), with no
    /// expiration unless the method or service sets a time-to-live; completes when the broker has confirmed it.
    /// </summary>
    public Task SendAsync(RpcRequest request, CancellationToken cancellationToken) =>
        OutgoingCall.Check(this, request, cancellationToken) is { } failure
            ? OutgoingCall.Failed(failure)
            : _oneWay.SendAsync(request, QueueOf(request.Method.Service), cancellationToken);

    /// <summary>
    /// Publishes an event of an <see cref="RpcEventsAttribute"/> interface to its exchange with <paramref name="routingKey"/>
    /// (the method's wire name when null): persistent, mandatory; completes when the broker has confirmed it.
    /// </summary>
    public Task PublishAsync(RpcRequest request, string? routingKey, CancellationToken cancellationToken) =>
        OutgoingCall.Check(this, request, cancellationToken) is { } failure
            ? OutgoingCall.Failed(failure)
            : _oneWay.PublishEventAsync(request, routingKey, cancellationToken);

    /// <summary>
    /// Why the request must not be published: the connection is down or blocked, or the body is over
    /// <see cref="RpcConnectionOptions.MaxMessageSize"/> (the broker would close the channel for it). Null to go ahead.
    /// </summary>
    internal RpcException? Refuse(RpcMethodDescriptor method, RpcRequest request)
    {
        // A captured message is not published now: the connection's state is not its concern, its size is.
        if (_state?.Refusal(method) is { } refusal) return refusal;
        int size = request.CompleteBody().Length;
        return size > _options.MaxMessageSize
            ? new RpcMessageTooLargeException(method.Service.Name, method.WireName, size, _options.MaxMessageSize)
            : null;
    }

    internal RpcSettings Options => _options;

    private static Task<T> NotCaptured<T>(RpcRequest request)
    {
        request.Release();
        return Task.FromException<T>(MessageCapture.CallNotSupported(request.Method));
    }

    internal JsonTypeInfo<T> GetTypeInfo<T>() => JsonTypeInfoCache<T>.Get(_options.JsonSerializerOptions);

    /// <summary>The service's queue name, encoded once for every publish; recomputed if the options' prefix changes.</summary>
    internal CachedString QueueOf(RpcServiceDescriptor service)
    {
        var prefix = _options.QueuePrefix;
        if (_queues.TryGetValue(service, out var queue) && ReferenceEquals(queue.Prefix, prefix)) return queue.Name;
        queue = new QueueName(prefix, new CachedString(_options.QueueFor(service)));
        _queues[service] = queue;
        return queue.Name;
    }

    private sealed record QueueName(string Prefix, CachedString Name);

    internal PendingCalls PendingCalls => Requests.PendingCalls;

    /// <summary>The channel calls are published and replies consumed on.</summary>
    internal ManagedChannel CallChannel => Requests.CallChannel;

    /// <summary>The <c>reply_to</c> this connection's requests carry now.</summary>
    internal string ReplyTo => Requests.ReplyTo;

    /// <summary>
    /// Holds back the calls to <paramref name="service"/> as a publish under way would, until disposed: the calls made
    /// meanwhile then go out in batches. Tests use it to make batches of a known size.
    /// </summary>
    internal IDisposable HoldBatches(RpcServiceDescriptor service) => Requests.HoldBatches(QueueOf(service));

    /// <summary>Whether the service's batch queue has a reader, asked of the broker now; a client batches calls to it only then.</summary>
    internal Task<bool> CheckBatchReadersAsync(RpcServiceDescriptor service) => Requests.CheckBatchReadersAsync(QueueOf(service));

    /// <summary>Batches returned for want of a reader whose calls went out again alone (tests read it).</summary>
    internal long BatchesSentAgainAlone => Requests.BatchesSentAgain;

    /// <summary>Passive declares this connection sent to learn who reads batches (what learning costs).</summary>
    internal long BatchReaderProbes => Requests.BatchReaderProbes;

    internal async ValueTask CloseAsync()
    {
        if (_requests is not null) await _requests.CloseAsync().ConfigureAwait(false);
        if (_oneWay is WorkPublisher work) await work.CloseAsync().ConfigureAwait(false);
    }
}
