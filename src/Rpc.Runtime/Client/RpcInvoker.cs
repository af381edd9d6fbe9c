using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using RpcGen.Diagnostics;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// The narrow API generated clients call: create a request, write its arguments, then call or send it. Owns the call
/// channel, on which requests are published (mandatory) and replies consumed, and the send channel, on which one-way
/// requests are published with publisher confirms.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed partial class RpcInvoker
{
    private static readonly CachedString s_defaultExchange = new(WireContract.DefaultExchange);

    private readonly IConnection _connection;
    private readonly ConnectionState _state;
    private readonly PendingCalls _pending;
    private readonly WorkQueues _workQueues;
    private readonly EventPublisher _events;
    private readonly RpcOptions _options;
    private readonly ConcurrentDictionary<RpcServiceDescriptor, QueueName> _queues = new();
    private volatile Expiration? _expiration;
    private ManagedChannel _calls = null!;
    private ManagedChannel _sends = null!;

    // Sent as user_id: RabbitMQ rejects a message whose user_id is not the connection's user, so servers can trust it.
    // Null on a connection the app opened, whose user RpcGen cannot know: then no user_id is sent.
    private readonly string? _userId;

    private readonly IRpcClientInterceptor[] _clientInterceptors;
    private readonly ServerAvailability _availability;
    private readonly ControlPublisher _control;

    private RpcInvoker(IConnection connection, ConnectionState state, WorkQueues workQueues, RpcOptions options, string? userId)
    {
        _workQueues = workQueues;
        _clientInterceptors = System.Linq.Enumerable.ToArray(options.ClientInterceptors);
        _availability = new ServerAvailability(connection, options.ServerCheckDelay);
        _control = new ControlPublisher(connection, userId);
        _pending = new PendingCalls(new CallObserver(_availability, _control), options.Loggers.Client);
        _events = new EventPublisher(workQueues.Connection, options, userId);
        _userId = userId;
        _connection = connection;
        _state = state;
        _options = options;
        _state.PublishersBlocked += OnPublishersBlocked;
    }

    /// <summary>
    /// The broker stopped reading this connection: no call waiting now gets its reply before the alarm clears. They fail
    /// now; a request already read by the broker may still run once it clears (like a timed-out call's).
    /// </summary>
    private void OnPublishersBlocked(string reason) =>
        _pending.FailAll($"RabbitMQ blocks this connection's publishers ({reason}: a memory or disk alarm) " +
            "while the call waited for its reply; the request may still run once the alarm clears.",
            (message, service, method) => new RpcBrokerBlockedException(message, reason, service, method));

    internal PendingCalls PendingCalls => _pending;

    /// <summary>Passive declares sent to ask whether anyone consumes a queue.</summary>
    internal long ServerChecks => _availability.Probes;

    /// <summary>Cancel control messages sent for abandoned calls.</summary>
    internal long CancelsSent => _control.Sent;

    /// <summary>Cancels and credit grants given up (no exchange, timed out, dropped from a full queue).</summary>
    internal long ControlMessagesLost => _control.Lost;

    /// <summary>The channel calls are published and replies consumed on (tests read its rebuild count).</summary>
    internal ManagedChannel CallChannel => _calls;

    internal static async Task<RpcInvoker> CreateAsync(IConnection connection, ConnectionState state, RpcOptions options, string? userId,
        CancellationToken cancellationToken)
    {
        var invoker = new RpcInvoker(connection, state, new WorkQueues(connection, options, state.LostQueues), options, userId);
        var logger = options.Loggers.Client;
        // Calls need no publisher confirms: the reply confirms a call. They cost the broker and the client a frame,
        // a task and a thread-pool hop per call (measured in docs/performance.md). An unroutable call still fails
        // in milliseconds: it is published mandatory, and the broker's basic.return fails it by its correlation id.
        invoker._calls = await ManagedChannel.CreateAsync(connection,
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false),
            invoker.SetUpCallChannelAsync, "call channel", logger, cancellationToken).ConfigureAwait(false);
        invoker._calls.ChannelClosedByBroker = invoker.OnCallChannelClosed;
        try
        {
            // A one-way request has no reply, so only a confirm (or a return, as a PublishException) tells its sender
            // that the broker took it. No rate limiter: the caller bounds concurrency.
            invoker._sends = await ManagedChannel.CreateAsync(connection,
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                    outstandingPublisherConfirmationsRateLimiter: null),
                static (_, _) => Task.CompletedTask, "one-way send channel", logger, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await invoker._calls.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return invoker;
    }

    /// <summary>What every call channel needs, the first one and each rebuilt one: returns heard, and the reply consumer up (consume-ok).</summary>
    private async Task SetUpCallChannelAsync(IChannel channel, CancellationToken cancellationToken)
    {
        channel.BasicReturnAsync += OnReturnAsync;
        // Direct reply-to needs its consumer (no-ack) on the channel that publishes the requests.
        await channel.BasicConsumeAsync(WireContract.DirectReplyTo, autoAck: true, new ReplyListener(channel, _pending), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>The broker closed the call channel: its reply consumer went with it, so no call waiting on it can get a reply.</summary>
    private int OnCallChannelClosed(IChannel channel, ShutdownEventArgs reason)
    {
        int failed = _pending.Count;
        _pending.FailAll($"RabbitMQ closed the channel the call was on before a reply came " +
            $"({reason.ReplyCode} {reason.ReplyText}); the channel is being rebuilt, later calls go out on the new one.",
            (message, service, method) => new RpcChannelClosedException(message, reason.ReplyCode, reason.ReplyText, service, method));
        return failed;
    }

    /// <summary>A mandatory request that no queue took comes back: its call fails now instead of at its timeout.</summary>
    private Task OnReturnAsync(object sender, BasicReturnEventArgs returned)
    {
        if (CallBatch.IsBatch(returned.BasicProperties.ContentType))
        {
            // A batch no queue took: each of its calls fails as a lone call would.
            foreach (var correlationId in CallBatch.ReadCorrelationIds(returned.Body)) FailUnroutable(correlationId);
        }
        else if (returned.BasicProperties.CorrelationId is { } correlationId)
        {
            FailUnroutable(correlationId);
        }

        return Task.CompletedTask;
    }

    private void FailUnroutable(string correlationId)
    {
        if (_pending.TryGet(correlationId, out var call))
        {
            _pending.Fail(call, new RpcServiceUnavailableException(call.Method.Service.Name, call.Method.WireName, call.Queue));
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
                $"RPC {request.Method.Service.Name}.{request.Method.WireName}: result type {typeof(T).Name} cannot be deserialised: {e.Message}",
                request.Method.Service.Name, request.Method.WireName, e));
        }

        return Start(request, resultType, cancellationToken);
    }

    /// <summary>Calls a method that returns no result and completes when the server has replied.</summary>
    public Task CallAsync(RpcRequest request, CancellationToken cancellationToken) => Start<object?>(request, null, cancellationToken);

    /// <summary>
    /// Why the request must not be published: the connection is down or blocked, or the body is over
    /// <see cref="RpcOptions.MaxMessageSize"/> (the broker would close the channel for it). Null to go ahead.
    /// </summary>
    internal RpcException? Refuse(RpcMethodDescriptor method, RpcRequest request)
    {
        if (_state.Refusal(method) is { } refusal) return refusal;
        int size = request.CompleteBody().Length;
        return size > _options.MaxMessageSize
            ? new RpcMessageTooLargeException(method.Service.Name, method.WireName, size, _options.MaxMessageSize)
            : null;
    }

    internal RpcOptions Options => _options;

    internal JsonTypeInfo<T> GetTypeInfo<T>() => JsonTypeInfoCache<T>.Get(_options.JsonSerializerOptions);

    private Task<T> Start<T>(RpcRequest request, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken)
    {
        if (OutgoingCall.Start(this, request, cancellationToken, RpcCallOptions.Current, RpcContext.Current, out var call) is { } failure)
        {
            return OutgoingCall.Failed<T>(failure);
        }

        if (_clientInterceptors.Length != 0) return InterceptAsync(call, resultType, cancellationToken);
        return StartCore(call, resultType, cancellationToken, call.Options?.Headers);
    }

    private Task<T> StartCore<T>(OutgoingCall outgoing, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? userHeaders)
    {
        var call = _pending.Create(outgoing.Method, outgoing.Queue.Value, outgoing.Timeout, resultType, _options.JsonSerializerOptions);
        if (outgoing.FailFast) call.CheckAt = Environment.TickCount64 + (long)_options.ServerCheckDelay.TotalMilliseconds;
        var telemetry = ClientCallTelemetry.Start(_options, call.Method, call.Queue, call.CorrelationId);
        _pending.Add(call, outgoing.Timeout, cancellationToken);
        PublishRequest(call, outgoing.Request, outgoing.Queue, telemetry, userHeaders);
        return telemetry is null ? call.Task : telemetry.Track(call.Task);
    }

    private void PublishAlone(PendingCall call, RpcRequest request, CachedString queue, ClientCallTelemetry? telemetry,
        IReadOnlyDictionary<string, string>? userHeaders, long? streamWindow)
    {
        var headers = new Dictionary<string, object?>(3 + (userHeaders?.Count ?? 0));
        // A stream without a total deadline sends none: its server streams for as long as the caller reads.
        if (call.Deadline != 0) headers[WireContract.DeadlineHeader] = call.Deadline;
        if (streamWindow is { } window) headers[StreamContract.WindowHeader] = window;
        if (userHeaders is not null)
        {
            foreach (var header in userHeaders) headers[header.Key] = header.Value;
        }

        var properties = new BasicProperties
        {
            CorrelationId = call.CorrelationId,
            ReplyTo = WireContract.DirectReplyTo,
            Type = call.Method.WireName,
            ContentType = WireContract.JsonContentType,
            Expiration = ExpirationFor(call.Timeout),
            UserId = _userId,
            Headers = headers,
        };
        telemetry?.InjectTraceContext(properties.Headers);

        // The call channel is being rebuilt after the broker closed it: publish once its reply consumer is back.
        if (!_calls.TryGetReady(out var channel))
        {
            _ = PublishWhenReadyAsync(call, request, queue, properties);
            return;
        }

        PublishNow(channel, call, request, queue, properties);
    }

    private void PublishNow(IChannel channel, PendingCall call, RpcRequest request, CachedString queue, BasicProperties properties)
    {
        // Cancelled (or timed out) before it went out: a request nobody waits for is not sent.
        if (!call.IsPending)
        {
            request.Release();
            return;
        }

        // The call's own timer and cancellation bound how long the caller waits; the publish itself is not cancelled
        // half way, which would leave the channel in an unknown state.
        ValueTask publish;
        try
        {
            publish = channel.BasicPublishAsync(s_defaultExchange, queue, mandatory: true, properties, request.CompleteBody(), CancellationToken.None);
        }
        catch (Exception e)
        {
            request.Release();
            _pending.Fail(call, PublishFailure(call.Method, queue.Value, e));
            return;
        }

        // Nearly always the frame is queued for the socket at once: then there is no state machine and no await.
        if (publish.IsCompletedSuccessfully)
        {
            publish.GetAwaiter().GetResult();
            request.Release();
            return;
        }

        _ = AwaitPublishAsync(publish, call, request, queue.Value);
    }

    private async Task PublishWhenReadyAsync(PendingCall call, RpcRequest request, CachedString queue, BasicProperties properties)
    {
        // The call's timeout still runs meanwhile; waiting longer than it is pointless.
        IChannel channel;
        using (var bound = new CancellationTokenSource(call.Timeout))
        {
            try
            {
                channel = await _calls.ReadyAsync(bound.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Timed out meanwhile (the sweep fails it): a request nobody waits for is not sent.
                request.Release();
                return;
            }
        }

        if (_state.Refusal(call.Method) is { } refusal)
        {
            request.Release();
            _pending.Fail(call, refusal);
            return;
        }

        PublishNow(channel, call, request, queue, properties);
    }

    private async Task AwaitPublishAsync(ValueTask publish, PendingCall call, RpcRequest request, string queue)
    {
        try
        {
            await publish.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _pending.Fail(call, PublishFailure(call.Method, queue, e));
        }
        finally
        {
            request.Release();
        }
    }

    /// <summary>The service's queue name, encoded once for every publish; recomputed if the options' prefix changes.</summary>
    internal CachedString QueueOf(RpcServiceDescriptor service)
    {
        var prefix = _options.QueuePrefix;
        if (_queues.TryGetValue(service, out var queue) && ReferenceEquals(queue.Prefix, prefix)) return queue.Name;
        queue = new QueueName(prefix, new CachedString(_options.QueueFor(service)));
        _queues[service] = queue;
        return queue.Name;
    }

    /// <summary>The expiration property for a timeout, formatted once rather than per call.</summary>
    private string ExpirationFor(TimeSpan timeout)
    {
        var cached = _expiration;
        if (cached is not null && cached.Timeout == timeout) return cached.Text;
        var text = WireContract.ExpirationFor(timeout);
        _expiration = new Expiration(timeout, text);
        return text;
    }

    private sealed record QueueName(string Prefix, CachedString Name);

    /// <summary>Where the pending calls' needs go: server checks to <see cref="ServerAvailability"/>, cancels and credit to <see cref="ControlPublisher"/>.</summary>
    private sealed class CallObserver(ServerAvailability availability, ControlPublisher control) : IPendingCallObserver
    {
        public void ServerCheckDue(PendingCall call) => availability.CheckDue(call);

        public void Abandoned(PendingCall call) => control.Cancel(call);

        public void CreditGranted(PendingCall call, long credit) => control.SendCredit(call, credit);
    }

    private sealed record Expiration(TimeSpan Timeout, string Text);

    internal async ValueTask CloseAsync()
    {
        _pending.FailAll("the RpcConnection was disposed before a reply came.",
            static (message, service, method) => new RpcConnectionException(message, service, method));
        await _control.CloseAsync().ConfigureAwait(false);
        await _availability.CloseAsync().ConfigureAwait(false);
        await _calls.DisposeAsync().ConfigureAwait(false);
        await _sends.DisposeAsync().ConfigureAwait(false);
    }
}
