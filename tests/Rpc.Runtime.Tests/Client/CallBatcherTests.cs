using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using RpcGen.Client;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.Runtime.Tests.Client;

/// <summary>
/// Client/CallBatcher.cs on its own, against a recording publisher: who publishes a call, and how the line is cut into
/// batches. (The calls themselves are never touched by the batcher, so none are made here.)
/// </summary>
public sealed class CallBatcherTests
{
    private static WaitingCall Call(int size) => new(null!, null!, size);

    private static Task WaitIdleAsync(CallBatcher batcher) =>
        Wait.UntilAsync(() => batcher.IsIdle, "the batcher's worker did not finish");

    private sealed class Recorder
    {
        public ConcurrentQueue<int[]> Published { get; } = new();

        public ValueTask PublishAsync(List<WaitingCall> batch)
        {
            Published.Enqueue(batch.Select(c => c.Size).ToArray());
            return ValueTask.CompletedTask;
        }

        public async Task<int[][]> WaitForAsync(int calls)
        {
            await Wait.UntilAsync(() => Published.Sum(b => b.Length) >= calls, $"{calls} calls were published");
            return Published.ToArray();
        }
    }

    [Fact]
    public void A_call_made_while_nothing_else_is_in_flight_is_published_by_its_caller_every_time()
    {
        var recorder = new Recorder();
        var batcher = new CallBatcher(recorder.PublishAsync, maxCalls: 4, maxBytes: 1000);
        for (int i = 0; i < 3; i++)
        {
            Assert.False(batcher.TryWait(Call(10), othersInFlight: false));
            batcher.Published();
        }

        Assert.Empty(recorder.Published);
    }

    [Fact]
    public async Task Calls_made_while_a_publish_is_under_way_wait_and_go_out_in_batches_of_at_most_maxCalls()
    {
        var recorder = new Recorder();
        var batcher = new CallBatcher(recorder.PublishAsync, maxCalls: 4, maxBytes: 1000);
        Assert.False(batcher.TryWait(Call(10), othersInFlight: false)); // this caller publishes its own
        for (int i = 0; i < 10; i++) Assert.True(batcher.TryWait(Call(i), othersInFlight: false));
        Assert.Empty(recorder.Published);

        batcher.Published();
        var batches = await recorder.WaitForAsync(10);
        Assert.Equal(new[] { new[] { 0, 1, 2, 3 }, new[] { 4, 5, 6, 7 }, new[] { 8, 9 } }, batches);

        // The line is empty again: the next lone call is its caller's to publish.
        await WaitIdleAsync(batcher);
        Assert.False(batcher.TryWait(Call(10), othersInFlight: false));
    }

    [Fact]
    public async Task A_batch_stops_before_the_call_that_would_take_it_past_maxBytes_but_always_takes_one()
    {
        var recorder = new Recorder();
        var batcher = new CallBatcher(recorder.PublishAsync, maxCalls: 10, maxBytes: 100);
        using (batcher.Hold())
        {
            foreach (var size in new[] { 40, 50, 20, 150, 30 }) Assert.True(batcher.TryWait(Call(size), othersInFlight: false));
        }

        Assert.Equal(new[] { new[] { 40, 50 }, new[] { 20 }, new[] { 150 }, new[] { 30 } }, await recorder.WaitForAsync(5));
    }

    [Fact]
    public async Task A_call_made_while_others_are_in_flight_waits_for_the_worker_even_when_the_line_is_idle()
    {
        var recorder = new Recorder();
        var batcher = new CallBatcher(recorder.PublishAsync, maxCalls: 4, maxBytes: 1000);
        Assert.True(batcher.TryWait(Call(7), othersInFlight: true));
        Assert.Equal(new[] { new[] { 7 } }, await recorder.WaitForAsync(1));
    }

    [Fact]
    public async Task A_publisher_that_throws_does_not_stop_the_line()
    {
        int attempts = 0;
        var published = new ConcurrentQueue<int>();
        var batcher = new CallBatcher(batch =>
        {
            if (Interlocked.Increment(ref attempts) == 1) throw new InvalidOperationException("broken");
            foreach (var call in batch) published.Enqueue(call.Size);
            return ValueTask.CompletedTask;
        }, maxCalls: 1, maxBytes: 1000);
        using (batcher.Hold())
        {
            Assert.True(batcher.TryWait(Call(1), othersInFlight: false));
            Assert.True(batcher.TryWait(Call(2), othersInFlight: false));
        }

        await Wait.UntilAsync(() => !published.IsEmpty, "the call after the failed publish was published");
        Assert.Equal(new[] { 2 }, published);
        await WaitIdleAsync(batcher);
        Assert.False(batcher.TryWait(Call(3), othersInFlight: false));
    }

    [Fact]
    public async Task A_short_line_waits_until_full_while_two_batches_worth_of_other_calls_are_in_flight()
    {
        var recorder = new Recorder();
        var batcher = new CallBatcher(recorder.PublishAsync, maxCalls: 4, maxBytes: 1000, inFlight: () => 100, new FakeTimeProvider());
        Assert.True(batcher.TryWait(Call(1), othersInFlight: true)); // starts the worker, which finds a line of one
        await Task.Delay(100);
        Assert.Empty(recorder.Published);
        for (int i = 2; i <= 4; i++) Assert.True(batcher.TryWait(Call(i), othersInFlight: true));

        var batches = await recorder.WaitForAsync(4);
        Assert.Equal(new[] { new[] { 1, 2, 3, 4 } }, batches);
        await WaitIdleAsync(batcher);
    }

    [Fact]
    public async Task A_short_line_waits_for_company_no_longer_than_CompanyWait()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder();
        var batcher = new CallBatcher(recorder.PublishAsync, maxCalls: 4, maxBytes: 1000, inFlight: () => 100, time);
        Assert.True(batcher.TryWait(Call(1), othersInFlight: true));
        await Task.Delay(100);
        Assert.Empty(recorder.Published);

        time.Advance(CallBatcher.CompanyWait);
        Assert.Equal(new[] { new[] { 1 } }, await recorder.WaitForAsync(1));
        await WaitIdleAsync(batcher);
    }

    [Fact]
    public async Task A_short_line_goes_out_at_once_while_fewer_than_two_batches_worth_of_calls_are_in_flight()
    {
        var recorder = new Recorder();
        var batcher = new CallBatcher(recorder.PublishAsync, maxCalls: 4, maxBytes: 1000, inFlight: () => 8, new FakeTimeProvider());
        Assert.True(batcher.TryWait(Call(1), othersInFlight: true));
        Assert.Equal(new[] { new[] { 1 } }, await recorder.WaitForAsync(1));
        await WaitIdleAsync(batcher);
    }

    [Fact]
    public async Task A_line_full_by_bytes_goes_out_without_waiting_for_company()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder();
        var batcher = new CallBatcher(recorder.PublishAsync, maxCalls: 10, maxBytes: 100, inFlight: () => 100, time);
        Assert.True(batcher.TryWait(Call(60), othersInFlight: true));
        await Task.Delay(100);
        Assert.Empty(recorder.Published);

        Assert.True(batcher.TryWait(Call(61), othersInFlight: true)); // 121 bytes wait: more than one batch holds
        Assert.Equal(new[] { new[] { 60 } }, await recorder.WaitForAsync(1));
        time.Advance(CallBatcher.CompanyWait);
        Assert.Equal(new[] { new[] { 60 }, new[] { 61 } }, await recorder.WaitForAsync(2));
        await WaitIdleAsync(batcher);
    }
}
