using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;

namespace RpcGen.Server;

/// <summary>
/// Settles a server channel's deliveries: where a request is acked, or given back, once it is done with. Requests that
/// finish close together are acked with one <c>basic.ack</c> (multiple) instead of one each, which saves the broker
/// (the busiest process of an RPC) a frame and a queue operation per call. Nothing waits on an ack but the prefetch
/// window and a redelivery after a crash, so while requests overlap an ack waits a moment, after its reply, for others
/// to join it.
/// </summary>
/// <remarks>
/// A multiple ack settles every unsettled delivery up to its tag, so it may only reach across tags known to be
/// settled. Delivery tags on a channel count up by one from 1 (RabbitMQ.Client keeps counting across a connection
/// recovery), so the <em>watermark</em> is the tag up to which every delivery is settled; a multiple ack extends it
/// over a run of consecutive settled tags. A request still running, or delivered but not yet handled, ends the run;
/// the done requests above it are acked one by one, never held back. One sender at a time writes the frames, in the
/// order they are decided, so the broker never sees an ack for a tag it has already settled (which would close the
/// channel).
/// </remarks>
internal sealed class Acknowledgements
{
    // Tags settled above the watermark are remembered to extend it later; a request that never finishes would make
    // that set grow without end, so past this many the server gives up on multiple acks.
    private const int MaxSettledAboveWatermark = 4096;

    private static readonly Action<object?> s_flush = static state => _ = ((Acknowledgements)state!).FlushAsync(deferred: true);

    private readonly IChannel _channel;
    private readonly object _gate = new();
    private readonly SortedSet<ulong> _settledAboveWatermark = new();
    private ulong _watermark;
    private bool _singlesOnly;
    private List<Settlement> _done = new();
    private List<Settlement> _sending = new();
    private bool _flushing;

    // Whether acks wait on the thread pool for others to join them. Only worth it when requests overlap: with one
    // call at a time nothing joins, and the extra thread woken per request cost about 10 % of latency at one call
    // in flight (docs/performance.md). So the server waits only while waiting pays: a deferred flush that found
    // company keeps it on, a run of flushes that found none turns it off, and every ProbeEvery-th ack is deferred
    // anyway to notice when requests overlap again.
    private const int ProbeEvery = 32;
    private const int LoneFlushesBeforeInline = 8;
    private bool _deferring;
    private int _loneFlushes;
    private int _sinceProbe;
    private TaskCompletionSource? _idle;

    private readonly bool _coalesce;

    public Acknowledgements(IChannel channel, bool coalesce)
    {
        _channel = channel;
        _coalesce = coalesce;
    }

    /// <summary>Acks and nacks written since the server started, a multiple ack counted once.</summary>
    public long FramesSent => Interlocked.Read(ref _framesSent);

    /// <summary>Deliveries settled since the server started.</summary>
    public long Settled => Interlocked.Read(ref _settled);

    private long _framesSent;
    private long _settled;

    /// <summary>
    /// The request was answered (or refused with an error reply): ack it. Completes at once when acks are coalesced;
    /// otherwise when this request's own ack is written.
    /// </summary>
    public ValueTask AckAsync(ulong deliveryTag) => SettleAsync(new Settlement(deliveryTag, Requeue: false));

    /// <summary>The request was not started (the server is stopping): give it back to the queue for another server.</summary>
    public ValueTask RequeueAsync(ulong deliveryTag) => SettleAsync(new Settlement(deliveryTag, Requeue: true));

    private ValueTask SettleAsync(Settlement settlement)
    {
        if (!_coalesce) return SendAloneAsync(settlement);
        Settle(settlement);
        return default;
    }

    /// <summary>One frame per request, written by its handler: how servers ack without coalescing.</summary>
    private async ValueTask SendAloneAsync(Settlement settlement)
    {
        try
        {
            if (settlement.Requeue) await _channel.BasicNackAsync(settlement.DeliveryTag, multiple: false, requeue: true).ConfigureAwait(false);
            else await _channel.BasicAckAsync(settlement.DeliveryTag, multiple: false).ConfigureAwait(false);
            Count(1);
        }
        catch (Exception e) when (RpcServer.IsChannelGone(e))
        {
            // Unsettled on a lost channel: the broker redelivers it.
        }
    }

