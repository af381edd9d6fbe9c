using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Testing.Broker;

/// <summary>
/// An AMQP channel on the in-memory broker, as RabbitMQ.Client's <see cref="IChannel"/>. Consumers run on the
/// channel's own dispatcher (as many at once as its <c>consumerDispatchConcurrency</c>), never on a publisher's stack;
/// a refused operation closes the channel with the code RabbitMQ sends and throws what the client throws.
/// </summary>
internal sealed class MemoryChannel : IChannel
{
    private readonly InMemoryBroker _broker;
    private readonly System.Threading.Channels.Channel<Func<Task>> _work =
        System.Threading.Channels.Channel.CreateUnbounded<Func<Task>>(new System.Threading.Channels.UnboundedChannelOptions { AllowSynchronousContinuations = false });
    private readonly bool _confirms;
    private readonly Task[] _workers;
    private ulong _deliveryTag;
    private ulong _nextPublish = 1;
    private int _closed;
    private ShutdownEventArgs? _closeReason;

    public MemoryChannel(InMemoryBroker broker, MemoryConnection connection, int number, CreateChannelOptions? options)
    {
        _broker = broker;
        Connection = connection;
        ChannelNumber = number;
        _confirms = options?.PublisherConfirmationsEnabled ?? false;
        int concurrency = Math.Max((int)(options?.ConsumerDispatchConcurrency ?? 1), 1);
        _workers = new Task[concurrency];
        for (int i = 0; i < concurrency; i++) _workers[i] = Task.Run(RunWorkAsync);
    }

    public MemoryConnection Connection { get; }

    /// <summary>The prefetch of consumers started from now on (basic.qos, per consumer).</summary>
    public ushort Prefetch { get; private set; }

