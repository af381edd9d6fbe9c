using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using RpcGen.Diagnostics;

namespace RpcGen.Client;

/// <summary>
/// One lane of <see cref="ControlPublisher"/>: a bounded queue and one sender loop that publishes its entries one at
/// a time through an <see cref="IControlChannel"/>. A publish that does not complete within the publish timeout is
/// given up (and its channel with it), so a stuck publish delays the lane by that bound at most; a full queue drops
/// its oldest entry; a coalescing lane (credit) keeps one entry per call, the latest grant.
/// </summary>
internal sealed class ControlLane
{
    private readonly IControlChannel _publisher;
    private readonly TimeSpan _publishTimeout;
    private readonly Channel<(PendingCall Call, long Credit)> _queue;
    private readonly ConcurrentDictionary<PendingCall, long>? _latest;
    private readonly Task _loop;
    private long _published;
    private long _lost;

    public ControlLane(IControlChannel publisher, bool coalesce, int capacity, TimeSpan publishTimeout)
    {
        _publisher = publisher;
        _publishTimeout = publishTimeout;
        _latest = coalesce ? new ConcurrentDictionary<PendingCall, long>() : null;
        _queue = Channel.CreateBounded<(PendingCall, long)>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest },
            dropped =>
            {
                Lose(dropped.Item1);
                _latest?.TryRemove(dropped.Item1, out _);
            });
        _loop = Task.Run(SendLoopAsync);
    }

    /// <summary>Messages this lane published; operators read <c>rpcgen.client.cancels</c> instead.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Messages this lane gave up; operators read <c>rpcgen.client.control_lost</c> instead.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Queues a cancel (<paramref name="credit"/> -1) or a grant.</summary>
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
                await _publisher.PublishAsync(call, credit).WaitAsync(_publishTimeout).ConfigureAwait(false);
                Interlocked.Increment(ref _published);
                if (_latest is null) RpcTelemetry.CountCancel(call.Queue);
            }
            catch (Exception)
            {
                // No exchange (no server: nobody to tell), connection down, or no confirm in time: this one is lost
                // (the call's deadline still ends the server's work); the next one goes out on a fresh channel.
                Lose(call);
                _publisher.Abandon();
            }
        }
    }

    private void Lose(PendingCall call)
    {
        Interlocked.Increment(ref _lost);
        RpcTelemetry.CountControlLost(call.Queue, credit: _latest is not null);
    }

    public async ValueTask CloseAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(_publishTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A publish still stuck: the connection's close ends it.
        }

        await _publisher.CloseAsync().ConfigureAwait(false);
    }
}

/// <summary>Publishes one control message (a cancel when credit is negative, else a credit grant) and waits for its confirm.</summary>
internal interface IControlChannel
{
    Task PublishAsync(PendingCall call, long credit);

    /// <summary>The last publish failed or timed out: its channel is not used again.</summary>
    void Abandon();

    ValueTask CloseAsync();
}
