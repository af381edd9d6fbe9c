using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Testing.Broker;

/// <summary>
/// A connection to the in-memory broker, as RabbitMQ.Client's <see cref="IConnection"/>: it makes channels, can be
/// blocked (<c>connection.blocked</c>) and closed. It never recovers: nothing on it is ever lost but by closing it.
/// </summary>
internal sealed class MemoryConnection : IConnection
{
    private readonly InMemoryBroker _broker;
    private readonly ConcurrentDictionary<MemoryChannel, byte> _channels = new();
    private TaskCompletionSource? _unblocked;
    private int _channelNumbers;
    private int _closed;

    public MemoryConnection(InMemoryBroker broker, string userName, string? clientProvidedName)
    {
        _broker = broker;
        UserName = userName;
        ClientProvidedName = clientProvidedName;
    }

    /// <summary>The user the connection authenticated as: a published user_id must be this one.</summary>
    public string UserName { get; }

    public ushort ChannelMax => 2047;

    public IDictionary<string, object?> ClientProperties { get; } = new Dictionary<string, object?>();

    public ShutdownEventArgs? CloseReason { get; private set; }

    public AmqpTcpEndpoint Endpoint { get; } = new("in-memory", 5672);

    public uint FrameMax => 131072;

    public TimeSpan Heartbeat => TimeSpan.FromSeconds(10);

    public bool IsOpen => Volatile.Read(ref _closed) == 0;

    public IProtocol Protocol => Protocols.DefaultProtocol;

    public IDictionary<string, object?>? ServerProperties { get; } = new Dictionary<string, object?>
    {
        ["product"] = "RpcGen.Testing in-memory broker",
        ["capabilities"] = new Dictionary<string, object?> { ["consumer_cancel_notify"] = true, ["connection.blocked"] = true, ["publisher_confirms"] = true },
    };

    public IEnumerable<ShutdownReportEntry> ShutdownReport => Array.Empty<ShutdownReportEntry>();

    public string? ClientProvidedName { get; }

    public int LocalPort => 0;

    public int RemotePort => 5672;

    public event AsyncEventHandler<CallbackExceptionEventArgs>? CallbackExceptionAsync;

    public event AsyncEventHandler<ShutdownEventArgs>? ConnectionShutdownAsync;

    public event AsyncEventHandler<AsyncEventArgs>? RecoverySucceededAsync;

    public event AsyncEventHandler<ConnectionRecoveryErrorEventArgs>? ConnectionRecoveryErrorAsync;

    public event AsyncEventHandler<ConsumerTagChangedAfterRecoveryEventArgs>? ConsumerTagChangeAfterRecoveryAsync;

    public event AsyncEventHandler<QueueNameChangedAfterRecoveryEventArgs>? QueueNameChangedAfterRecoveryAsync;

    public event AsyncEventHandler<RecoveringConsumerEventArgs>? RecoveringConsumerAsync;

    public event AsyncEventHandler<ConnectionBlockedEventArgs>? ConnectionBlockedAsync;

    public event AsyncEventHandler<AsyncEventArgs>? ConnectionUnblockedAsync;

    /// <summary>Whether anyone listens to the recovery events, which this connection never raises (it is never lost).</summary>
    internal bool HasRecoveryListeners => RecoverySucceededAsync is not null || ConnectionRecoveryErrorAsync is not null ||
        ConsumerTagChangeAfterRecoveryAsync is not null || QueueNameChangedAfterRecoveryAsync is not null || RecoveringConsumerAsync is not null ||
        CallbackExceptionAsync is not null;

    public Task<IChannel> CreateChannelAsync(CreateChannelOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (!IsOpen) throw new AlreadyClosedException(CloseReason!);
        if (options is { PublisherConfirmationsEnabled: true, PublisherConfirmationTrackingEnabled: false })
        {
            throw new NotSupportedException("The in-memory broker confirms tracked publishes only (the publish's task); " +
                "confirms without tracking (BasicAcksAsync, BasicNacksAsync) are not modelled. RpcGen always tracks them.");
        }

        var channel = new MemoryChannel(_broker, this, Interlocked.Increment(ref _channelNumbers), options);
        _channels[channel] = 0;
        return Task.FromResult<IChannel>(channel);
    }

    internal void Forget(MemoryChannel channel) => _channels.TryRemove(channel, out _);

    /// <summary>The broker blocks the connection's publishers (a memory or disk alarm): publishes wait until <see cref="UnblockAsync"/>.</summary>
    public async Task BlockAsync(string reason)
    {
        Interlocked.CompareExchange(ref _unblocked, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
        await RaiseAsync(ConnectionBlockedAsync, new ConnectionBlockedEventArgs(reason)).ConfigureAwait(false);
    }

    public async Task UnblockAsync()
    {
        Interlocked.Exchange(ref _unblocked, null)?.TrySetResult();
        await RaiseAsync(ConnectionUnblockedAsync, AsyncEventArgs.Empty).ConfigureAwait(false);
    }

    internal Task WhenUnblockedAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _unblocked) is { } blocked ? blocked.Task.WaitAsync(cancellationToken) : Task.CompletedTask;

    public Task UpdateSecretAsync(string newSecret, string reason, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async Task CloseAsync(ushort reasonCode, string reasonText, TimeSpan timeout, bool abort, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        var reason = new ShutdownEventArgs(ShutdownInitiator.Application, reasonCode, reasonText);
        CloseReason = reason;
        foreach (var channel in _channels.Keys) await channel.CloseAsync(reason, abort: true).ConfigureAwait(false);
        _broker.ConnectionClosed(this);
        Interlocked.Exchange(ref _unblocked, null)?.TrySetResult();
        await RaiseAsync(ConnectionShutdownAsync, reason).ConfigureAwait(false);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync() =>
        await CloseAsync(Constants.ReplySuccess, "Goodbye", TimeSpan.FromSeconds(5), abort: true).ConfigureAwait(false);

    private async Task RaiseAsync<TArgs>(AsyncEventHandler<TArgs>? handlers, TArgs args) where TArgs : AsyncEventArgs
    {
        if (handlers is null) return;
        foreach (AsyncEventHandler<TArgs> handler in handlers.GetInvocationList()) await handler(this, args).ConfigureAwait(false);
    }
}
