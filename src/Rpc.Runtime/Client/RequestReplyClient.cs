using System;
using System.Collections.Generic;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.Diagnostics;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// Calls that wait for a reply: owns the call channel, on which requests are published (mandatory, no confirms: the
/// reply confirms a call) and replies consumed (RequestReplyClient.ReplyQueue.cs), the calls waiting (<see cref="PendingCalls"/>), batches
/// (RequestReplyClient.Batching.cs) and streamed results (RequestReplyClient.Streaming.cs), and the client end of the
/// control path (<see cref="ControlPublisher"/>) and of fail-fast (<see cref="ServerAvailability"/>). Calls come started
/// (<see cref="OutgoingCall"/>) from <see cref="RpcInvoker"/>.
/// </summary>
internal sealed partial class RequestReplyClient
{
    private static readonly CachedString s_defaultExchange = new(WireContract.DefaultExchange);

    private readonly IConnection _connection;
    private readonly ConnectionState _state;
    private readonly PendingCalls _pending;
    private readonly RpcSettings _options;
    private volatile Expiration? _expiration;
    private ManagedChannel _calls = null!;

    // Sent as user_id: RabbitMQ rejects a message whose user_id is not the connection's user, so servers can trust it.
    // Null on a connection the app opened, whose user RpcGen cannot know: then no user_id is sent.
    private readonly string? _userId;

    private readonly IRpcClientInterceptor[] _clientInterceptors;
    private readonly ServerAvailability _availability;
    private readonly ControlPublisher _control;

    private RequestReplyClient(IConnection connection, ConnectionState state, RpcSettings options, string? userId)
    {
        _clientInterceptors = System.Linq.Enumerable.ToArray(options.ClientInterceptors);
        _availability = new ServerAvailability(connection, options.ServerCheckDelay, options.TimeProvider);
        _control = new ControlPublisher(connection, userId);
        _pending = new PendingCalls(new CallObserver(_availability, _control), options.Loggers.Client, options.TimeProvider);
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

    /// <summary>The channel calls are published and replies consumed on.</summary>
    internal ManagedChannel CallChannel => _calls;

    internal static async Task<RequestReplyClient> CreateAsync(IConnection connection, ConnectionState state, RpcSettings options, string? userId,
        CancellationToken cancellationToken)
    {
        var client = new RequestReplyClient(connection, state, options, userId);
        connection.QueueNameChangedAfterRecoveryAsync += client.OnQueueRenamedAsync;
        try
        {
            await client.OpenCallChannelAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            connection.QueueNameChangedAfterRecoveryAsync -= client.OnQueueRenamedAsync;
            throw;
        }

        client._calls.ChannelClosedByBroker = client.OnCallChannelClosed;
        return client;
    }

    // Calls need no publisher confirms: the reply confirms a call. They cost the broker and the client a frame, a task
    // and a thread-pool hop per call (measured in docs/performance.md). An unroutable call still fails in milliseconds:
    // it is published mandatory, and the broker's basic.return fails it by its correlation id.
    private Task<ManagedChannel> OpenCallChannelCoreAsync(CancellationToken cancellationToken) =>
        ManagedChannel.CreateAsync(_connection,
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false),
            SetUpCallChannelAsync, "call channel", _options.Loggers.Client, cancellationToken);