    public Dictionary<string, MemoryConsumer> Consumers { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<ulong, MemoryUnacked> Unacked { get; } = new();

    /// <summary>The direct reply-to consumer, and the token replies to it are addressed by.</summary>
    public MemoryConsumer? ReplyConsumer { get; set; }

    public string? ReplyToken { get; set; }

    public int ChannelNumber { get; }

    public ShutdownEventArgs? CloseReason => Volatile.Read(ref _closeReason);

    public IAsyncBasicConsumer? DefaultConsumer { get; set; }

    public bool IsClosed => !IsOpen;

    public bool IsOpen => Volatile.Read(ref _closed) == 0 && Connection.IsOpen;

    public string? CurrentQueue { get; private set; }

    public TimeSpan ContinuationTimeout { get; set; } = TimeSpan.FromSeconds(20);

    public event AsyncEventHandler<BasicAckEventArgs>? BasicAcksAsync;

    public event AsyncEventHandler<BasicNackEventArgs>? BasicNacksAsync;

    public event AsyncEventHandler<BasicReturnEventArgs>? BasicReturnAsync;

    public event AsyncEventHandler<CallbackExceptionEventArgs>? CallbackExceptionAsync;

    public event AsyncEventHandler<ShutdownEventArgs>? ChannelShutdownAsync;

    /// <summary>Never raised: the in-memory broker sends no channel.flow.</summary>
    public event AsyncEventHandler<FlowControlEventArgs>? FlowControlAsync;

    public ulong NextDeliveryTag() => ++_deliveryTag;

    /// <summary>Runs <paramref name="work"/> on the channel's dispatcher, after what is queued before it.</summary>
    public void Dispatch(Func<Task> work) => _work.Writer.TryWrite(work);

    public ValueTask<ulong> GetNextPublishSequenceNumberAsync(CancellationToken cancellationToken = default) =>
        new(_confirms ? Interlocked.Read(ref _nextPublish) : 0);

    public ValueTask BasicAckAsync(ulong deliveryTag, bool multiple, CancellationToken cancellationToken = default) =>
        Settle(deliveryTag, multiple, requeue: null, classId: 60, methodId: 80);

    public ValueTask BasicNackAsync(ulong deliveryTag, bool multiple, bool requeue, CancellationToken cancellationToken = default) =>
        Settle(deliveryTag, multiple, requeue, classId: 60, methodId: 120);

    public ValueTask BasicRejectAsync(ulong deliveryTag, bool requeue, CancellationToken cancellationToken = default) =>
        Settle(deliveryTag, multiple: false, requeue, classId: 60, methodId: 90);

    private ValueTask Settle(ulong deliveryTag, bool multiple, bool? requeue, ushort classId, ushort methodId)
    {
        ThrowIfClosed();
        try
        {
            _broker.Settle(this, deliveryTag, multiple, requeue);
        }
        catch (BrokerException e)
        {
            // A settlement is asynchronous in AMQP: the client's call returns, and the channel closes after.
            _ = CloseByBrokerAsync(e.ToShutdown(classId, methodId));
        }

        return default;
    }

    public async Task BasicCancelAsync(string consumerTag, bool noWait = false, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        _broker.Cancel(this, consumerTag);
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task<string> BasicConsumeAsync(string queue, bool autoAck, string consumerTag, bool noLocal, bool exclusive,
        IDictionary<string, object?>? arguments, IAsyncBasicConsumer consumer, CancellationToken cancellationToken = default) =>
        Run(() => _broker.Consume(this, queue, consumerTag, autoAck, exclusive, consumer), 60, 20);

    public Task<BasicGetResult?> BasicGetAsync(string queue, bool autoAck, CancellationToken cancellationToken = default) =>
        Run(() => _broker.Get(this, queue, autoAck), 60, 70);

    public ValueTask BasicPublishAsync<TProperties>(string exchange, string routingKey, bool mandatory, TProperties basicProperties,
        ReadOnlyMemory<byte> body = default, CancellationToken cancellationToken = default)
        where TProperties : IReadOnlyBasicProperties, IAmqpHeader =>
        PublishAsync(exchange, routingKey, mandatory, basicProperties, body, cancellationToken);

    public ValueTask BasicPublishAsync<TProperties>(CachedString exchange, CachedString routingKey, bool mandatory, TProperties basicProperties,
        ReadOnlyMemory<byte> body = default, CancellationToken cancellationToken = default)
        where TProperties : IReadOnlyBasicProperties, IAmqpHeader =>
        PublishAsync(exchange.Value, routingKey.Value, mandatory, basicProperties, body, cancellationToken);

    private async ValueTask PublishAsync(string exchange, string routingKey, bool mandatory, IReadOnlyBasicProperties properties,
        ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        cancellationToken.ThrowIfCancellationRequested();
        await Connection.WhenUnblockedAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfClosed();
        ulong sequence = _confirms ? Interlocked.Increment(ref _nextPublish) - 1 : 0;
        int routed;
        try
        {
            routed = _broker.Publish(this, exchange, routingKey, properties, body);
        }
        catch (BrokerException e)
        {
            var reason = e.ToShutdown(60, 40);
            _ = CloseByBrokerAsync(reason);
            // Without confirms the publish itself went out; the channel closes after. With them, the confirm never comes.
            if (_confirms) throw new AlreadyClosedException(reason);
            return;
        }

        if (routed == 0 && mandatory)
        {
            var returned = new BasicReturnEventArgs(Constants.NoRoute, "NO_ROUTE", exchange, routingKey, new BasicProperties(properties), body.ToArray());
            Dispatch(() => RaiseAsync(BasicReturnAsync, returned));
            if (_confirms) throw new PublishException(sequence, isReturn: true);
        }
    }

    public Task BasicQosAsync(uint prefetchSize, ushort prefetchCount, bool global, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        Prefetch = prefetchCount;
        return Task.CompletedTask;
    }

    public Task CloseAsync(ushort replyCode, string replyText, bool abort, CancellationToken cancellationToken = default) =>
        CloseAsync(new ShutdownEventArgs(ShutdownInitiator.Application, replyCode, replyText), abort, cancellationToken);

    public Task CloseAsync(ShutdownEventArgs reason, bool abort) => CloseAsync(reason, abort, CancellationToken.None);

    public async Task CloseAsync(ShutdownEventArgs reason, bool abort, CancellationToken cancellationToken = default)
    {
        if (!MarkClosed(reason)) return;
        await ShutDownAsync(reason).ConfigureAwait(false);
    }

    /// <summary>The broker closes the channel (an error), or its connection went: the channel is closed, its deliveries go back.</summary>
    public async Task CloseByBrokerAsync(ShutdownEventArgs reason)
    {
        if (!MarkClosed(reason)) return;
        // Off the caller's stack, as the client hears a channel.close on its reader loop.
        await Task.Yield();
        await ShutDownAsync(reason).ConfigureAwait(false);
    }

    /// <summary>The reason is in place before the channel reads as closed: whoever sees it closed can read why.</summary>
    private bool MarkClosed(ShutdownEventArgs reason)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null) return false;
        Volatile.Write(ref _closed, 1);
        return true;
    }

