using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.Diagnostics;

namespace RpcGen.Transport;

/// <summary>
/// Where a channel is created, noticed closed and reopened: every long-lived channel RpcGen uses lives in one, and
/// nobody can read the channel before it is ready (<see cref="ReadyAsync"/>). Per connection that is the call channel
/// and the one-way send channel (opened at connect), the control lanes' two channels and the server-check channel
/// (opened on first use); per server, its request channel and its control listener's channel (opened at start) and its
/// confirmed channel (<see cref="ConfirmedChannel"/>, opened on first use). Declarations run on short-lived channels of
/// their own (<see cref="WithScratchChannelAsync{TState}"/>).
/// </summary>
/// <remarks>
/// <para>
/// Two modes. An <em>eager</em> channel (<see cref="CreateAsync"/>) is opened now and rebuilt as soon as the broker closes
/// it. Two kinds of loss. When the <em>connection</em> is lost, RabbitMQ.Client's automatic recovery restores the
/// connection, this channel and its consumer; nothing is done here but to refuse publishes meanwhile
/// (<see cref="ConnectionState"/>). When the broker closes only this <em>channel</em> (a message over
/// <c>max_message_size</c>, a forged <c>user_id</c>, an unknown delivery tag, a consumer past <c>consumer_timeout</c>, a
/// publish to direct reply-to without its consumer), the library does nothing and the channel would stay closed for
/// the life of the process. Then this class tells its owner (<see cref="ChannelClosedByBroker"/>: fail the calls the
/// channel carried), opens a new channel, runs the owner's set-up on it (declare, qos, consume: awaited up to
/// consume-ok), swaps it in, and only then lets <see cref="ReadyAsync"/> return, so a call never goes to direct
/// reply-to before its consumer is back (rabbitmq-dotnet-client #1076). The old channel is closed on purpose once the
/// new one is up, so the library forgets it and a later connection recovery does not bring it back beside the new one.
/// While the connection is down a rebuild stops: the library's recovery restores the channel it still knows.
/// </para>
/// <para>
/// A <em>lazy</em> channel (<see cref="CreateLazy"/>) is opened at its first <see cref="ReadyAsync"/> and, once closed
/// (by the broker: a 404 on a passive declare or on a missing exchange) or given up (<see cref="Abandon"/>: a publish
/// or confirm that did not complete in time), reopened at the next one. It suits channels whose loss fails only the
/// operation that caused it.
/// </para>
/// </remarks>
internal sealed class ManagedChannel : IAsyncDisposable
{
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long a close on purpose may take: a blocked connection may never answer it.</summary>
    internal static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly IConnection _connection;
    private readonly CreateChannelOptions _createOptions;
    private readonly Func<IChannel, CancellationToken, Task>? _setUp;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim? _opening; // lazy mode: one opener at a time
    private readonly object _gate = new();
    private volatile IChannel? _channel;
    private TaskCompletionSource? _rebuilt; // eager mode: set while a rebuild runs; ReadyAsync waits for it
    private int _rebuilds;
    private int _generation;
    private int _disposed;

    private ManagedChannel(IConnection connection, CreateChannelOptions createOptions, Func<IChannel, CancellationToken, Task>? setUp,
        string purpose, ILogger logger, bool lazy)
    {
        _connection = connection;
        _createOptions = createOptions;
        _setUp = setUp;
        Purpose = purpose;
        _logger = logger;
        if (lazy) _opening = new SemaphoreSlim(1, 1);
    }

    /// <summary>What the channel is for, in log messages: <c>call channel</c>, <c>channel serving queue 'calc'</c>.</summary>
    public string Purpose { get; }

    /// <summary>How many times the channel was opened again: rebuilt after the broker closed it, or (lazy) reopened after a close or <see cref="Abandon"/>.</summary>
    public int Rebuilds => Volatile.Read(ref _rebuilds);

    /// <summary>
    /// Eager mode: the broker closed the channel while the connection stayed open: the argument is the closed channel
    /// and the broker's reason. Runs on the connection's reader: fail calls here, do not wait on the broker.
    /// Returns how many calls or deliveries the channel took with it, for the log.
    /// </summary>
    public Func<IChannel, ShutdownEventArgs, int>? ChannelClosedByBroker { get; set; }

    /// <summary>Opens an eager channel now, with <paramref name="setUp"/> run on it and on each rebuilt one.</summary>
    public static async Task<ManagedChannel> CreateAsync(IConnection connection, CreateChannelOptions createOptions,
        Func<IChannel, CancellationToken, Task> setUp, string purpose, ILogger logger, CancellationToken cancellationToken)
    {
        var managed = new ManagedChannel(connection, createOptions, setUp, purpose, logger, lazy: false);
        managed._channel = await managed.OpenAsync(watch: true, cancellationToken).ConfigureAwait(false);
        connection.RecoverySucceededAsync += managed.OnConnectionRecoveredAsync;
        return managed;
    }

