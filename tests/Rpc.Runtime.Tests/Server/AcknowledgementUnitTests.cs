using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.Server;
using Xunit;

namespace RpcGen.Runtime.Tests.Server;

/// <summary>
/// Server/Acknowledgements.cs alone, against a fake channel that settles tags as RabbitMQ does (a tag settled twice, or
/// a multiple ack whose tag is not unacked, is "unknown delivery tag", which would close the channel) and drops acks of
/// tags from before a recovery as RabbitMQ.Client does. The broker tests in AcknowledgementTests cover the real channel.
/// </summary>
public sealed class AcknowledgementUnitTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_completion_orders_and_requeues_settle_every_tag_exactly_once_with_multiple_acks(int seed)
    {
        var broker = new FakeBrokerChannel();
        using var counts = new ServerMeter("unit-" + Guid.NewGuid());
        var counted = new ServerCounters(nameof(AcknowledgementUnitTests), counts.Queue);
        var acks = new Acknowledgements(broker, coalesce: true, counted);
        const int n = 20_000;

        var tags = broker.Deliver(n);
        foreach (var tag in tags) acks.Delivered(tag);
        var random = new Random(seed);
        Shuffle(tags, random);
        var requeue = tags.Where(_ => random.Next(10) == 0).ToHashSet();
        // Four handlers finish at once, in a random order: the coalescer sees overlapping settlements and gaps.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (int i = worker; i < tags.Length; i += 4)
            {
                if (requeue.Contains(tags[i])) await acks.RequeueAsync(tags[i]);
                else await acks.AckAsync(tags[i]);
            }
        })));
        await acks.WhenSentAsync();

        Assert.Empty(broker.Errors);
        Assert.Equal(n, broker.SettledOnce);
        Assert.Equal(requeue.Count, broker.Requeued);
        Assert.Equal(0, broker.Unacked);
        Assert.Equal(n, counts.Settled);
        Assert.True(counts.SettlementFrames < n, $"{n} settlements took {counts.SettlementFrames} frames: nothing was coalesced");
        Assert.Equal((ulong)n, acks.Watermark);
        Assert.Equal(0, acks.RangesAboveWatermark);
    }

    /// <summary>
    /// RabbitMQ 4.3 counts basic.reject, not basic.nack, toward a quorum queue's delivery limit: a delivery given back
    /// because handling it failed goes back as a reject (so a hand-off that keeps failing is dead-lettered in the end),
    /// one given back because the server is stopping as a nack (a rolling restart is no failure of the message).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_failed_delivery_goes_back_as_a_reject_and_one_returned_on_stop_as_a_nack(bool coalesce)
    {
        var broker = new FakeBrokerChannel();
        var acks = new Acknowledgements(broker, coalesce, new ServerCounters(nameof(AcknowledgementUnitTests), "unit"));
        var tags = broker.Deliver(3);
        foreach (var tag in tags) acks.Delivered(tag);

        await acks.RequeueAsync(tags[0], failed: true);
        await acks.RequeueAsync(tags[1]);
        await acks.AckAsync(tags[2]);
        await acks.WhenSentAsync();

        Assert.Empty(broker.Errors);
        Assert.Equal(2, broker.Requeued);
        Assert.Equal(1, broker.Rejected);
        Assert.Equal(0, broker.Unacked);
    }

    [Fact]
    public async Task A_request_that_runs_for_ever_keeps_one_range_and_multiple_acks_resume_once_it_finishes()
    {
        var broker = new FakeBrokerChannel();
        using var counts = new ServerMeter("unit-" + Guid.NewGuid());
        var counted = new ServerCounters(nameof(AcknowledgementUnitTests), counts.Queue);
        var acks = new Acknowledgements(broker, coalesce: true, counted);

        var stuck = broker.Deliver(1)[0];
        acks.Delivered(stuck);
        // Far more than the old 4,096-tag cap, after which the old coalescer sent single acks for good.
        var after = broker.Deliver(10_000);
        foreach (var tag in after) acks.Delivered(tag);
        await SettleConcurrentlyAsync(acks, after);
        await acks.WhenSentAsync();
        Assert.Empty(broker.Errors);
        Assert.Equal(1, acks.RangesAboveWatermark); // the memory kept for 10,000 tags above one gap
        Assert.Equal(0ul, acks.Watermark);

        await acks.AckAsync(stuck);
        await acks.WhenSentAsync();
        Assert.Equal(10_001ul, acks.Watermark);
        Assert.Equal(0, acks.RangesAboveWatermark);

        var framesBefore = counts.SettlementFrames;
        var later = broker.Deliver(2_000);
        foreach (var tag in later) acks.Delivered(tag);
        await SettleConcurrentlyAsync(acks, later);
        await acks.WhenSentAsync();
        Assert.Empty(broker.Errors);
        Assert.Equal(10_001 + 2_000, broker.SettledOnce);
        Assert.True(counts.SettlementFrames - framesBefore < 2_000, $"2,000 acks after the gap closed took {counts.SettlementFrames - framesBefore} frames");
    }

    [Fact]
    public async Task After_a_connection_recovery_deliveries_lost_with_it_do_not_stop_multiple_acks_on_the_new_tags()
    {
        var broker = new FakeBrokerChannel();
        using var counts = new ServerMeter("unit-" + Guid.NewGuid());
        var counted = new ServerCounters(nameof(AcknowledgementUnitTests), counts.Queue);
        var acks = new Acknowledgements(broker, coalesce: true, counted);

        var before = broker.Deliver(100);
        foreach (var tag in before) acks.Delivered(tag);
        await SettleConcurrentlyAsync(acks, before.Take(50).ToArray()); // 51..100 still running when the connection goes
        await acks.WhenSentAsync();

        broker.LoseConnectionAndRecover(); // the broker requeues 51..100; the library numbers new deliveries from 101
        acks.ForgetUnsettled();
        Assert.Equal(100ul, acks.Watermark);

        var fresh = broker.Deliver(5_000);
        foreach (var tag in fresh) acks.Delivered(tag);
        var framesBefore = counts.SettlementFrames;
        // Ten handlers from before the loss finish among the new ones: their acks are stale and dropped.
        await SettleConcurrentlyAsync(acks, fresh.Concat(before.Skip(60).Take(10)).ToArray());
        await acks.WhenSentAsync();

        Assert.Empty(broker.Errors);
        Assert.Equal(50 + 5_000, broker.SettledOnce);
        Assert.Equal(0, broker.Unacked);
        Assert.Equal(5_100ul, acks.Watermark);
        Assert.Equal(0, acks.RangesAboveWatermark);
        Assert.True(counts.SettlementFrames - framesBefore < 5_000, $"5,000 acks after the recovery took {counts.SettlementFrames - framesBefore} frames");
    }

    [Fact]
    public async Task Without_coalescing_every_settlement_is_its_own_frame()
    {
        var broker = new FakeBrokerChannel();
        using var counts = new ServerMeter("unit-" + Guid.NewGuid());
        var counted = new ServerCounters(nameof(AcknowledgementUnitTests), counts.Queue);
        var acks = new Acknowledgements(broker, coalesce: false, counted);
        var tags = broker.Deliver(100);
        foreach (var tag in tags.Reverse()) await acks.AckAsync(tag);
        Assert.Empty(broker.Errors);
        Assert.Equal(100, broker.SettledOnce);
        Assert.Equal(100, counts.SettlementFrames);
    }

    private static Task SettleConcurrentlyAsync(Acknowledgements acks, ulong[] tags)
    {
        var shuffled = tags.ToArray();
        Shuffle(shuffled, new Random(tags.Length));
        return Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (int i = worker; i < shuffled.Length; i += 4) await acks.AckAsync(shuffled[i]);
        })));
    }

    private static void Shuffle(ulong[] tags, Random random)
    {
        for (int i = tags.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (tags[i], tags[j]) = (tags[j], tags[i]);
        }
    }

    /// <summary>Settles tags as RabbitMQ's channel does; acks of tags from before a recovery are dropped, as RabbitMQ.Client does.</summary>
    private sealed class FakeBrokerChannel : IDeliverySettler
    {
        private readonly object _gate = new();
        private readonly SortedSet<ulong> _unacked = new();
        private readonly Dictionary<ulong, int> _settled = new();
        private ulong _next;
        private ulong _staleUpTo;
        private int _requeued;

        public List<string> Errors { get; } = new();

        public int SettledOnce
        {
            get { lock (_gate) return _settled.Count(entry => entry.Value == 1); }
        }

        public int Requeued
        {
            get { lock (_gate) return _requeued; }
        }

        public int Unacked
        {
            get { lock (_gate) return _unacked.Count; }
        }

        public ulong[] Deliver(int count)
        {
            lock (_gate)
            {
                var tags = new ulong[count];
                for (int i = 0; i < count; i++)
                {
                    tags[i] = ++_next;
                    _unacked.Add(tags[i]);
                }

                return tags;
            }
        }

        public void LoseConnectionAndRecover()
        {
            lock (_gate)
            {
                _unacked.Clear();
                _staleUpTo = _next;
            }
        }

        public ValueTask AckAsync(ulong deliveryTag, bool multiple)
        {
            lock (_gate)
            {
                if (deliveryTag <= _staleUpTo) return default;
                if (!_unacked.Contains(deliveryTag))
                {
                    Errors.Add($"PRECONDITION_FAILED - unknown delivery tag {deliveryTag} (multiple: {multiple})");
                    return default;
                }

                var covered = multiple ? _unacked.GetViewBetween(0, deliveryTag).ToArray() : new[] { deliveryTag };
                foreach (var tag in covered)
                {
                    _unacked.Remove(tag);
                    _settled[tag] = _settled.GetValueOrDefault(tag) + 1;
                }
            }

            return default;
        }

        public int Rejected
        {
            get { lock (_gate) return _rejected; }
        }

        private int _rejected;

        public ValueTask RequeueAsync(ulong deliveryTag, bool failed)
        {
            lock (_gate)
            {
                if (deliveryTag <= _staleUpTo) return default;
                if (!_unacked.Remove(deliveryTag))
                {
                    Errors.Add($"PRECONDITION_FAILED - unknown delivery tag {deliveryTag} (nack)");
                    return default;
                }

                _settled[deliveryTag] = _settled.GetValueOrDefault(deliveryTag) + 1;
                _requeued++;
                if (failed) _rejected++;
            }

            return default;
        }
    }
}