    private async Task ShutDownAsync(ShutdownEventArgs reason)
    {
        List<MemoryConsumer> consumers;
        lock (_broker.Gate)
        {
            consumers = new List<MemoryConsumer>(Consumers.Values);
            if (ReplyConsumer is { } reply) consumers.Add(reply);
        }

        _broker.ChannelClosed(this);
        Connection.Forget(this);
        _work.Writer.TryComplete();
        await RaiseAsync(ChannelShutdownAsync, reason).ConfigureAwait(false);
        foreach (var consumer in consumers)
        {
            try
            {
                await consumer.Consumer.HandleChannelShutdownAsync(this, reason).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                await RaiseCallbackExceptionAsync(e, "HandleChannelShutdown").ConfigureAwait(false);
            }
        }
    }

    public Task ExchangeDeclareAsync(string exchange, string type, bool durable, bool autoDelete, IDictionary<string, object?>? arguments = null,
        bool passive = false, bool noWait = false, CancellationToken cancellationToken = default) =>
        Run(() =>
        {
            if (passive) _broker.FindExchange(exchange);
            else _broker.DeclareExchange(exchange, type, durable, autoDelete, arguments);
            return true;
        }, 40, 10);

    public Task ExchangeDeclarePassiveAsync(string exchange, CancellationToken cancellationToken = default) =>
        Run(() =>
        {
            _broker.FindExchange(exchange);
            return true;
        }, 40, 10);

    public Task ExchangeDeleteAsync(string exchange, bool ifUnused = false, bool noWait = false, CancellationToken cancellationToken = default) =>
        Run(() =>
        {
            _broker.DeleteExchange(exchange);
            return true;
        }, 40, 20);

    public Task ExchangeBindAsync(string destination, string source, string routingKey, IDictionary<string, object?>? arguments = null,
        bool noWait = false, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The in-memory broker does not model exchange-to-exchange bindings (exchange.bind); RpcGen does not use them.");

    public Task ExchangeUnbindAsync(string destination, string source, string routingKey, IDictionary<string, object?>? arguments = null,
        bool noWait = false, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The in-memory broker does not model exchange-to-exchange bindings (exchange.unbind); RpcGen does not use them.");

    public async Task<QueueDeclareOk> QueueDeclareAsync(string queue = "", bool durable = false, bool exclusive = true, bool autoDelete = true,
        IDictionary<string, object?>? arguments = null, bool passive = false, bool noWait = false, CancellationToken cancellationToken = default)
    {
        var ok = await Run(() => passive ? _broker.FindQueue(Connection, queue) : _broker.DeclareQueue(Connection, queue, durable, exclusive, autoDelete, arguments), 50, 10)
            .ConfigureAwait(false);
        CurrentQueue = ok.QueueName;
        return ok;
    }

    public Task<QueueDeclareOk> QueueDeclarePassiveAsync(string queue, CancellationToken cancellationToken = default) =>
        Run(() => _broker.FindQueue(Connection, queue), 50, 10);

    public Task<uint> QueueDeleteAsync(string queue, bool ifUnused, bool ifEmpty, bool noWait = false, CancellationToken cancellationToken = default) =>
        Run(() => _broker.DeleteQueue(queue, ifUnused, ifEmpty), 50, 40);

    public Task<uint> QueuePurgeAsync(string queue, CancellationToken cancellationToken = default) =>
        Run(() => _broker.PurgeQueue(queue), 50, 30);

    public Task QueueBindAsync(string queue, string exchange, string routingKey, IDictionary<string, object?>? arguments = null,
        bool noWait = false, CancellationToken cancellationToken = default) =>
        Run(() =>
        {
            _broker.Bind(queue, exchange, routingKey, arguments);
            return true;
        }, 50, 20);

    public Task QueueUnbindAsync(string queue, string exchange, string routingKey, IDictionary<string, object?>? arguments = null,
        CancellationToken cancellationToken = default) =>
        Run(() =>
        {
            _broker.Unbind(queue, exchange, routingKey, arguments);
            return true;
        }, 50, 50);

    public async Task<uint> MessageCountAsync(string queue, CancellationToken cancellationToken = default) =>
        (await QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false)).MessageCount;

    public async Task<uint> ConsumerCountAsync(string queue, CancellationToken cancellationToken = default) =>
        (await QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false)).ConsumerCount;

