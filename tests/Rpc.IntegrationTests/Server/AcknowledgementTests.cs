using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>
/// How a server acks what it answered (Server/Acknowledgements.cs): requests that finish together share one multiple
/// ack, none is acked before it is answered or left unacked after, and a request still running never holds back the
/// acks of those after it.
/// </summary>
public sealed class AcknowledgementTests
{
    [Fact]
    public async Task Requests_answered_together_are_all_acked_with_fewer_ack_frames_than_requests()
    {
        await using var broker = new TestBroker();
        var serving = await broker.ConnectAsync();
        var server = await broker.ServeAsync<ICalculator>(serving, new Calculator());
        using var meter = new ServerMeter(server.Queue);
        // Lone requests, one delivery each, as these acks are about (a batch is one delivery: BatchedCallTests).
        var calling = await broker.ConnectAsync(o => o.Client.BatchCalls = false);
        var calculator = calling.CreateClient<ICalculator>();

        const int workers = 16, callsEach = 200;
        var sums = await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
        {
            long wrong = 0;
            for (int i = 0; i < callsEach; i++)
            {
                if (await calculator.AddAsync(worker, i) != worker + i) wrong++;
            }

            return wrong;
        }));
        Assert.Equal(0, sums.Sum());

        // Acks go out after the replies, so the last few may still be on their way.
        await Wait.UntilAsync(() => meter.Settled == workers * callsEach, "every answered request acked");
        Assert.True(meter.SettlementFrames < meter.Settled,
            $"{meter.Settled} requests were acked with {meter.SettlementFrames} frames: no ack covered more than one request");

        // The channel survived every multiple ack: an ack for an unknown or already settled tag makes the broker close
        // it (406), and the holder would rebuild it and serve on, so "it still serves" alone would not tell.
        Assert.Equal(7, await calculator.AddAsync(3, 4));
        Assert.Equal(0, server.Channel.Rebuilds);

        // Nothing was left unacked: once the server is gone, no request goes back to its queue.
        await server.DisposeAsync();
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(server.Queue));
    }

    [Fact]
    public async Task A_request_still_running_does_not_hold_back_the_acks_of_requests_after_it()
    {
        await using var broker = new TestBroker();
        // Four requests at a time: if the acks of answered requests waited for the held one, the window would fill
        // after three of them and every later call would time out.
        var serving = await broker.ConnectAsync(o => o.Server.Prefetch = 4);
        var calculator = new HeldCalculator();
        var server = await broker.ServeAsync<ICalculator>(serving, calculator);
        using var meter = new ServerMeter(server.Queue);
        // Lone requests, one delivery each (batching is on by default since issue 27; a batch is one delivery).
        var calling = await broker.ConnectAsync(o =>
        {
            o.Client.DefaultTimeout = TimeSpan.FromSeconds(20);
            o.Client.BatchCalls = false;
        });
        var client = calling.CreateClient<ICalculator>();

        var held = client.SlowAsync(1);
        await calculator.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));

        // Three at a time, so overlapping requests make the server coalesce their acks around the held one.
        var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(async worker =>
        {
            int right = 0;
            for (int i = 0; i < 100; i++)
            {
                if (await client.AddAsync(worker, i) == worker + i) right++;
            }

            return right;
        }));
        Assert.Equal(300, answers.Sum());
        Assert.False(held.IsCompleted);
        await Wait.UntilAsync(() => meter.Settled == 300, "the 300 answered requests acked while one is held");

        calculator.Release.SetResult();
        Assert.Equal(1, await held);
        await Wait.UntilAsync(() => meter.Settled == 301, "the held request acked once answered");
        Assert.Equal(9, await client.AddAsync(4, 5));
        Assert.Equal(0, server.Channel.Rebuilds);

        await server.DisposeAsync();
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(server.Queue));
    }

    private sealed class HeldCalculator : Calculator
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task<int> SlowAsync(int milliseconds, CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            await Release.Task;
            return milliseconds;
        }
    }
}