    /// <summary>Completes once every settlement recorded so far has been written to the channel (or the channel is gone).</summary>
    public Task WhenSentAsync()
    {
        lock (_gate)
        {
            if (!_flushing) return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    private void Settle(Settlement settlement)
    {
        bool defer;
        lock (_gate)
        {
            _done.Add(settlement);
            if (_flushing) return;
            _flushing = true;
            defer = _deferring || ++_sinceProbe >= ProbeEvery;
            if (defer) _sinceProbe = 0;
        }

        if (defer)
        {
            // The handlers that finish while this item waits for a thread join its batch. (Queued to this thread's
            // own queue instead, it waited behind the consumer's next deliveries and doubled latency at one in flight.)
            ThreadPool.UnsafeQueueUserWorkItem(s_flush, this, preferLocal: false);
        }
        else
        {
            _ = FlushAsync(deferred: false);
        }
    }

    private async Task FlushAsync(bool deferred)
    {
        for (int pass = 0; ; pass++)
        {
            List<Settlement> batch;
            ulong multipleUpTo;
            lock (_gate)
            {
                if (_done.Count == 0)
                {
                    _flushing = false;
                    var idle = _idle;
                    _idle = null;
                    idle?.TrySetResult();
                    return;
                }

                (batch, _done, _sending) = (_done, _sending, _done);
                // Company: acks that arrived while this flush waited for a thread, or while it sent the last batch.
                if (deferred || pass > 0) LearnFromBatch(batch.Count);
                multipleUpTo = _singlesOnly ? 0 : AdvanceWatermark(batch);
            }

            try
            {
                await SendAsync(batch, multipleUpTo).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The channel is gone (or broken), and with it every unsettled delivery: the broker redelivers them.
                // The loop goes on, so the settlements after it are not stuck behind a flag that stays set.
            }

            batch.Clear();
        }
    }

    private void LearnFromBatch(int size)
    {
        if (size > 1)
        {
            _deferring = true;
            _loneFlushes = 0;
        }
        else if (_deferring && ++_loneFlushes >= LoneFlushesBeforeInline)
        {
            _deferring = false;
            _loneFlushes = 0;
        }
    }

    /// <summary>
    /// Moves the watermark over the batch and the tags settled before it; returns the highest acked tag of the batch
    /// at or below the new watermark (the tag of one multiple ack that settles the batch's acks up to it), or zero.
    /// </summary>
    private ulong AdvanceWatermark(List<Settlement> batch)
    {
        foreach (var settled in batch) _settledAboveWatermark.Add(settled.DeliveryTag);
        while (_settledAboveWatermark.Count > 0 && _settledAboveWatermark.Min == _watermark + 1)
        {
            _watermark++;
            _settledAboveWatermark.Remove(_watermark);
        }

        if (_settledAboveWatermark.Count > MaxSettledAboveWatermark)
        {
            _singlesOnly = true;
            _settledAboveWatermark.Clear();
        }

        ulong highest = 0;
        int acks = 0;
        foreach (var settled in batch)
        {
            if (settled.Requeue || settled.DeliveryTag > _watermark) continue;
            acks++;
            if (settled.DeliveryTag > highest) highest = settled.DeliveryTag;
        }

        // A single ack is sent as a plain one below.
        return acks > 1 ? highest : 0;
    }

    private async ValueTask SendAsync(List<Settlement> batch, ulong multipleUpTo)
    {
        // Requeues first: a multiple ack must not find them still unsettled.
        foreach (var settled in batch)
        {
            if (!settled.Requeue) continue;
            await _channel.BasicNackAsync(settled.DeliveryTag, multiple: false, requeue: true).ConfigureAwait(false);
            Count(1);
        }

        if (multipleUpTo != 0)
        {
            await _channel.BasicAckAsync(multipleUpTo, multiple: true).ConfigureAwait(false);
            int covered = 0;
            foreach (var settled in batch)
            {
                if (!settled.Requeue && settled.DeliveryTag <= multipleUpTo) covered++;
            }

            Count(covered);
        }

        foreach (var settled in batch)
        {
            if (settled.Requeue || (multipleUpTo != 0 && settled.DeliveryTag <= multipleUpTo)) continue;
            await _channel.BasicAckAsync(settled.DeliveryTag, multiple: false).ConfigureAwait(false);
            Count(1);
        }
    }

    private void Count(int settled)
    {
        Interlocked.Increment(ref _framesSent);
        Interlocked.Add(ref _settled, settled);
    }

    private readonly record struct Settlement(ulong DeliveryTag, bool Requeue);
}
