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
using RpcGen.Client;
using RpcGen.Diagnostics;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Generated;

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
    private readonly RpcSettings _options;
    private readonly ConcurrentDictionary<RpcServiceDescriptor, QueueName> _queues = new();
    private volatile Expiration? _expiration;
    private ChannelHolder _calls = null!;
    private ChannelHolder _sends = null!;

    // Sent as user_id: RabbitMQ rejects a message whose user_id is not the connection's user, so servers can trust it.
    // Null on a connection the app opened, whose user RpcGen cannot know: then no user_id is sent.
    private readonly string? _userId;

    private readonly IRpcClientInterceptor[] _clientInterceptors;
    private readonly ServerAvailability _availability;
    private readonly CancellationSender _cancellations;

    private RpcInvoker(IConnection connection, ConnectionState state, PendingCalls pending, WorkQueues workQueues, RpcSettings options, string? userId)
    {
        _workQueues = workQueues;
        _clientInterceptors = System.Linq.Enumerable.ToArray(options.ClientInterceptors);
        _availability = new ServerAvailability(connection, pending);
        _cancellations = new CancellationSender(connection);
        pending.ServerCheckDue = _availability.CheckDue;
        pending.Abandoned = _cancellations.Send;
        pending.CreditGranted = _cancellations.SendCredit;
        _events = new EventPublisher(workQueues.Connection, options, userId);
        _userId = userId;
        _connection = connection;
        _state = state;
        _pending = pending;
        _options = options;
        _state.PublishersBlocked += OnPublishersBlocked;
    }

    /// <summary>
    /// The broker stopped reading this connection: no call waiting now gets its reply before the alarm clears. They fail
    /// now; a request already read by the broker may still run once it clears (like a timed-out call's).
    /// </summary>
    private void OnPublishersBlocked(string reason) =>
        _pending.FailAll(call => new RpcBrokerBlockedException(
            $"RPC {call.Method.Service.Name}.{call.Method.WireName}: RabbitMQ blocks this connection's publishers ({reason}: a memory or disk alarm) " +
            "while the call waited for its reply; the request may still run once the alarm clears.",
            reason, call.Method.Service.Name, call.Method.WireName));

    internal PendingCalls PendingCalls => _pending;

    /// <summary>Passive declares sent to ask whether anyone consumes a queue.</summary>
    internal long ServerChecks => _availability.Probes;

    /// <summary>Cancel control messages sent for abandoned calls.</summary>
    internal long CancelsSent => _cancellations.Sent;

    /// <summary>Cancels and credit grants given up (no exchange, timed out, dropped from a full queue).</summary>
    internal long ControlMessagesLost => _cancellations.Lost;

    /// <summary>The channel calls are published and replies consumed on (tests read its rebuild count).</summary>
    internal ChannelHolder CallChannel => _calls;

    internal static async Task<RpcInvoker> CreateAsync(IConnection connection, ConnectionState state, RpcSettings options, string? userId,
        CancellationToken cancellationToken)
    {
        var invoker = new RpcInvoker(connection, state, new PendingCalls(options.Loggers.Client), new WorkQueues(connection, options, state.LostQueues), options, userId);
        var logger = options.Loggers.Client;
        // Calls need no publisher confirms: the reply confirms a call. They cost the broker and the client a frame,
        // a task and a thread-pool hop per call (measured in docs/performance.md). An unroutable call still fails
        // in milliseconds: it is published mandatory, and the broker's basic.return fails it by its correlation id.
        invoker._calls = await ChannelHolder.CreateAsync(connection,
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false),
            invoker.SetUpCallChannelAsync, "call channel", logger, cancellationToken).ConfigureAwait(false);
        invoker._calls.ChannelClosedByBroker = invoker.OnCallChannelClosed;
        try
        {
            // A one-way request has no reply, so only a confirm (or a return, as a PublishException) tells its sender
            // that the broker took it. No rate limiter: the caller bounds concurrency.
            invoker._sends = await ChannelHolder.CreateAsync(connection,
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
        _pending.FailAll(call => new RpcChannelClosedException(
            $"RPC {call.Method.Service.Name}.{call.Method.WireName}: RabbitMQ closed the channel the call was on before a reply came " +
            $"({reason.ReplyCode} {reason.ReplyText}); the channel is being rebuilt, later calls go out on the new one.",
            reason.ReplyCode, reason.ReplyText, call.Method.Service.Name, call.Method.WireName));
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
            return Task.FromException<T>(new RpcSerializationException(
                $"RPC {request.Method.Service.Name}.{request.Method.WireName}: result type {typeof(T).Name} cannot be deserialised: {e.Message}",
                request.Method.Service.Name, request.Method.WireName, e));
        }

        return Start(request, resultType, cancellationToken);
    }

    /// <summary>Calls a method that returns no result and completes when the server has replied.</summary>
    public Task CallAsync(RpcRequest request, CancellationToken cancellationToken) => Start<object?>(request, null, cancellationToken);

    private RpcException? Refuse(RpcMethodDescriptor method, RpcRequest request)
    {
        if (_state.Refusal(method) is { } refusal) return refusal;
        int size = request.CompleteBody().Length;
        return size > _options.MaxMessageSize
            ? new RpcMessageTooLargeException(method.Service.Name, method.WireName, size, _options.MaxMessageSize)
            : null;
    }

    internal JsonTypeInfo<T> GetTypeInfo<T>() => JsonTypeInfoCache<T>.Get(_options.JsonSerializerOptions);

    private Task<T> Start<T>(RpcRequest request, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken)
    {
        if (request.Error is { } error)
        {
            request.Release();
            return Task.FromException<T>(error);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            request.Release();
            return Task.FromCanceled<T>(cancellationToken);
        }

        if (Refuse(request.Method, request) is { } refused)
        {
            request.Release();
            return Task.FromException<T>(refused);
        }

        var ambient = RpcCallOptions.Current;
        if (_clientInterceptors.Length != 0) return InterceptAsync(request, resultType, cancellationToken, ambient);
        return StartCore(request, resultType, cancellationToken, ambient, ambient?.Headers);
    }

    private Task<T> StartCore<T>(RpcRequest request, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken, RpcCallOptions? ambient,
        IReadOnlyDictionary<string, string>? userHeaders)
    {
        var method = request.Method;
        var timeout = ambient?.Timeout ?? method.Timeout ?? _options.DefaultTimeout;
        var queue = QueueOf(method.Service);
        if (RpcContext.Current?.Deadline is { } outer)
        {
            // Made while serving a call: never wait longer than that call's caller does.
            var left = outer - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                request.Release();
                return Task.FromException<T>(new RpcTimeoutException(method.Service.Name, method.WireName, queue.Value, TimeSpan.Zero,
                    $"RPC {method.Service.Name}.{method.WireName} was not sent: the call being served ({RpcContext.Current.Service}.{RpcContext.Current.Method}) " +
                    $"passed its deadline {-left.TotalMilliseconds:0} ms ago (queue '{queue.Value}')."));
            }

            if (left < timeout) timeout = left;
        }

        var call = _pending.Create(method, queue.Value, timeout, resultType, _options.JsonSerializerOptions);
        call.UserId = _userId;
        if (!(ambient?.WaitForReady ?? _options.WaitForReady))
        {
            long delay = (long)_options.ServerCheckDelay.TotalMilliseconds;
            call.CheckInterval = delay;
            call.CheckAt = Environment.TickCount64 + delay;
        }

        var telemetry = ClientCallTelemetry.Start(_options, call.Method, call.Queue, call.CorrelationId);
        _pending.Add(call, timeout, cancellationToken);
        PublishRequest(call, request, queue, telemetry, userHeaders);
        return telemetry is null ? call.Task : telemetry.Track(call.Task);
    }

    private void PublishAlone(PendingCall call, RpcRequest request, CachedString queue, ClientCallTelemetry? telemetry,
        IReadOnlyDictionary<string, string>? userHeaders, long? streamWindow)
    {
        var headers = new Dictionary<string, object?>(3 + (userHeaders?.Count ?? 0)) { [WireContract.DeadlineHeader] = call.Deadline };
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
        if (_calls.WhenReady is { } ready)
        {
            _ = PublishWhenReadyAsync(ready, call, request, queue, properties);
            return;
        }

        PublishNow(call, request, queue, properties);
    }

    private void PublishNow(PendingCall call, RpcRequest request, CachedString queue, BasicProperties properties)
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
            publish = _calls.Channel.BasicPublishAsync(s_defaultExchange, queue, mandatory: true, properties, request.CompleteBody(), CancellationToken.None);
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

    private async Task PublishWhenReadyAsync(Task ready, PendingCall call, RpcRequest request, CachedString queue, BasicProperties properties)
    {
        // The call's timeout still runs meanwhile; waiting longer than it is pointless.
        try
        {
            await ready.WaitAsync(call.Timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        if (_state.Refusal(call.Method) is { } refusal)
        {
            request.Release();
            _pending.Fail(call, refusal);
            return;
        }

        PublishNow(call, request, queue, properties);
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
    private CachedString QueueOf(RpcServiceDescriptor service)
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

    private sealed record Expiration(TimeSpan Timeout, string Text);

    internal async ValueTask CloseAsync()
    {
        _pending.FailAll(call => new RpcConnectionException(
            $"RPC {call.Method.Service.Name}.{call.Method.WireName}: the RpcConnection was disposed before a reply came.",
            call.Method.Service.Name, call.Method.WireName));
        await _cancellations.CloseAsync().ConfigureAwait(false);
        await _availability.CloseAsync().ConfigureAwait(false);
        await _calls.DisposeAsync().ConfigureAwait(false);
        await _sends.DisposeAsync().ConfigureAwait(false);
    }
}
