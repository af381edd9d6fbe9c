using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Diagnostics;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// What goes out without a reply: one-way requests (durable work, to the service's queue, declared first by
/// <see cref="WorkQueues"/>) and events (to the events' exchange, declared first by <see cref="EventExchanges"/>). Both
/// are one confirmed publish, persistent and mandatory, on the send channel; it completes when the broker has confirmed
/// it, and fails within <see cref="RpcClientOptions.DefaultTimeout"/> when no confirm comes.
/// </summary>
internal sealed class WorkPublisher : IOneWaySender
{
    private static readonly CachedString s_defaultExchange = new(WireContract.DefaultExchange);

    private readonly IConnection _connection;
    private readonly RpcSettings _options;
    private readonly string? _userId;
    private readonly WorkQueues _workQueues;
    private readonly EventExchanges _exchanges;
    private readonly ManagedChannel _sends;

    private WorkPublisher(IConnection connection, RpcSettings options, string? userId, WorkQueues workQueues, ManagedChannel sends)
    {
        _connection = connection;
        _options = options;
        _userId = userId;
        _workQueues = workQueues;
        _exchanges = new EventExchanges(connection, options);
        _sends = sends;
    }

    public static async Task<WorkPublisher> CreateAsync(IConnection connection, RpcSettings options, string? userId, LostQueueDetector? lostQueues,
        CancellationToken cancellationToken)
    {
        // A one-way request has no reply, so only a confirm (or a return, as a PublishException) tells its sender
        // that the broker took it. No rate limiter: the caller bounds concurrency.
        var sends = await ManagedChannel.CreateAsync(connection,
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                outstandingPublisherConfirmationsRateLimiter: null),
            static (_, _) => Task.CompletedTask, "one-way send channel", options.Loggers.Client, cancellationToken).ConfigureAwait(false);
        return new WorkPublisher(connection, options, userId, new WorkQueues(connection, options, lostQueues), sends);
    }

    /// <summary>
    /// Sends a one-way request as durable work: persistent, to the durable service queue (declared if need be), with no
    /// expiration unless the method or service sets a time-to-live.
    /// </summary>
    public Task SendAsync(RpcRequest request, CachedString queue, CancellationToken cancellationToken)
    {
        var method = request.Method;
        // The message id is what a handler de-duplicates on (RpcContext.MessageId): one per send, kept by retries and dead letters.
        var properties = Properties(method.WireName, WireContract.JsonContentType, WireContract.NewMessageId(), persistent: true,
            WireContract.WorkExpirationFor(method));
        return PublishAsync(request.Method, request, new Destination(WireContract.DefaultExchange, queue.Value, queue.Value, queue), properties, cancellationToken);
    }

    /// <summary>Publishes an event to its interface's exchange with <paramref name="routingKey"/> (the method's wire name when null).</summary>
    public async Task PublishEventAsync(RpcRequest request, string? routingKey, CancellationToken cancellationToken)
    {
        var method = request.Method;
        var events = (RpcEventsDescriptor)method.Service;
        var exchange = _options.ExchangeFor(events);
        var properties = Properties(method.WireName, WireContract.JsonContentType, WireContract.NewMessageId(), persistent: true, expiration: null);
        await PublishAsync(method, request, new Destination(exchange, routingKey ?? method.WireName, exchange, Queue: null), properties, cancellationToken)
            .ConfigureAwait(false);
        RpcTelemetry.CountPublished(method.Service.Name, method.WireName);
    }

    /// <summary>
    /// Publishes a captured message (<see cref="RpcMessageCapture"/>) as <see cref="SendAsync"/> or
    /// <see cref="PublishEventAsync"/> would have published it then: same destination, declarations, properties and
    /// message id; its own trace context is kept, so the handler joins the trace that captured it.
    /// </summary>
    public async Task PublishCapturedAsync(RpcOutgoingMessage message, ConnectionState state, CancellationToken cancellationToken)
    {
        var method = RpcServiceRegistry.FindMethod(message.Service, message.Method, message.IsEvent ? message.Exchange : message.RoutingKey) ?? throw new RpcException(RpcStatusCode.Unimplemented,
            $"RPC {message.Service}.{message.Method}: no generated client or publisher of {message.Service} with this method is loaded in this process, " +
            $"so its queue or exchange cannot be declared; message {message.MessageId} was not published.", message.Service, message.Method);
        if (state.Refusal(method) is { } refusal) throw refusal;
        var properties = Properties(message.Method, message.ContentType, message.MessageId, message.Persistent, message.Expiration);
        if (message.Headers is { Count: > 0 } headers)
        {
            var copied = new Dictionary<string, object?>(headers.Count + 2);
            foreach (var (name, value) in headers) copied[name] = value;
            properties.Headers = copied;
        }

        var destination = message.IsEvent
            ? new Destination(message.Exchange, message.RoutingKey, message.Exchange, Queue: null)
            : new Destination(WireContract.DefaultExchange, message.RoutingKey, message.RoutingKey, new CachedString(message.RoutingKey));
        await PublishAsync(method, message.Body, destination, properties, cancellationToken).ConfigureAwait(false);
        if (message.IsEvent) RpcTelemetry.CountPublished(method.Service.Name, method.WireName);
    }

    /// <summary>The properties of every one-way request and event, sent now or captured and published later.</summary>
    private BasicProperties Properties(string type, string? contentType, string messageId, bool persistent, string? expiration) => new()
    {
        Type = type,
        ContentType = contentType,
        MessageId = messageId,
        Persistent = persistent,
        Expiration = expiration,
        UserId = _userId,
    };

    /// <summary>The one confirmed publish of work and events: declare, publish, wait for the confirm within the default timeout.</summary>
    private Task PublishAsync(RpcMethodDescriptor method, RpcRequest request, Destination destination, BasicProperties properties,
        CancellationToken cancellationToken) =>
        PublishAsync(method, new Body(request), destination, properties, cancellationToken);

    private async Task PublishAsync(RpcMethodDescriptor method, Body body, Destination destination, BasicProperties properties,
        CancellationToken cancellationToken)
    {
        var telemetry = ClientCallTelemetry.Start(_options, method, destination.Name, correlationId: null, oneWay: true);
        // A captured message keeps the trace context it was captured in.
        if (properties.Headers?.ContainsKey(WireContract.TraceParentHeader) != true)
        {
            telemetry?.InjectTraceContext(properties.Headers ??= new Dictionary<string, object?>(2));
        }

        Exception? failure;
        try
        {
            // A confirm that never comes (connection lost mid-publish) must not hang a sender forever.
            failure = await DeclareAndPublishAsync(method, body, destination, properties, cancellationToken)
                .WaitAsync(_options.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            failure = new RpcTimeoutException(method.Service.Name, method.WireName, destination.Name, _options.DefaultTimeout);
        }
        catch (Exception e)
        {
            telemetry?.Complete(e);
            throw;
        }

        telemetry?.Complete(failure);
        if (failure is not null) throw failure;
    }

    /// <summary>
    /// Declares the destination if this connection has not yet, then publishes on the send channel; returns the failure
    /// as an RpcException instead of throwing (a cancellation by the caller's token is thrown).
    /// </summary>
    private async Task<Exception?> DeclareAndPublishAsync(RpcMethodDescriptor method, Body body, Destination destination, BasicProperties properties,
        CancellationToken cancellationToken)
    {
        try
        {
            await (method.Service is RpcEventsDescriptor events
                ? _exchanges.EnsureAsync(events, destination.Exchange, cancellationToken)
                : _workQueues.EnsureAsync(method.Service, destination.RoutingKey, cancellationToken)).ConfigureAwait(false);
            // The send channel may be between a broker close and its rebuild: wait for the new one.
            var channel = await _sends.ReadyAsync(cancellationToken).ConfigureAwait(false);
            // Work goes to the queue's name encoded once for every publish.
            var publish = destination.Queue is { } queue
                ? channel.BasicPublishAsync(s_defaultExchange, queue, mandatory: true, properties, body.Bytes, cancellationToken)
                : channel.BasicPublishAsync(destination.Exchange, destination.RoutingKey, mandatory: true, properties, body.Bytes, cancellationToken);
            await publish.ConfigureAwait(false);
            return null;
        }
        catch (PublishException returned) when (returned.IsReturn && destination.IsEvent)
        {
            // Not an error by AMQP's rules: nobody subscribed (yet). Said loudly, failed only on request.
            RpcLog.EventUnroutable(_options.Loggers.Client, method.Service.Name, method.WireName, destination.Exchange, destination.RoutingKey);
            RpcTelemetry.CountUnroutable(method.Service.Name, method.WireName);
            return _options.FailUnroutableEvents
                ? new RpcUnroutableEventException(method.Service.Name, method.WireName, destination.Exchange, destination.RoutingKey)
                : null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // Work returned: nothing took it, so it will not run; the queue is gone, and the next send declares it again.
            if (e is PublishException { IsReturn: true }) _workQueues.Forget(destination.RoutingKey);
            return PublishFailures.Describe(method, destination.Name, e, connectionOpen: _connection.IsOpen);
        }
        finally
        {
            body.Release();
        }
    }

    public ValueTask CloseAsync() => _sends.DisposeAsync();

    /// <summary>What is published: a client's request (its pooled body given back after the publish) or a captured message's bytes.</summary>
    private readonly struct Body
    {
        private readonly RpcRequest? _request;
        private readonly ReadOnlyMemory<byte> _captured;

        public Body(RpcRequest request) => _request = request;

        public Body(ReadOnlyMemory<byte> captured) => _captured = captured;

        public static implicit operator Body(ReadOnlyMemory<byte> captured) => new(captured);

        public ReadOnlyMemory<byte> Bytes => _request is { } request ? request.CompleteBody() : _captured;

        public void Release() => _request?.Release();
    }

    /// <summary>
    /// Where a confirmed publish goes: <paramref name="Name"/> is the queue or exchange that failures name; work carries
    /// its <paramref name="Queue"/> (declared by <see cref="WorkQueues"/>), an event has none (its exchange is declared by <see cref="EventExchanges"/>).
    /// </summary>
    private readonly record struct Destination(string Exchange, string RoutingKey, string Name, CachedString? Queue)
    {
        public bool IsEvent => Queue is null;
    }
}
