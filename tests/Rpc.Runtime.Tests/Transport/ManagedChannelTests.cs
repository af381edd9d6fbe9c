using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Interop;
using RpcGen.Runtime.Tests.Fakes;
using RpcGen.Transport;
using Xunit;

namespace RpcGen.Runtime.Tests.Transport;

/// <summary>
/// The one channel abstraction on a fake connection: when a channel is opened, when it is reopened, what a caller waits
/// for, and what is closed. Timing bounds only where the class promises one (a token is honoured when it fires).
/// </summary>
[Collection(SemanticsCollection.Name)]
public sealed class ManagedChannelTests
{
    private static readonly CreateChannelOptions s_options = new(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false);

    private readonly ConcurrentQueue<IChannel> _setUps = new();

    private Task SetUp(IChannel channel, CancellationToken cancellationToken)
    {
        _setUps.Enqueue(channel);
        return Task.CompletedTask;
    }

    private Task<ManagedChannel> CreateEagerAsync(IConnection connection) =>
        ManagedChannel.CreateAsync(connection, s_options, SetUp, "test channel", NullLogger.Instance, CancellationToken.None);

    [Fact]
    public async Task An_eager_channel_is_open_and_set_up_at_once_and_ready_without_waiting()
    {
        var connection = FakeConnection.Create();
        await using var managed = await CreateEagerAsync(connection);

        var channel = Assert.Single(FakeConnection.Of(connection).Channels);
        Assert.Same(channel, Assert.Single(_setUps));
        Assert.True(managed.TryGetReady(out var ready));
        Assert.Same(channel, ready);
        var readyAsync = managed.ReadyAsync(CancellationToken.None);
        Assert.True(readyAsync.IsCompletedSuccessfully);
        Assert.Same(channel, await readyAsync);
        Assert.Equal(0, managed.Rebuilds);
    }

    [Fact]
    public async Task After_a_broker_close_ReadyAsync_waits_for_the_rebuilt_and_set_up_channel_and_the_owner_is_told_first()
    {
        var connection = FakeConnection.Create();
        var fake = FakeConnection.Of(connection);
        await using var managed = await CreateEagerAsync(connection);
        var first = fake.Channels[0];
        var told = new ConcurrentQueue<(IChannel Channel, ushort Code)>();
        managed.ChannelClosedByBroker = (closed, reason) =>
        {
            told.Enqueue((closed, reason.ReplyCode));
            return 3;
        };

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.BeforeCreate = (_, _) => release.Task;
        await FakeChannel.Of(first).CloseByBrokerAsync(406);

        Assert.Equal((first, (ushort)406), Assert.Single(told));
        Assert.False(managed.TryGetReady(out _));
        var ready = managed.ReadyAsync(CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(ready.IsCompleted, "ReadyAsync returned while the channel was being rebuilt");

        release.SetResult();
        var second = await ready.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotSame(first, second);
        Assert.True(second.IsOpen);
        Assert.Same(second, _setUps.Last());
        Assert.Equal(1, managed.Rebuilds);
        Assert.True(managed.TryGetReady(out var now));
        Assert.Same(second, now);
        // The old channel is closed on purpose, so a later connection recovery does not bring it back.
        Assert.Equal(1, FakeChannel.Of(first).CloseCalls);
    }

    [Fact]
    public async Task ReadyAsync_honours_its_token_while_no_channel_can_be_made()
    {
        var connection = FakeConnection.Create();
        var fake = FakeConnection.Of(connection);
        await using var managed = await CreateEagerAsync(connection);
        fake.BeforeCreate = (_, _) => throw new InvalidOperationException("the broker refuses channels");
        await FakeChannel.Of(fake.Channels[0]).CloseByBrokerAsync();

        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var started = DateTime.UtcNow;
        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => managed.ReadyAsync(timeout.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        var waited = DateTime.UtcNow - started;

        Assert.Equal(timeout.Token, thrown.CancellationToken);
        Assert.InRange(waited, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));
        // The rebuild kept trying meanwhile, and never swapped in anything.
        Assert.True(fake.Attempts >= 2, $"{fake.Attempts} attempts"); // a retry after the first refusal; how many more fit in 300 ms depends on the host
        Assert.False(managed.TryGetReady(out _));
    }

    [Fact]
    public async Task A_rebuild_whose_set_up_fails_closes_that_channel_and_swaps_in_only_a_set_up_one()
    {
        var connection = FakeConnection.Create();
        var fake = FakeConnection.Of(connection);
        int setUps = 0;
        await using var managed = await ManagedChannel.CreateAsync(connection, s_options,
            (channel, _) => Interlocked.Increment(ref setUps) == 2 ? throw new InvalidOperationException("queue being deleted") : Task.CompletedTask,
            "test channel", NullLogger.Instance, CancellationToken.None);

        await FakeChannel.Of(fake.Channels[0]).CloseByBrokerAsync();
        var ready = await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, fake.Channels.Count);
        var halfMade = FakeChannel.Of(fake.Channels[1]);
        Assert.Same(fake.Channels[2], ready);
        Assert.False(halfMade.IsOpen);
        Assert.Equal(1, halfMade.CloseCalls);
        Assert.Equal(1, halfMade.DisposeCalls);
        Assert.Equal(1, managed.Rebuilds);
    }