    /// <summary>A lazy channel: nothing is opened until the first <see cref="ReadyAsync"/>.</summary>
    public static ManagedChannel CreateLazy(IConnection connection, CreateChannelOptions createOptions, string purpose, ILogger? logger = null,
        Func<IChannel, CancellationToken, Task>? setUp = null) =>
        new(connection, createOptions, setUp, purpose, logger ?? NullLogger.Instance, lazy: true);

    /// <summary>
    /// The channel to use now, once it is ready: waits while an eager channel is being rebuilt (until the rebuild is
    /// done or gave up because the connection went down: then it is the closed channel, and a publish on it fails as
    /// on a lost connection); opens a lazy channel not open yet. Waits until <paramref name="cancellationToken"/>
    /// fires: a caller that wants a time bound passes a token with that bound. With no rebuild under way, no
    /// allocation and no wait (one volatile read on the hot path).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first.</exception>
    /// <exception cref="ObjectDisposedException">A lazy channel was disposed.</exception>
    public ValueTask<IChannel> ReadyAsync(CancellationToken cancellationToken)
    {
        if (TryGetReady(out var channel)) return new ValueTask<IChannel>(channel);
        if (_opening is not null) return new ValueTask<IChannel>(OpenLazilyAsync(cancellationToken));
        var rebuilt = Volatile.Read(ref _rebuilt);
        return rebuilt is null ? new ValueTask<IChannel>(_channel!) : WaitForRebuildAsync(rebuilt.Task, cancellationToken);
    }

    /// <summary>
    /// The channel when it is ready now, without waiting (for a hot path that must not allocate): false while an eager
    /// channel is being rebuilt or a lazy one is not open; then <see cref="ReadyAsync"/> waits for it.
    /// </summary>
    public bool TryGetReady([NotNullWhen(true)] out IChannel? channel)
    {
        if (_opening is not null)
        {
            channel = _channel;
            return channel is { IsOpen: true };
        }

        channel = Volatile.Read(ref _rebuilt) is null ? _channel : null;
        return channel is not null;
    }

    private async ValueTask<IChannel> WaitForRebuildAsync(Task rebuilt, CancellationToken cancellationToken)
    {
        await rebuilt.WaitAsync(cancellationToken).ConfigureAwait(false);
        return _channel!;
    }

    /// <summary>
    /// Which opening of a lazy channel <paramref name="channel"/> is (1 for the first): a caller that prepares each new
    /// channel once (a declare) tells a new one by it. -1 when it is no longer the current channel.
    /// </summary>
    public int GenerationOf(IChannel channel) => ReferenceEquals(_channel, channel) ? Volatile.Read(ref _generation) : -1;

    /// <summary>
    /// Lazy mode: <paramref name="channel"/> is not used again (a publish or confirm on it did not complete in time, so
    /// it is not trusted): it is dropped if still current and closed in the background, bounded; the next
    /// <see cref="ReadyAsync"/> opens a fresh one.
    /// </summary>
    public void Abandon(IChannel? channel)
    {
        if (channel is null || _opening is null) return;
#pragma warning disable CS0420 // a volatile field passed by reference: Interlocked is a full fence anyway
        if (Interlocked.CompareExchange(ref _channel, null, channel) != channel) return;
#pragma warning restore CS0420
        _ = CloseQuietlyAsync(channel);
    }

