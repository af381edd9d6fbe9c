using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;

namespace RpcGen.Server;

/// <summary>
/// Settles one server channel's deliveries: where a request is acked, or given back, once it is done with. Requests that
/// finish close together are acked with one <c>basic.ack</c> (multiple) instead of one each, which saves the broker
/// (the busiest process of an RPC) a frame and a queue operation per call. Nothing waits on an ack but the prefetch
/// window and a redelivery after a crash, so while requests overlap an ack waits a moment, after its reply, for others
/// to join it.
/// </summary>
/// <remarks>
/// <para>
/// A multiple ack settles every unsettled delivery up to its tag, so it may only reach across tags known to be
/// settled. Delivery tags on a channel count up by one from 1, so the <em>watermark</em> is the tag up to which every
/// delivery is settled; a multiple ack extends it over a run of consecutive settled tags. A request still running ends
/// the run; the done requests above it are acked one by one, never held back, and remembered as <em>ranges</em> of
/// consecutive tags, so however long one request runs, the memory kept is one range per gap (at most prefetch gaps),
/// and multiple acks resume as soon as it finishes. One sender at a time writes the frames, in the order they are
/// decided, so the broker never sees an ack for a tag it has already settled (which would close the channel).
/// </para>
/// <para>
/// Each channel gets its own instance: a channel the broker closed and the runtime rebuilt starts its tags at 1 again.
/// When the connection is lost, RabbitMQ.Client's recovery keeps the channel object and offsets the new channel's tags
/// past the old ones, dropping acks of old tags; the deliveries lost with the connection never settle, so
/// <see cref="ForgetUnsettled"/> moves the watermark over every tag delivered before the loss.
/// </para>
/// </remarks>
internal sealed class Acknowledgements
{
    private static readonly Action<object?> s_flush = static state => _ = ((Acknowledgements)state!).FlushAsync(deferred: true);

    private readonly IDeliverySettler _channel;
    private readonly ServerCounters _counts;
    private readonly object _gate = new();
    // Settled tags above the watermark, as sorted, disjoint, non-adjacent [Start, End] runs, all above _watermark + 1.
    private readonly List<TagRange> _settledAbove = new();
    private ulong _watermark;
    private ulong _maxDelivered;
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

    public Acknowledgements(IChannel channel, bool coalesce, ServerCounters counts)
        : this(new ChannelSettler(channel), coalesce, counts)
    {
    }

    internal Acknowledgements(IDeliverySettler channel, bool coalesce, ServerCounters counts)
    {
        _channel = channel;
        _coalesce = coalesce;
        _counts = counts;
    }

    /// <summary>The tag up to which every delivery is settled (or forgotten after a loss).</summary>
    internal ulong Watermark
    {
        get { lock (_gate) return _watermark; }
    }

    /// <summary>How many runs of settled tags above the watermark are remembered: at most one per gap.</summary>
    internal int RangesAboveWatermark
    {
        get { lock (_gate) return _settledAbove.Count; }
    }

