using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.Diagnostics;

namespace RpcGen.Transport;

/// <summary>
/// Where a channel is created, noticed closed and rebuilt: every channel RpcGen uses (the client's call and send
/// channels, each server's channel) lives in one of these.
/// </summary>
/// <remarks>
/// <para>
/// Two kinds of loss. When the <em>connection</em> is lost, RabbitMQ.Client's automatic recovery restores the connection,
/// this channel and its consumer; nothing is done here but to refuse publishes meanwhile (<see cref="ConnectionState"/>).
/// When the broker closes only this <em>channel</em> (a message over <c>max_message_size</c>, a forged <c>user_id</c>,
/// an unknown delivery tag, a consumer past <c>consumer_timeout</c>, a publish to direct reply-to without its
/// consumer), the library does nothing and the channel would stay closed for the life of the process. Then this
/// holder tells its owner (<see cref="ChannelClosedByBroker"/>: fail the calls the channel carried), opens a new
/// channel, runs the owner's set-up on it (declare, qos, consume: awaited up to consume-ok), swaps it in, and only then
/// lets publishes through again (<see cref="WhenReady"/>), so a call never goes to direct reply-to before its consumer
/// is back (rabbitmq-dotnet-client #1076).
/// </para>
/// <para>
/// The old channel is closed on purpose once the new one is up, so the library forgets it and a later connection
/// recovery does not bring it back beside the new one. While the connection is down a rebuild stops: the library's
/// recovery restores the channel it still knows.
/// </para>
/// </remarks>
internal sealed class ChannelHolder : IAsyncDisposable
{
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromSeconds(1);

    private readonly IConnection _connection;
    private readonly CreateChannelOptions _createOptions;
    private readonly Func<IChannel, CancellationToken, Task> _setUp;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private volatile IChannel _channel = null!;
    private TaskCompletionSource? _rebuilt; // set while a rebuild runs; publishes wait for it
    private int _rebuilds;
    private int _disposed;

    private ChannelHolder(IConnection connection, CreateChannelOptions createOptions, Func<IChannel, CancellationToken, Task> setUp,
        string purpose, ILogger logger)
    {
        _connection = connection;
        _createOptions = createOptions;
        _setUp = setUp;
        Purpose = purpose;
        _logger = logger;
    }

    /// <summary>What the channel is for, in log messages: <c>call channel</c>, <c>channel serving queue 'calc'</c>.</summary>
    public string Purpose { get; }

    /// <summary>The channel to publish on now. During a rebuild, the closed one (see <see cref="WhenReady"/>).</summary>
    public IChannel Channel => _channel;

    /// <summary>
    /// <see langword="null"/> when publishes may go out now (one volatile read on the hot path); while the channel is
    /// being rebuilt, a task that completes once the new channel and its consumer are up (or the rebuild gave up
    /// because the connection went down).
    /// </summary>
    public Task? WhenReady => Volatile.Read(ref _rebuilt)?.Task;

    /// <summary>How many times the broker closed this channel and it was rebuilt.</summary>
    public int Rebuilds => Volatile.Read(ref _rebuilds);

    /// <summary>
    /// The broker closed the channel while the connection stayed open: the argument is the closed channel and the
    /// broker's reason. Runs on the connection's reader: fail calls here, do not wait on the broker.
    /// Returns how many calls or deliveries the channel took with it, for the log.
    /// </summary>
    public Func<IChannel, ShutdownEventArgs, int>? ChannelClosedByBroker { get; set; }

    /// <summary>Runs once a rebuilt channel is up (after its set-up), e.g. to start acking on it.</summary>
    public Action<IChannel>? ChannelRebuilt { get; set; }

    public static async Task<ChannelHolder> CreateAsync(IConnection connection, CreateChannelOptions createOptions,
        Func<IChannel, CancellationToken, Task> setUp, string purpose, ILogger logger, CancellationToken cancellationToken)
    {
        var holder = new ChannelHolder(connection, createOptions, setUp, purpose, logger);
        holder._channel = await holder.OpenAsync(cancellationToken).ConfigureAwait(false);
        connection.RecoverySucceededAsync += holder.OnConnectionRecoveredAsync;
        return holder;
    }

    private async Task<IChannel> OpenAsync(CancellationToken cancellationToken)
    {
        var channel = await _connection.CreateChannelAsync(_createOptions, cancellationToken).ConfigureAwait(false);
        try
        {
            await _setUp(channel, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await CloseQuietlyAsync(channel).ConfigureAwait(false);
            throw;
        }

        // The event's sender is the library's inner channel, not the one we hold: remember which one this is.
        channel.ChannelShutdownAsync += (_, reason) => OnChannelShutdownAsync(channel, reason);
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
            finally
            {
                RpcLog.ChannelClosed(_logger, Purpose, reason.ReplyCode, reason.ReplyText, failed);
            }
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
                    fresh = await OpenAsync(CancellationToken.None).ConfigureAwait(false);
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
                Interlocked.Increment(ref _rebuilds);
                ChannelRebuilt?.Invoke(fresh);
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
        var channel = _channel;
        if (Volatile.Read(ref _disposed) == 0 && !channel.IsOpen) BeginRebuild(channel, reason: null);
        return Task.CompletedTask;
    }

    private static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            // On a channel the broker already closed this only makes the library forget it.
            await channel.CloseAsync().ConfigureAwait(false);
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
        _connection.RecoverySucceededAsync -= OnConnectionRecoveredAsync;
        await CloseQuietlyAsync(_channel).ConfigureAwait(false);
    }
}