    public Task TxCommitAsync(CancellationToken cancellationToken = default) => throw TransactionsNotSupported();

    public Task TxRollbackAsync(CancellationToken cancellationToken = default) => throw TransactionsNotSupported();

    public Task TxSelectAsync(CancellationToken cancellationToken = default) => throw TransactionsNotSupported();

    private static NotSupportedException TransactionsNotSupported() =>
        new("The in-memory broker does not model AMQP transactions (tx.*); RpcGen uses publisher confirms.");

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _closed) == 0) await CloseAsync(new ShutdownEventArgs(ShutdownInitiator.Application, Constants.ReplySuccess, "Goodbye"), abort: true).ConfigureAwait(false);
    }

    /// <summary>A synchronous AMQP method: its answer, or the channel closed with the broker's error and the client's exception.</summary>
    private async Task<T> Run<T>(Func<T> method, ushort classId, ushort methodId)
    {
        ThrowIfClosed();
        try
        {
            var result = method();
            // The answer comes back over the "network": the caller never continues inline.
            await Task.Yield();
            return result;
        }
        catch (BrokerException e)
        {
            var reason = e.ToShutdown(classId, methodId);
            await CloseByBrokerAsync(reason).ConfigureAwait(false);
            throw new OperationInterruptedException(reason);
        }
    }

    private void ThrowIfClosed()
    {
        if (IsOpen) return;
        throw new AlreadyClosedException(CloseReason ?? Connection.CloseReason ?? new ShutdownEventArgs(ShutdownInitiator.Library, Constants.ChannelError, "channel closed"));
    }

    private async Task RunWorkAsync()
    {
        var reader = _work.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var work))
            {
                try
                {
                    await work().ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    await RaiseCallbackExceptionAsync(e, "consumer").ConfigureAwait(false);
                }
            }
        }
    }

    private async Task RaiseCallbackExceptionAsync(Exception e, string context)
    {
        try
        {
            await RaiseAsync(CallbackExceptionAsync, CallbackExceptionEventArgs.Build(e, context)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A handler of callback exceptions that throws has nobody left to tell, as in the client.
        }
    }

    private async Task RaiseAsync<TArgs>(AsyncEventHandler<TArgs>? handlers, TArgs args) where TArgs : AsyncEventArgs
    {
        if (handlers is null) return;
        foreach (AsyncEventHandler<TArgs> handler in handlers.GetInvocationList()) await handler(this, args).ConfigureAwait(false);
    }

    /// <summary>Confirms are given only to a tracked publish (its task), which is how RpcGen uses them: these events stay silent.</summary>
    internal bool HasAckListeners => BasicAcksAsync is not null || BasicNacksAsync is not null || FlowControlAsync is not null;
}
