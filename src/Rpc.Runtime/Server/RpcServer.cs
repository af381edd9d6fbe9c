using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using RpcGen.Server;
using RpcGen.Transport;

namespace RpcGen;

/// <summary>
/// Serves one service from its queue until disposed: consumes with a prefetch limit and manual acks, handles up to
/// prefetch deliveries at once (the calls of batches share a second budget of prefetch), publishes each reply and then acks. Every request is acked once answered, including
/// those that cannot be read, so a poison message is never redelivered in a loop. A one-way request whose handler
/// throws is retried and then dead-lettered (<see cref="FailedWork"/>); dropped only when the broker refuses its copy
/// three times, and then logged as an error.
/// </summary>
public sealed partial class RpcServer : IAsyncDisposable
{
    private readonly RpcSettings _options;
    private readonly RpcServiceDescriptor _service;
    private volatile string _queue;
    private readonly RpcSubscription? _subscription;
    private readonly CancellationTokenSource _abort = new();
    private readonly ServerCounters _counters;
    private readonly TaskCompletionSource _disposedCompletion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IConnection _connection = null!;
    private FailedWork _failedWork = null!;
    private ConfirmedChannel _confirmed = null!;
    private ReplyPublisher _replies = null!;
    private ManagedChannel _channel = null!;
    private volatile RequestConsumer _consumer = null!;
    private volatile string? _consumerTag;
    private ControlListener? _control;
    private readonly InFlightRequests _inFlight = new();
    private volatile bool _stopping;
    private int _disposed;

    private RpcServer(RpcSettings options, RpcServiceDescriptor service, string queue, Func<RpcServerCall, ValueTask> invoke,
        RpcSubscription? subscription)
    {
        _subscription = subscription;
        _options = options;
        _service = service;
        _queue = queue;
        _invoke = invoke;
        _interceptors = System.Linq.Enumerable.ToArray(options.ServerInterceptors);
        _counters = new ServerCounters(service.Name, queue);
        _running = new RunningCalls(_counters, options.TimeProvider);
    }

    /// <summary>The queue this server consumes.</summary>
    public string Queue => _queue;

    /// <summary>Calls being served right now.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>
    /// Whether the broker is delivering this server's queue to it: its current channel's consumer is registered (after a
    /// recovery or a rebuild too) and the channel open. Read by the health check.
    /// </summary>
    internal bool IsConsuming => _consumer is { IsConsuming: true } consumer && consumer.Channel.IsOpen;

    /// <summary>Stopping has begun: the server no longer counts towards the connection's health.</summary>
    internal bool IsStopping => _stopping;

    /// <summary>Where one-way requests whose handler kept failing, or that can never succeed, are moved: <c>{queue}.dead-letter</c>.</summary>
    public string DeadLetterQueue => _failedWork.DeadLetterQueue;

    /// <summary>One-way requests put back in the queue for another try since the server started.</summary>
    public long Retried => _failedWork.Retried;

    /// <summary>One-way requests moved to <see cref="DeadLetterQueue"/> since the server started.</summary>
    public long DeadLettered => _failedWork.DeadLettered;

    /// <summary>The server's channel (tests read how often the broker closed it and it was rebuilt).</summary>
    internal ManagedChannel Channel => _channel;