    /// <summary>A delivery arrived; remembered only as the highest tag, for <see cref="ForgetUnsettled"/>.</summary>
    public void Delivered(ulong deliveryTag)
    {
        ulong seen = Volatile.Read(ref _maxDelivered);
        while (deliveryTag > seen)
        {
            ulong previous = Interlocked.CompareExchange(ref _maxDelivered, deliveryTag, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }

    /// <summary>
    /// The connection was lost: every delivery so far is settled by the broker (requeued) and will never be acked here,
    /// so the watermark moves past them and multiple acks work on the recovered channel's tags.
    /// </summary>
    public void ForgetUnsettled()
    {
        lock (_gate)
        {
            ulong lost = Volatile.Read(ref _maxDelivered);
            if (lost <= _watermark) return;
            _watermark = lost;
            while (_settledAbove.Count > 0 && _settledAbove[0].Start <= _watermark + 1)
            {
                if (_settledAbove[0].End > _watermark) _watermark = _settledAbove[0].End;
                _settledAbove.RemoveAt(0);
            }
        }
    }

    /// <summary>
    /// The request was answered (or refused with an error reply): ack it. Completes at once when acks are coalesced;
    /// otherwise when this request's own ack is written. Never throws: a channel that is gone took the delivery with it.
    /// </summary>
    public ValueTask AckAsync(ulong deliveryTag) => SettleAsync(new Settlement(deliveryTag, Requeue: false, Failed: false));

    /// <summary>
    /// The request was not answered: give it back to the queue. <paramref name="failed"/>: because handling it failed
    /// (its hand-off could not be published), sent as <c>basic.reject</c>, which RabbitMQ 4.3 counts toward a quorum
    /// queue's delivery limit; otherwise (the server is stopping) as <c>basic.nack</c>, which 4.3 does not count. Before
    /// 4.3 both count.
    /// </summary>
    public ValueTask RequeueAsync(ulong deliveryTag, bool failed = false) => SettleAsync(new Settlement(deliveryTag, Requeue: true, failed));

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
            if (settlement.Requeue) await _channel.RequeueAsync(settlement.DeliveryTag, settlement.Failed).ConfigureAwait(false);
            else await _channel.AckAsync(settlement.DeliveryTag, multiple: false).ConfigureAwait(false);
            _counts.Settled(1);
        }
        catch (Exception)
        {
            // Unsettled on a lost or broken channel: the broker requeues it when the channel goes.
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
                multipleUpTo = AdvanceWatermark(batch);
            }

            try
            {
                await SendAsync(batch, multipleUpTo).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The channel is gone (or broken), and with it every unsettled delivery: the broker requeues them.
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
        foreach (var settled in batch) MarkSettled(settled.DeliveryTag);

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

    private void MarkSettled(ulong tag)
    {
        if (tag <= _watermark) return; // from before a loss: already forgotten
        if (tag == _watermark + 1)
        {
            _watermark = tag;
            if (_settledAbove.Count > 0 && _settledAbove[0].Start == _watermark + 1)
            {
                _watermark = _settledAbove[0].End;
                _settledAbove.RemoveAt(0);
            }

            return;
        }

        // Binary search for the first range starting above the tag.
        int lo = 0, hi = _settledAbove.Count;
        while (lo < hi)
        {
            int mid = lo + (hi - lo) / 2;
            if (_settledAbove[mid].Start > tag) hi = mid;
            else lo = mid + 1;
        }

        bool joinsBefore = lo > 0 && _settledAbove[lo - 1].End + 1 >= tag;
        bool joinsAfter = lo < _settledAbove.Count && _settledAbove[lo].Start == tag + 1;
        if (joinsBefore && _settledAbove[lo - 1].End >= tag) return; // settled twice: nothing new
        if (joinsBefore && joinsAfter)
        {
            _settledAbove[lo - 1] = new TagRange(_settledAbove[lo - 1].Start, _settledAbove[lo].End);
            _settledAbove.RemoveAt(lo);
        }
        else if (joinsBefore) _settledAbove[lo - 1] = new TagRange(_settledAbove[lo - 1].Start, tag);
        else if (joinsAfter) _settledAbove[lo] = new TagRange(tag, _settledAbove[lo].End);
        else _settledAbove.Insert(lo, new TagRange(tag, tag));
    }

    private async ValueTask SendAsync(List<Settlement> batch, ulong multipleUpTo)
    {
        // Requeues first: a multiple ack must not find them still unsettled.
        foreach (var settled in batch)
        {
            if (!settled.Requeue) continue;
            await _channel.RequeueAsync(settled.DeliveryTag, settled.Failed).ConfigureAwait(false);
            _counts.Settled(1);
        }

        if (multipleUpTo != 0)
        {
            await _channel.AckAsync(multipleUpTo, multiple: true).ConfigureAwait(false);
            int covered = 0;
            foreach (var settled in batch)
            {
                if (!settled.Requeue && settled.DeliveryTag <= multipleUpTo) covered++;
            }

            _counts.Settled(covered);
        }

        foreach (var settled in batch)
        {
            if (settled.Requeue || (multipleUpTo != 0 && settled.DeliveryTag <= multipleUpTo)) continue;
            await _channel.AckAsync(settled.DeliveryTag, multiple: false).ConfigureAwait(false);
            _counts.Settled(1);
        }
    }

    private readonly record struct Settlement(ulong DeliveryTag, bool Requeue, bool Failed);

    private readonly record struct TagRange(ulong Start, ulong End);

    private sealed class ChannelSettler : IDeliverySettler
    {
        private readonly IChannel _channel;

        public ChannelSettler(IChannel channel) => _channel = channel;

        public ValueTask AckAsync(ulong deliveryTag, bool multiple) => _channel.BasicAckAsync(deliveryTag, multiple);

        public ValueTask RequeueAsync(ulong deliveryTag, bool failed) => failed
            ? _channel.BasicRejectAsync(deliveryTag, requeue: true)
            : _channel.BasicNackAsync(deliveryTag, multiple: false, requeue: true);
    }
}

/// <summary>The frames <see cref="Acknowledgements"/> writes; a channel in production, a fake broker in unit tests.</summary>
internal interface IDeliverySettler
{
    ValueTask AckAsync(ulong deliveryTag, bool multiple);

    /// <summary>Gives one delivery back: <c>basic.reject</c> when handling it failed, <c>basic.nack</c> otherwise.</summary>
    ValueTask RequeueAsync(ulong deliveryTag, bool failed);
}