    [Fact]
    public async Task CreateAsync_whose_set_up_fails_throws_and_closes_the_channel_it_opened()
    {
        var connection = FakeConnection.Create();
        await Assert.ThrowsAsync<InvalidOperationException>(() => ManagedChannel.CreateAsync(connection, s_options,
            (_, _) => throw new InvalidOperationException("refused"), "test channel", NullLogger.Instance, CancellationToken.None));

        var channel = FakeChannel.Of(Assert.Single(FakeConnection.Of(connection).Channels));
        Assert.Equal(1, channel.CloseCalls);
        Assert.Equal(1, channel.DisposeCalls);
        Assert.Equal(0, FakeConnection.Of(connection).RecoveryHandlers);
    }

    [Fact]
    public async Task A_channel_closed_with_the_connection_is_left_to_recovery_and_rebuilt_if_recovery_did_not_restore_it()
    {
        var connection = FakeConnection.Create();
        var fake = FakeConnection.Of(connection);
        await using var managed = await CreateEagerAsync(connection);
        var first = fake.Channels[0];

        fake.SetOpen(false);
        await FakeChannel.Of(first).CloseByBrokerAsync(320, "CONNECTION_FORCED");
        Assert.True(managed.TryGetReady(out var meanwhile));
        Assert.Same(first, meanwhile);
        Assert.Single(fake.Channels);

        await fake.RecoverAsync();
        var ready = await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotSame(first, ready);
        Assert.Equal(2, fake.Channels.Count);
        Assert.Equal(1, managed.Rebuilds);
    }

    [Fact]
    public async Task A_disposed_eager_channel_is_closed_unhooked_from_recovery_and_not_rebuilt()
    {
        var connection = FakeConnection.Create();
        var fake = FakeConnection.Of(connection);
        var managed = await CreateEagerAsync(connection);
        Assert.Equal(1, fake.RecoveryHandlers);

        await managed.DisposeAsync();
        await managed.DisposeAsync();

        var channel = FakeChannel.Of(fake.Channels[0]);
        Assert.Equal(1, channel.CloseCalls);
        Assert.Equal(1, channel.DisposeCalls);
        Assert.Equal(0, fake.RecoveryHandlers);
        await channel.CloseByBrokerAsync();
        await Task.Delay(100);
        Assert.Single(fake.Channels);
    }

    [Fact]
    public async Task A_rebuild_under_way_when_disposed_closes_the_channel_it_made_and_swaps_in_nothing()
    {
        var connection = FakeConnection.Create();
        var fake = FakeConnection.Of(connection);
        var managed = await CreateEagerAsync(connection);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.BeforeCreate = (_, _) => release.Task;
        await FakeChannel.Of(fake.Channels[0]).CloseByBrokerAsync();
        var ready = managed.ReadyAsync(CancellationToken.None).AsTask();
        await Wait.UntilAsync(() => fake.Attempts == 2, "the rebuild did not start");

        await managed.DisposeAsync();
        release.SetResult();

        Assert.Same(fake.Channels[0], await ready.WaitAsync(TimeSpan.FromSeconds(10)));
        var late = FakeChannel.Of(Assert.Single(fake.Channels, c => c != fake.Channels[0]));
        await Wait.UntilAsync(() => late.DisposeCalls == 1, "the channel the rebuild made after dispose was not closed");
        Assert.Equal(0, managed.Rebuilds);
    }