    internal static async Task<RpcServer> StartAsync(IConnection connection, ConnectionState state, RpcSettings options, RpcServiceDescriptor service,
        Func<RpcServerCall, ValueTask> invoke, CancellationToken cancellationToken, RpcSubscription? subscription = null)
    {
        var queue = options.QueueFor(service);
        string deadLetterFor = queue;
        try
        {
            if (subscription is not null)
            {
                // A subscriber is a server of its subscription's queue: same consuming, acks, retries and dead letters.
                // The topology is declared first, on a channel of its own, so the server's channel (and each rebuilt
                // one) consumes a fixed queue; an exclusive server-named queue belongs to the connection, not to
                // that channel, so it outlives it.
                (queue, deadLetterFor) = await EventTopology.DeclareOnOwnChannelAsync(connection, options, (RpcEventsDescriptor)service, subscription, cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        catch (OperationInterruptedException e)
        {
            throw new RpcException(BrokerRefusals.StatusOf(e), $"Cannot subscribe to {service.Name}: {e.ShutdownReason?.ReplyText ?? e.Message}", service.Name, null, e);
        }

        var confirmed = new ConfirmedChannel(connection);
        var server = new RpcServer(options, service, queue, invoke, subscription)
        {
            _connection = connection,
            _confirmed = confirmed,
            _failedWork = new FailedWork(connection, confirmed, options, service.Name, queue, deadLetterFor, events: subscription is not null),
        };
        server.PrepareAnswering();
        try
        {
            // The control path first: a cancel for a request this server is about to take must find it listening.
            server._control = await ControlListener.StartAsync(connection, queue, server._running, options.Loggers.Server, cancellationToken)
                .ConfigureAwait(false);
            // Every request the broker hands us runs at once (Dispatch hands each to the thread pool), and no more than
            // prefetch. An ordered service takes one at a time: the next is not even delivered before this one is settled.
            server._channel = await ManagedChannel.CreateAsync(connection,
                new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false),
                server.SetUpChannelAsync, $"channel serving queue '{queue}'", options.Loggers.Server, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (server._control is { } control) await control.CloseAsync().ConfigureAwait(false);
            if (e is OperationInterruptedException refused)
            {
                throw new RpcException(BrokerRefusals.StatusOf(refused), $"Cannot serve {service.Name} on queue '{queue}': {refused.ShutdownReason?.ReplyText ?? refused.Message}", service.Name, null, refused);
            }

            throw;
        }

        if (subscription is null)
        {
            state.LostQueues?.Declared(queue, again => QueueDeclarations.DeclareDurableAsync(again, options, queue, service.Name, CancellationToken.None,
                singleActiveConsumer: service.Ordered));
        }

        server._channel.ChannelClosedByBroker = server.OnChannelClosedByBroker;
        connection.ConnectionShutdownAsync += server.OnConnectionShutdownAsync;
        if (server.OwnsQueue) connection.QueueNameChangedAfterRecoveryAsync += server.OnQueueRenamedAsync;
        return server;
    }

    private ushort Prefetch => _service.Ordered ? (ushort)1 : _subscription?.Prefetch ?? _options.Prefetch;

    /// <summary>A subscription's exclusive server-named queue: the server deletes it when it stops.</summary>
    private bool OwnsQueue => _subscription is not null && string.IsNullOrEmpty(_subscription.Queue);

    /// <summary>What every server channel needs, the first and each rebuilt one: the queue, the prefetch, the consumer (consume-ok).</summary>
    private async Task SetUpChannelAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await DeclareQueueAsync(channel, cancellationToken).ConfigureAwait(false);
        await channel.BasicQosAsync(0, Prefetch, global: false, cancellationToken).ConfigureAwait(false);
        // Delivery tags start at 1 on every channel: a rebuilt one gets its own acknowledgements.
        var consumer = new RequestConsumer(this, channel, new Acknowledgements(channel, _options.CoalesceAcks, _counters),
            CancellationTokenSource.CreateLinkedTokenSource(_abort.Token));
        _consumer = consumer;
        if (_stopping) return;
        _consumerTag = await channel.BasicConsumeAsync(_queue, autoAck: false, consumer, cancellationToken).ConfigureAwait(false);
        consumer.IsConsuming = true;
        await ConsumeBatchesAsync(channel, consumer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The queue this server consumes, declared again (idempotent), with a named subscription's bindings; an exclusive one is left alone.</summary>
    private async Task DeclareQueueAsync(IChannel channel, CancellationToken cancellationToken)
    {
        if (_subscription is null)
        {
            await QueueDeclarations.DeclareDurableAsync(channel, _options, _queue, _service.Name, cancellationToken,
                singleActiveConsumer: _service.Ordered).ConfigureAwait(false);
        }
        else if (!OwnsQueue)
        {
            // Idempotent: a rebuilt channel finds the named queue and its bindings again, even if someone deleted them.
            await EventTopology.DeclareNamedAsync(_connection, channel, _options, (RpcEventsDescriptor)_service, _subscription, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The broker closed this server's channel; the connection is open. The deliveries on it go back to the queue (the
    /// handlers still running finish, but their acks have no channel), and the holder rebuilds the channel.
    /// </summary>
    private int OnChannelClosedByBroker(IChannel channel, ShutdownEventArgs reason)
    {
        // A reply over the broker's max_message_size (one the server took to be safe): the redelivered request is
        // answered rpc:too-large at once instead of closing the channel again.
        _replies.MessageLimit.TryLearn(reason.ReplyText);
        // RabbitMQ's words (3.8 to 4.x): "delivery acknowledgement on channel N timed out. Timeout value used: ..."
        if (reason.ReplyText.Contains("timed out", StringComparison.OrdinalIgnoreCase)
            && reason.ReplyText.Contains("acknowledgement", StringComparison.OrdinalIgnoreCase))
        {
            Diagnostics.RpcLog.ConsumerTimeoutExceeded(_options.Loggers.Server, _queue, reason.ReplyText);
        }

        // The requests still running go back to the queue and will be answered again; their handlers' tokens fire so
        // they stop now. RabbitMQ.Client answers the broker's channel.close only once the channel's handlers have
        // returned, and reads nothing else on the connection meanwhile. Cancelled off the reader: token callbacks run inline.
        ThreadPool.UnsafeQueueUserWorkItem(static lost => lost.Cancel(), _consumer.ChannelLost, preferLocal: false);
        return InFlight;
    }

    /// <summary>When the broker last cancelled this server's consumer (its queue deleted), for the health check; null if never.</summary>
    internal DateTimeOffset? ConsumerCancelledAt { get; private set; }

    /// <summary>
    /// The broker cancelled the consumer while the channel stays open: someone deleted the queue. Left alone, the server
    /// would stay idle for good while callers fail "no queue". Declared again and consumed off the dispatcher, which
    /// must not wait on the broker. A channel that closes meanwhile is the holder's to rebuild (its set-up does the same).
    /// </summary>
    internal void ConsumerCancelledByBroker(RequestConsumer consumer, string consumerTag)
    {
        if (_stopping || !ReferenceEquals(consumer, _consumer)) return;
        ConsumerCancelledAt = DateTimeOffset.UtcNow;
        Diagnostics.RpcLog.ConsumerCancelledByBroker(_options.Loggers.Server, _service.Name, _queue);
        // An exclusive server-named queue cannot be declared again under its name; the health check reports it.
        if (OwnsQueue) return;
        _ = Task.Run(() => ConsumeAgainAsync(consumer, consumerTag));
    }

    private async Task ConsumeAgainAsync(RequestConsumer consumer, string consumerTag)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (!_stopping && ReferenceEquals(consumer, _consumer) && consumer.Channel.IsOpen)
        {
            try
            {
                await DeclareQueueAsync(consumer.Channel, CancellationToken.None).ConfigureAwait(false);
                // The same tag: RabbitMQ.Client keeps the cancelled consumer in its recovery records under it, so a
                // later connection recovery restores this consumer once, not beside a second one.
                _consumerTag = await consumer.Channel.BasicConsumeAsync(_queue, autoAck: false, consumerTag, noLocal: false, exclusive: false,
                    arguments: null, consumer, CancellationToken.None).ConfigureAwait(false);
                consumer.IsConsuming = true;
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A refused declare closes the channel, and then the holder's rebuild takes over; anything else is retried.
                _options.Loggers.Server.LogDebug(e, "Consuming queue '{Queue}' again failed; trying again in {Delay} ms", _queue, delay.TotalMilliseconds);
                await Task.Delay(delay).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    /// <summary>The connection is lost: its deliveries will never be acked here; recovery numbers the new ones after them.</summary>
    private Task OnConnectionShutdownAsync(object sender, ShutdownEventArgs reason)
    {
        if (reason.Initiator != ShutdownInitiator.Application) _consumer.Acks.ForgetUnsettled();
        return Task.CompletedTask;
    }

    /// <summary>
    /// An exclusive server-named queue dies with its connection; RabbitMQ.Client's topology recovery declares a fresh
    /// one, moves the bindings and this server's consumer to it and says so here, before the consumer is recovered.
    /// The new name is where retries go, what <see cref="Queue"/> reports and what stopping deletes.
    /// </summary>
    private Task OnQueueRenamedAsync(object sender, QueueNameChangedAfterRecoveryEventArgs renamed)
    {
        if (renamed.NameBefore != _queue) return Task.CompletedTask;
        _queue = renamed.NameAfter;
        _failedWork.QueueRenamed(renamed.NameAfter);
        Diagnostics.RpcLog.SubscriptionQueueRenewed(_options.Loggers.Server, _service.Name, renamed.NameBefore, renamed.NameAfter);
        return Task.CompletedTask;
    }

    /// <summary>The failures that mean the channel is gone, taking its unsettled deliveries with it (the broker redelivers them).</summary>
    internal static bool IsChannelGone(Exception e) => e is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException;

    /// <summary>
    /// Stops taking requests, waits up to <see cref="RpcServerOptions.DrainTimeout"/> for calls in flight to be answered and
    /// acked, then closes the channel; requests not yet started go back to the queue for other servers. A second call
    /// waits for the first to finish.
    /// </summary>
    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    /// <summary>
    /// <see cref="DisposeAsync"/>, cut short when <paramref name="cancellationToken"/> fires (a host's shutdown grace
    /// period): then the handlers still running are cancelled at once, and given a short moment to finish.
    /// </summary>
    internal async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _disposedCompletion.Task.ConfigureAwait(false);
            return;
        }

        try
        {
            _stopping = true;
            _connection.ConnectionShutdownAsync -= OnConnectionShutdownAsync;
            _connection.QueueNameChangedAfterRecoveryAsync -= OnQueueRenamedAsync;
            if (_consumerTag is { } consumerTag)
            {
                try
                {
                    var channel = await _channel.ReadyAsync(cancellationToken).ConfigureAwait(false);
                    await channel.BasicCancelAsync(consumerTag, noWait: false, CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (IsChannelGone(e) || e is OperationCanceledException)
                {
                }
            }

            await StopReadingBatchesAsync(cancellationToken).ConfigureAwait(false);
            await _inFlight.WhenIdleAsync(_options.DrainTimeout, cancellationToken).ConfigureAwait(false);
            if (InFlight > 0)
            {
                _abort.Cancel();
                // Handlers that honour their token stop now; one that ignores it is not waited for long.
                var grace = cancellationToken.IsCancellationRequested ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(5);
                await _inFlight.WhenIdleAsync(grace, CancellationToken.None).ConfigureAwait(false);
            }

            // Answered requests whose acks are still queued must be acked before the channel closes, or they would be redelivered.
            await _consumer.Acks.WhenSentAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await LeaveBatchQueueAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            if (_control is not null) await _control.CloseAsync().ConfigureAwait(false);
            _running.Stop();
            await _channel.DisposeAsync().ConfigureAwait(false);
            await _confirmed.DisposeAsync().ConfigureAwait(false);
            if (OwnsQueue) await EventTopology.DeleteQuietlyAsync(_connection, _queue).ConfigureAwait(false);
            _disposedCompletion.TrySetResult();
        }
    }

}