    private async Task<IChannel> OpenLazilyAsync(CancellationToken cancellationToken)
    {
        await _opening!.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var current = _channel;
            if (current is { IsOpen: true }) return current;
            if (current is not null)
            {
                _channel = null;
                _ = CloseQuietlyAsync(current);
            }

            var fresh = await OpenAsync(watch: false, cancellationToken).ConfigureAwait(false);
            if (Interlocked.Increment(ref _generation) > 1)
            {
                Interlocked.Increment(ref _rebuilds);
                RpcTelemetry.CountRebuild(Purpose);
            }
            _channel = fresh;
            return fresh;
        }
        finally
        {
            _opening.Release();
        }
    }

    private async Task<IChannel> OpenAsync(bool watch, CancellationToken cancellationToken)
    {
        var channel = await _connection.CreateChannelAsync(_createOptions, cancellationToken).ConfigureAwait(false);
        try
        {
            if (_setUp is not null) await _setUp(channel, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await CloseQuietlyAsync(channel).ConfigureAwait(false);
            throw;
        }

        // The event's sender is the library's inner channel, not the one we hold: remember which one this is.
        if (watch) channel.ChannelShutdownAsync += (_, reason) => OnChannelShutdownAsync(channel, reason);
        return channel;
    }

    private Task OnChannelShutdownAsync(IChannel closed, ShutdownEventArgs reason)
    {
        // Closed on purpose, or part of a lost connection (whose close reason is set before its channels hear of it):
        // not ours to rebuild.
        if (reason.Initiator == ShutdownInitiator.Application || Volatile.Read(ref _disposed) != 0 || !_connection.IsOpen) return Task.CompletedTask;
        if (!ReferenceEquals(closed, _channel)) return Task.CompletedTask;
        BeginRebuild(closed, reason);
        return Task.CompletedTask;
    }

    private void BeginRebuild(IChannel closed, ShutdownEventArgs? reason)
    {
        lock (_gate)
        {
            if (_rebuilt is not null) return;
            _rebuilt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        int failed = 0;
        if (reason is not null)
        {
            try
            {
                failed = ChannelClosedByBroker?.Invoke(closed, reason) ?? 0;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The owner's bookkeeping failed; the channel must still come back, or every ReadyAsync waits forever.
                _logger.LogWarning(e, "The owner of the {Purpose} failed while being told of its close; rebuilding it anyway", Purpose);
            }

            RpcLog.ChannelClosed(_logger, Purpose, reason.ReplyCode, reason.ReplyText, failed);
        }

        // Not on the connection's reader: opening a channel needs that reader to read channel.open-ok.
        _ = Task.Run(() => RebuildAsync(closed));
    }

    private async Task RebuildAsync(IChannel closed)
    {
        var started = Stopwatch.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(50);
        try
        {
            while (Volatile.Read(ref _disposed) == 0 && _connection.IsOpen)
            {
                IChannel fresh;
                try
                {
                    fresh = await OpenAsync(watch: true, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // The set-up itself may be refused for a while (a queue being deleted); try again, more slowly.
                    _logger.LogDebug(e, "Rebuilding the {Purpose} failed; trying again in {Delay} ms", Purpose, delay.TotalMilliseconds);
                    await Task.Delay(delay).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_maxRetryDelay.Ticks));
                    continue;
                }

                if (Volatile.Read(ref _disposed) != 0)
                {
                    await CloseQuietlyAsync(fresh).ConfigureAwait(false);
                    return;
                }

                _channel = fresh;
                // DisposeAsync may have run between the check above and the swap, closing the old channel only.
                if (Volatile.Read(ref _disposed) != 0)
                {
                    await CloseQuietlyAsync(fresh).ConfigureAwait(false);
                    return;
                }

                Interlocked.Increment(ref _rebuilds);
                RpcTelemetry.CountRebuild(Purpose);
                RpcLog.ChannelRebuilt(_logger, Purpose, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                await CloseQuietlyAsync(closed).ConfigureAwait(false);
                return;
            }
        }
        finally
        {
            TaskCompletionSource? rebuilt;
            lock (_gate)
            {
                rebuilt = _rebuilt;
                _rebuilt = null;
            }

            rebuilt?.TrySetResult();
        }
    }

    /// <summary>A channel closed while the connection was down and not restored by recovery (a rebuild cut short) is rebuilt now.</summary>
    private Task OnConnectionRecoveredAsync(object sender, AsyncEventArgs args)
    {
        var channel = _channel!;
        if (Volatile.Read(ref _disposed) == 0 && !channel.IsOpen) BeginRebuild(channel, reason: null);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a short-lived channel of its own, closed afterwards either way (within
    /// <see cref="CloseTimeout"/>): for declarations, which close the channel they run on when the broker refuses them.
    /// </summary>
    public static async Task WithScratchChannelAsync<TState>(IConnection connection, TState state, Func<IChannel, TState, Task> work,
        CancellationToken cancellationToken = default)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            await work(channel, state).ConfigureAwait(false);
        }
        finally
        {
            // Bounded like every other close: a connection the broker blocks must not hold a finished declaration.
            await CloseQuietlyAsync(channel).ConfigureAwait(false);
        }
    }

    private static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            // On a channel the broker already closed this only makes the library forget it; a stuck one is given up.
            await channel.CloseAsync().WaitAsync(CloseTimeout).ConfigureAwait(false);
        }
        catch (Exception)
        {
        }

        try
        {
            channel.Dispose();
        }
        catch (Exception)
        {
        }
    }

    /// <summary>Closes the channel on purpose; a rebuild still running stops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_opening is null)
        {
            _connection.RecoverySucceededAsync -= OnConnectionRecoveredAsync;
            await CloseQuietlyAsync(_channel!).ConfigureAwait(false);
            return;
        }

        // Waits for an opening under way, so the channel it opens is closed too.
        await _opening.WaitAsync().ConfigureAwait(false);
        try
        {
            var channel = _channel;
            _channel = null;
            if (channel is not null) await CloseQuietlyAsync(channel).ConfigureAwait(false);
        }
        finally
        {
            _opening.Release();
        }
    }
}