    [Fact]
    public async Task A_lazy_channel_opens_on_first_use_once_however_many_wait()
    {
        var connection = FakeConnection.Create();
        var fake = FakeConnection.Of(connection);
        await using var managed = ManagedChannel.CreateLazy(connection, s_options, "lazy channel", setUp: SetUp);
        Assert.Equal(0, fake.Attempts);
        Assert.False(managed.TryGetReady(out _));

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.BeforeCreate = (_, _) => release.Task;
        var waiting = Enumerable.Range(0, 8).Select(_ => managed.ReadyAsync(CancellationToken.None).AsTask()).ToArray();
        release.SetResult();
        var channels = await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(10));

        var channel = Assert.Single(fake.Channels);
        Assert.All(channels, c => Assert.Same(channel, c));
        Assert.Same(channel, Assert.Single(_setUps));
        Assert.Equal(1, managed.GenerationOf(channel));
        Assert.True(managed.TryGetReady(out var ready));
        Assert.Same(channel, ready);
        Assert.Equal(0, managed.Rebuilds);
    }

    [Fact]
    public async Task A_lazy_channel_the_broker_closed_is_reopened_at_the_next_use_with_a_new_generation()
    {
        var connection = FakeConnection.Create();
        var fake = FakeConnection.Of(connection);
        await using var managed = ManagedChannel.CreateLazy(connection, s_options, "lazy channel");
        var first = await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        await FakeChannel.Of(first).CloseByBrokerAsync(404, "NOT_FOUND - no queue 'missing'");
        Assert.False(managed.TryGetReady(out _));
        Assert.Single(fake.Channels);

        var second = await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotSame(first, second);
        Assert.Equal(2, managed.GenerationOf(second));
        Assert.Equal(-1, managed.GenerationOf(first));
        Assert.Equal(1, managed.Rebuilds);
        Assert.Same(second, await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await Wait.UntilAsync(() => FakeChannel.Of(first).DisposeCalls == 1, "the closed channel was not let go");
    }

    [Fact]
    public async Task An_abandoned_lazy_channel_is_closed_and_replaced_and_abandoning_a_stale_one_changes_nothing()
    {
        var connection = FakeConnection.Create();
        await using var managed = ManagedChannel.CreateLazy(connection, s_options, "lazy channel");
        var first = await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        managed.Abandon(first);
        Assert.False(managed.TryGetReady(out _));
        Assert.Equal(-1, managed.GenerationOf(first));
        await Wait.UntilAsync(() => FakeChannel.Of(first).CloseCalls == 1 && FakeChannel.Of(first).DisposeCalls == 1,
            "the abandoned channel was not closed");

        var second = await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotSame(first, second);
        managed.Abandon(first);
        managed.Abandon(null);
        Assert.True(managed.TryGetReady(out var current));
        Assert.Same(second, current);
        Assert.Equal(0, FakeChannel.Of(second).CloseCalls);
    }

    [Fact]
    public async Task Abandon_does_nothing_to_an_eager_channel()
    {
        var connection = FakeConnection.Create();
        await using var managed = await CreateEagerAsync(connection);
        var channel = await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        managed.Abandon(channel);

        Assert.True(managed.TryGetReady(out var current));
        Assert.Same(channel, current);
        Assert.Equal(0, FakeChannel.Of(channel).CloseCalls);
    }

    [Fact]
    public async Task A_lazy_channel_whose_set_up_fails_is_closed_and_the_next_use_opens_a_fresh_first_generation()
    {
        var connection = FakeConnection.Create();
        var fake = FakeConnection.Of(connection);
        int setUps = 0;
        await using var managed = ManagedChannel.CreateLazy(connection, s_options, "lazy channel",
            setUp: (_, _) => Interlocked.Increment(ref setUps) == 1 ? throw new InvalidOperationException("refused") : Task.CompletedTask);

        await Assert.ThrowsAsync<InvalidOperationException>(() => managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        var halfMade = FakeChannel.Of(Assert.Single(fake.Channels));
        Assert.False(managed.TryGetReady(out _));
        Assert.Equal(1, halfMade.CloseCalls);
        Assert.Equal(1, halfMade.DisposeCalls);

        var channel = await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotSame(fake.Channels[0], channel);
        Assert.Equal(1, managed.GenerationOf(channel));
        Assert.Equal(0, managed.Rebuilds);
    }

    [Fact]
    public async Task A_disposed_lazy_channel_closes_its_channel_and_never_opens_again()
    {
        var connection = FakeConnection.Create();
        var fake = FakeConnection.Of(connection);
        var managed = ManagedChannel.CreateLazy(connection, s_options, "lazy channel");
        var channel = await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        await managed.DisposeAsync();

        Assert.Equal(1, FakeChannel.Of(channel).CloseCalls);
        Assert.Equal(1, FakeChannel.Of(channel).DisposeCalls);
        Assert.False(managed.TryGetReady(out _));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, fake.Attempts);
    }

    [Fact]
    public async Task A_lazy_ReadyAsync_honours_its_token_while_the_channel_cannot_be_made()
    {
        var connection = FakeConnection.Create();
        FakeConnection.Of(connection).BeforeCreate = (_, token) => Task.Delay(Timeout.Infinite, token);
        var managed = ManagedChannel.CreateLazy(connection, s_options, "lazy channel");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            var started = DateTime.UtcNow;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => managed.ReadyAsync(timeout.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(2));
            Assert.False(managed.TryGetReady(out _));
        }
        finally
        {
            // Dispose waits for an opening under way: bounded, so an opening that ignores the token fails the test, not hangs it.
            await managed.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public async Task A_scratch_channel_is_closed_after_the_work()
    {
        var connection = FakeConnection.Create();
        IChannel? used = null;

        await ManagedChannel.WithScratchChannelAsync(connection, 42, (channel, state) =>
        {
            Assert.Equal(42, state);
            Assert.True(channel.IsOpen);
            used = channel;
            return Task.CompletedTask;
        });

        var scratch = FakeChannel.Of(Assert.Single(FakeConnection.Of(connection).Channels));
        Assert.Same(used, Assert.Single(FakeConnection.Of(connection).Channels));
        Assert.False(scratch.IsOpen);
        Assert.Equal(1, scratch.CloseCalls);
        Assert.Equal(1, scratch.DisposeCalls);
    }

    [Fact]
    public async Task A_scratch_channel_is_let_go_when_the_work_throws_and_the_exception_reaches_the_caller()
    {
        var connection = FakeConnection.Create();

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => ManagedChannel.WithScratchChannelAsync(connection, 0,
            (_, _) => throw new InvalidOperationException("404 NOT_FOUND")));

        Assert.Equal("404 NOT_FOUND", thrown.Message);
        var scratch = FakeChannel.Of(Assert.Single(FakeConnection.Of(connection).Channels));
        // Disposing an open RabbitMQ.Client channel closes it (an abort): the work's own close is not awaited again.
        Assert.Equal(1, scratch.DisposeCalls);
        Assert.False(scratch.IsOpen);
    }
    [Fact]
    public async Task An_owner_that_throws_when_told_of_the_close_does_not_stop_the_rebuild()
    {
        var connection = FakeConnection.Create();
        await using var managed = await CreateEagerAsync(connection);
        var first = FakeConnection.Of(connection).Channels[0];
        managed.ChannelClosedByBroker = (_, _) => throw new InvalidOperationException("the owner's bookkeeping failed");

        await FakeChannel.Of(first).CloseByBrokerAsync(406);

        var second = await managed.ReadyAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotSame(first, second);
        Assert.True(second.IsOpen);
        Assert.Equal(1, managed.Rebuilds);
    }

    [Fact]
    public async Task A_scratch_channel_whose_close_hangs_is_given_up_within_the_close_bound()
    {
        var connection = FakeConnection.Create();
        var never = new TaskCompletionSource();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await ManagedChannel.WithScratchChannelAsync(connection, 0, (channel, _) =>
        {
            FakeChannel.Of(channel).CloseBlocker = never.Task;
            return Task.CompletedTask;
        }).WaitAsync(ManagedChannel.CloseTimeout + TimeSpan.FromSeconds(5));

        Assert.InRange(watch.Elapsed, ManagedChannel.CloseTimeout - TimeSpan.FromMilliseconds(100), ManagedChannel.CloseTimeout + TimeSpan.FromSeconds(5));
        Assert.Equal(1, FakeChannel.Of(Assert.Single(FakeConnection.Of(connection).Channels)).DisposeCalls);
    }
}
