using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// Tells a service's servers that a caller gave up on a call (its token fired or its timeout passed), so the server
/// running it cancels the handler's token and one that has not started it yet never runs it; and carries a streamed
/// result's credit grants (message <c>type</c> <c>credit</c>). One control message per cancel or grant to the service's
/// fanout exchange <c>rpc-control.{queue}</c> (docs/wire-format.md, "Cancelling a call").
/// </summary>
/// <remarks>
/// <para>Servers declare the exchange (they consume it); a caller only publishes, so it needs write but no configure
/// permission on it (docs/security.md). With no server running the exchange may not exist: the broker then closes the
/// publishing channel (404). Each lane publishes with confirms, one message at a time, so that close fails only the
/// message that caused it; the next one goes out on a fresh channel. Nothing is lost by it: with no server bound there
/// was nobody to cancel.</para>
/// <para>Cancels and credit travel in two lanes, each a bounded queue, one sender loop and a channel of its own, so a
/// burst of credit never delays a cancel and neither waits on the other's broker round trip. Credit is absolute, so
/// the credit lane keeps one entry per stream, the latest grant: however fast grants come, each stream costs at most
/// one message per round trip, and a lane that falls behind sends the newest grant, never a backlog of stale ones. A publish that does not
/// complete within <see cref="PublishTimeout"/> (a blocked connection, a stuck confirm) is given up with its channel,
/// so one stuck publish cannot stop the lane for good. A full queue drops its oldest entry: cancels are best effort
/// (the call's deadline still ends the server's work) and credit is absolute and resent while a caller waits, so a
/// newer grant supersedes an older one.</para>
/// </remarks>
internal sealed class CancellationSender
{
    internal static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);
    private const int MaxQueued = 4096;

    private readonly Lane _cancels;
    private readonly Lane _credits;

    public CancellationSender(IConnection connection)
    {
        _cancels = new Lane(connection, coalesce: false);
        _credits = new Lane(connection, coalesce: true);
    }

    /// <summary>Cancel messages published (and confirmed) so far.</summary>
    public long Sent => _cancels.Published;

    /// <summary>Cancels and grants given up: refused by the broker (no server declared the exchange), timed out, or dropped from a full queue.</summary>
    public long Lost => _cancels.Lost + _credits.Lost;

    public void Send(PendingCall call) => _cancels.Post(call, -1);

    /// <summary>A streamed result's credit: the server may send the items below <paramref name="credit"/>.</summary>
    public void SendCredit(PendingCall call, long credit) => _credits.Post(call, credit);

    public async ValueTask CloseAsync()
    {
        await _cancels.CloseAsync().ConfigureAwait(false);
        await _credits.CloseAsync().ConfigureAwait(false);
    }

    private sealed class Lane
    {
        private static readonly ReadOnlyMemory<byte> s_empty = ReadOnlyMemory<byte>.Empty;

        private readonly IConnection _connection;
        private readonly Channel<(PendingCall Call, long Credit)> _queue;
        private readonly ConcurrentDictionary<PendingCall, long>? _latest;
        private readonly Task _loop;
        private IChannel? _channel;
        private long _published;
        private long _lost;

        public Lane(IConnection connection, bool coalesce)
        {
            _connection = connection;
            _latest = coalesce ? new ConcurrentDictionary<PendingCall, long>() : null;
            _queue = Channel.CreateBounded<(PendingCall, long)>(
                new BoundedChannelOptions(MaxQueued) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest },
                dropped =>
                {
                    Interlocked.Increment(ref _lost);
                    _latest?.TryRemove(dropped.Item1, out _);
                });
            _loop = Task.Run(SendLoopAsync);
        }

        public long Published => Interlocked.Read(ref _published);

        public long Lost => Interlocked.Read(ref _lost);

        public void Post(PendingCall call, long credit)
        {
            if (_latest is null)
            {
                _queue.Writer.TryWrite((call, credit));
                return;
            }

            while (true)
            {
                if (_latest.TryAdd(call, credit))
                {
                    _queue.Writer.TryWrite((call, 0));
                    return;
                }

                // Queued already: a newer grant replaces the one waiting (a grant never lowers credit).
                if (_latest.TryGetValue(call, out var waiting) && (waiting >= credit || _latest.TryUpdate(call, credit, waiting))) return;
                // Taken by the sender meanwhile, or raced by another grant: try again.
            }
        }

        private async Task SendLoopAsync()
        {
            await foreach (var (call, queued) in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                long credit = queued;
                if (_latest is not null && !_latest.TryRemove(call, out credit)) continue;
                try
                {
                    await PublishAsync(call, credit).WaitAsync(PublishTimeout).ConfigureAwait(false);
                    Interlocked.Increment(ref _published);
                }
                catch (Exception)
                {
                    // No exchange (no server: nobody to tell), connection down, or no confirm in time: this one is lost
                    // (the call's deadline still ends the server's work); the next one opens a fresh channel.
                    Interlocked.Increment(ref _lost);
                    Abandon();
                }
            }
        }

        private async Task PublishAsync(PendingCall call, long credit)
        {
            if (_channel is { IsClosed: true }) Abandon();
            _channel ??= await _connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)).ConfigureAwait(false);
            var properties = new BasicProperties
            {
                Type = credit < 0 ? WireContract.CancelMessageType : StreamContract.CreditMessageType,
                CorrelationId = call.CorrelationId,
                UserId = call.UserId,
                Headers = credit < 0
                    ? new Dictionary<string, object?>(1) { [WireContract.DeadlineHeader] = call.Deadline }
                    : new Dictionary<string, object?>(1) { [StreamContract.CreditHeader] = credit },
            };
            await _channel.BasicPublishAsync(WireContract.ControlExchangeFor(call.Queue), string.Empty, mandatory: false, properties, s_empty)
                .ConfigureAwait(false);
        }

        /// <summary>Drops the channel without waiting on it: a stuck one may never answer a close.</summary>
        private void Abandon()
        {
            var channel = _channel;
            _channel = null;
            if (channel is null) return;
            _ = CloseQuietlyAsync(channel);
        }

        private static async Task CloseQuietlyAsync(IChannel channel)
        {
            try
            {
                if (channel.IsOpen) await channel.CloseAsync().WaitAsync(PublishTimeout).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Already closed by the broker, or stuck: either way it is not used again.
            }

            try
            {
                channel.Dispose();
            }
            catch (Exception)
            {
            }
        }

        public async ValueTask CloseAsync()
        {
            _queue.Writer.TryComplete();
            try
            {
                await _loop.WaitAsync(PublishTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // A publish still stuck: the connection's close ends it.
            }

            var channel = _channel;
            _channel = null;
            if (channel is not null) await CloseQuietlyAsync(channel).ConfigureAwait(false);
        }
    }
}