    /// <summary>What every call channel needs, the first one and each rebuilt one: returns heard, and the reply consumer up (consume-ok).</summary>
    private async Task SetUpCallChannelAsync(IChannel channel, CancellationToken cancellationToken)
    {
        channel.BasicReturnAsync += OnReturnAsync;
        await ConsumeRepliesAsync(channel, cancellationToken).ConfigureAwait(false);
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
            // A batch no queue took: nobody reads batches of that queue any more. Its calls go out again, alone.
            SendAgainAlone(returned.RoutingKey, returned.Body);
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

    /// <summary>Sends a started call and returns its reply's task; through the client interceptors when there are any.</summary>
    public Task<T> CallAsync<T>(OutgoingCall outgoing, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken)
    {
        if (_clientInterceptors.Length != 0) return InterceptAsync(outgoing, resultType, cancellationToken);
        return StartCore(outgoing, resultType, cancellationToken, outgoing.Options?.Headers);
    }

    private Task<T> StartCore<T>(OutgoingCall outgoing, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? userHeaders)
    {
        var call = _pending.Create(outgoing.Method, outgoing.Queue.Value, outgoing.Timeout, resultType, _options.JsonSerializerOptions);
        if (outgoing.FailFast) call.CheckAt = MonotonicClock.Milliseconds(_options.TimeProvider) + (long)_options.ServerCheckDelay.TotalMilliseconds;
        var telemetry = ClientCallTelemetry.Start(_options, call.Method, call.Queue, call.CorrelationId);
        _pending.Add(call, outgoing.Timeout, cancellationToken);
        PublishRequest(call, outgoing.Request, outgoing.Queue, telemetry, userHeaders);
        return telemetry is null ? call.Task : telemetry.Track(call.Task);
    }

    /// <summary>
    /// Publishes a call's request (every call, streaming or not, comes through here); a streaming call also names its
    /// initial credit window. A fail-fast call to a queue found without a consumer asks first; then, with batching on, a
    /// call that may share a message waits in line (RequestReplyClient.Batching.cs), otherwise it goes out alone.
    /// </summary>
    private void PublishRequest(PendingCall call, RpcRequest request, CachedString queue, ClientCallTelemetry? telemetry,
        IReadOnlyDictionary<string, string>? userHeaders, long? streamWindow = null)
    {
        // A fail-fast call to a queue found without a consumer asks first: unsent, it can fail as unavailable (safe to retry).
        if (call.CheckAt != 0 && _availability.MayBeDown(queue.Value))
        {
            _ = PublishIfServedAsync(call, request, queue, telemetry, userHeaders, streamWindow);
            return;
        }

        PublishRequestNow(call, request, queue, telemetry, userHeaders, streamWindow);
    }

    private async Task PublishIfServedAsync(PendingCall call, RpcRequest request, CachedString queue, ClientCallTelemetry? telemetry,
        IReadOnlyDictionary<string, string>? userHeaders, long? streamWindow)
    {
        RpcServiceUnavailableException? refusal;
        try
        {
            refusal = await _availability.RefuseUnsentAsync(call).ConfigureAwait(false);
        }
        catch (Exception)
        {
            refusal = null; // could not ask: publish, as any call
        }

        if (refusal is not null)
        {
            request.Release();
            _pending.Fail(call, refusal);
            return;
        }

        PublishRequestNow(call, request, queue, telemetry, userHeaders, streamWindow);
    }

    private void PublishAlone(PendingCall call, RpcRequest request, CachedString queue, ClientCallTelemetry? telemetry,
        IReadOnlyDictionary<string, string>? userHeaders, long? streamWindow)
    {
        var headers = new Dictionary<string, object?>(3 + (userHeaders?.Count ?? 0));
        // A stream sends none: the caller ends it at its own bounds (StreamingCall) and cancels it on the server, so the
        // caller's message says which bound fired; a server's deadline would race it with a bare cancellation.
        if (streamWindow is null) headers[WireContract.DeadlineHeader] = call.Deadline;
        if (streamWindow is { } window) headers[StreamContract.WindowHeader] = window;
        if (userHeaders is not null)
        {
            foreach (var header in userHeaders) headers[header.Key] = header.Value;
        }

        var properties = LoneRequestProperties(call, headers);
        telemetry?.InjectTraceContext(headers);

        // The call channel is being rebuilt after the broker closed it: publish once its reply consumer is back.
        if (!_calls.TryGetReady(out var channel))
        {
            _ = PublishWhenReadyAsync(call, request, queue, properties);
            return;
        }

        PublishNow(channel, call, request, queue, properties);
    }

    /// <summary>The properties of a request that travels alone (a batch's are <see cref="CallBatch"/>'s); <c>reply_to</c> is set as it goes out.</summary>
    private BasicProperties LoneRequestProperties(PendingCall call, Dictionary<string, object?> headers) => new()
    {
        CorrelationId = call.CorrelationId,
        Type = call.Method.WireName,
        ContentType = WireContract.JsonContentType,
        Expiration = ExpirationFor(call.Timeout),
        UserId = _userId,
        Headers = headers,
    };

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
            publish = PublishRequestAsync(channel, queue, properties, request.CompleteBody());
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
        using (var bound = new CancellationTokenSource(call.Timeout, _options.TimeProvider))
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

    /// <summary>The expiration property for a timeout, formatted once rather than per call.</summary>
    private string ExpirationFor(TimeSpan timeout)
    {
        var cached = _expiration;
        if (cached is not null && cached.Timeout == timeout) return cached.Text;
        var text = WireContract.ExpirationFor(timeout);
        _expiration = new Expiration(timeout, text);
        return text;
    }

    /// <summary>Where the pending calls' needs go: server checks to <see cref="ServerAvailability"/>, cancels and credit to <see cref="ControlPublisher"/>.</summary>
    private sealed class CallObserver(ServerAvailability availability, ControlPublisher control) : IPendingCallObserver
    {
        public void ServerCheckDue(PendingCall call) => availability.CheckDue(call);

        public void Abandoned(PendingCall call) => control.Cancel(call);

        public void CreditGranted(PendingCall call, long credit) => control.SendCredit(call, credit);
    }

    private sealed record Expiration(TimeSpan Timeout, string Text);

    private RpcException PublishFailure(RpcMethodDescriptor method, string queue, Exception e) =>
        PublishFailures.Describe(method, queue, e, connectionOpen: _connection.IsOpen);

    internal async ValueTask CloseAsync()
    {
        _pending.FailAll("the RpcConnection was disposed before a reply came.",
            static (message, service, method) => new RpcConnectionException(message, service, method));
        await _control.CloseAsync().ConfigureAwait(false);
        await _availability.CloseAsync().ConfigureAwait(false);
        if (_batchReaders is { } readers) await readers.CloseAsync().ConfigureAwait(false);
        _connection.QueueNameChangedAfterRecoveryAsync -= OnQueueRenamedAsync;
        await _calls.DisposeAsync().ConfigureAwait(false);
    }
}
