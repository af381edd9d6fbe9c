using System.Diagnostics;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;
using Xunit;

namespace RpcGen.Benchmarks.Tests;

/// <summary>The offered-load scenario: every scheduled call is made and answered, and latency runs from the schedule.</summary>
public sealed class OpenLoopRunnerTests
{
    private static readonly Uri Broker = new(Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } uri ? uri : "amqp://guest:guest@localhost:5672/");

    [Fact]
    public async Task At_a_fixed_rate_against_the_real_broker_every_scheduled_call_is_answered_and_timed()
    {
        var contender = ContenderCatalog.Create(ContenderCatalog.RpcGen);
        var environment = new BenchEnvironment(Broker, BenchEnvironment.NewPrefix());
        await using var server = await contender.ServeAsync(environment, CancellationToken.None);
        await using var client = await contender.ConnectAsync(environment, maxInFlight: 16, CancellationToken.None);

        var result = await OpenLoopRunner.MeasureAsync(client, 16, PayloadKind.Int, null, rate: 200,
            warmup: TimeSpan.FromSeconds(0.2), window: TimeSpan.FromSeconds(0.5), maxPending: 1000);

        // 0.5 s at 200 calls/s: 100 calls scheduled in the window, each with a latency and a send lag of its own.
        Assert.Equal(100, result.LatencyTicks.Length);
        Assert.All(result.LatencyTicks, ticks => Assert.True(ticks > 0));
        Assert.All(result.SendLagTicks, ticks => Assert.True(ticks >= 0));
        Assert.Equal(200, result.OfferedPerSecond);
    }

    [Fact]
    public async Task A_stall_counts_against_every_call_scheduled_during_it()
    {
        // Every call is answered at once only 400 ms after the first one was made: a stall of the whole system.
        var stalled = new StalledClient(TimeSpan.FromMilliseconds(400));

        var result = await OpenLoopRunner.MeasureAsync(stalled, 1, PayloadKind.Int, null, rate: 100,
            warmup: TimeSpan.Zero, window: TimeSpan.FromSeconds(0.3), maxPending: 1000);

        // A closed loop would have made one call and counted one slow answer; the schedule made all 30, and each waited.
        Assert.Equal(30, result.LatencyTicks.Length);
        Assert.Equal(30, stalled.Calls);
        // Task.Delay runs on the timer queue's millisecond clock, so against a Stopwatch it may end a millisecond or two
        // short of 400 ms (seen once under load); a call that did not wait for the stall would show about 0 ms.
        Assert.True(result.LatencyTicks[0] >= Stopwatch.Frequency * 390 / 1000, "the first call waited the whole stall");
        Assert.All(result.LatencyTicks, ticks => Assert.True(ticks > 0));
        Assert.True(result.MostPending >= 2, "calls were outstanding at once, not made one after another");
    }

    [Fact]
    public void The_hosts_cpu_counters_give_shares_between_zero_and_one()
    {
        var before = HostCpu.Read();
        Thread.Sleep(50);
        var load = HostCpu.Between(before, HostCpu.Read());
        if (!File.Exists("/proc/stat"))
        {
            Assert.True(double.IsNaN(load.StealFraction));
            return;
        }

        Assert.InRange(load.StealFraction, 0, 1);
        Assert.InRange(load.BusyFraction, 0, 1);
    }

    private sealed class StalledClient(TimeSpan stall) : IContenderClient, IBenchClient
    {
        private readonly object _gate = new();
        private Task? _release;
        private int _calls;

        public int Calls => _calls;

        public IBenchClient ForWorker(int worker) => this;

        public async Task<int> IncrementAsync(int value)
        {
            Interlocked.Increment(ref _calls);
            Task release;
            lock (_gate) release = _release ??= Task.Delay(stall);
            await release;
            return BenchService.Increment(value);
        }

        public Task<Payload> EchoAsync(Payload payload) => throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
