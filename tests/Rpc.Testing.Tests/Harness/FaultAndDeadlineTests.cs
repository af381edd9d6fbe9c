using RpcGen.Testing.Tests.Conformance;
using Xunit;

namespace RpcGen.Testing.Tests.Harness;

/// <summary>Typed faults, deadlines and dead letters with no broker and no sleeps: the fake clock moves when the test says.</summary>
public sealed class FaultAndDeadlineTests
{
    [Fact]
    public async Task A_typed_fault_reaches_the_caller_and_the_harness_records_the_fault_and_the_error_reply()
    {
        await using var harness = await RpcTestHarness.StartAsync();
        await using var server = await harness.Connection.ServeAsync<ICalc>(new Calc());
        var calc = harness.Connection.CreateClient<ICalc>();

        var fault = await Assert.ThrowsAsync<InsufficientFundsException>(() => calc.WithdrawAsync(250));
        Assert.Equal(100, fault.Balance);

        var faulted = Assert.Single(harness.Find<ICalc>(RpcTestEventKind.Faulted, c => c.WithdrawAsync));
        Assert.IsType<InsufficientFundsException>(faulted.Exception);
        var answered = Assert.Single(harness.Find<ICalc>(RpcTestEventKind.Answered, c => c.WithdrawAsync));
        Assert.True(answered.IsError);
    }

    [Fact]
    public async Task A_call_times_out_when_the_fake_clock_passes_its_deadline_and_the_handler_token_fires()
    {
        await using var harness = await RpcTestHarness.StartAsync(o => o.UseFakeTime = true);
        var calc = new Calc();
        await using var server = await harness.Connection.ServeAsync<ICalc>(calc);
        var client = harness.Connection.CreateClient<ICalc>();

        Task<int> call;
        using (RpcCallOptions.WithTimeout(TimeSpan.FromSeconds(30))) call = client.WaitAsync(CancellationToken.None);
        var deadline = await calc.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(harness.FakeTime.GetUtcNow().AddSeconds(30), deadline);

        harness.AdvanceTime(TimeSpan.FromSeconds(29));
        Assert.False(call.IsCompleted);
        Assert.False(calc.TokenFired.Task.IsCompleted);

        harness.AdvanceTime(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAsync<RpcTimeoutException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        await calc.TokenFired.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Failing_work_is_retried_then_dead_lettered_and_the_harness_says_so()
    {
        await using var harness = await RpcTestHarness.StartAsync(o => o.ConfigureConnection = c =>
        {
            c.Server.RetryLimit = 2;
            c.Server.RetryBackoff = TimeSpan.Zero;
        });
        var work = new Work();
        await using var server = await harness.Connection.ServeAsync<IWork>(work);
        await harness.Connection.CreateClient<IWork>().DoAsync("fail-payment");

        var dead = Assert.Single(await harness.WaitForDeadLetteredAsync<IWork>(w => w.DoAsync));
        Assert.Equal(2, dead.Retries);
        Assert.Equal(3, harness.Find<IWork>(RpcTestEventKind.Faulted, w => w.DoAsync).Count);
        Assert.Equal(2, harness.Find<IWork>(RpcTestEventKind.Retried, w => w.DoAsync).Count);
        Assert.Equal(1, harness.MessageCount(harness.QueueOf<IWork>() + ".dead-letter"));
    }

    [Fact]
    public async Task Retry_backoff_runs_on_the_fake_clock_and_the_harness_steps_through_it()
    {
        await using var harness = await RpcTestHarness.StartAsync(o =>
        {
            o.UseFakeTime = true;
            o.ConfigureConnection = c =>
            {
                c.Server.RetryLimit = 2;
                c.Server.RetryBackoff = TimeSpan.FromSeconds(5);
            };
        });
        var start = harness.FakeTime.GetUtcNow();
        await using var server = await harness.Connection.ServeAsync<IWork>(new Work());
        await harness.Connection.CreateClient<IWork>().DoAsync("fail-payment");

        var dead = Assert.Single(await harness.AdvanceTimeUntilAsync<IWork>(RpcTestEventKind.DeadLettered, w => w.DoAsync));

        // Backoff 5 s before the first retry, 10 s before the second, then the dead letter: 15 s that never passed on the wall clock.
        var retried = harness.Find<IWork>(RpcTestEventKind.Retried, w => w.DoAsync);
        Assert.Equal(2, retried.Count);
        Assert.Equal(start.AddSeconds(5), retried[0].At);
        Assert.Equal(start.AddSeconds(15), retried[1].At);
        Assert.Equal(start.AddSeconds(15), dead.At);
    }

    [Fact]
    public async Task A_stream_whose_server_goes_silent_ends_at_the_idle_timeout_on_the_fake_clock()
    {
        await using var harness = await RpcTestHarness.StartAsync(o =>
        {
            o.UseFakeTime = true;
            o.ConfigureConnection = c => c.Client.StreamIdleTimeout = TimeSpan.FromSeconds(10);
        });
        await using var server = await harness.Connection.ServeAsync<ICalc>(new Calc());
        await using var stream = harness.Connection.CreateClient<ICalc>().StallAsync(CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync());
        var next = stream.MoveNextAsync().AsTask();

        harness.AdvanceTime(TimeSpan.FromSeconds(9));
        Assert.False(next.IsCompleted);

        harness.AdvanceTime(TimeSpan.FromSeconds(2));
        var idle = await Assert.ThrowsAsync<RpcTimeoutException>(() => next.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("stream idle timeout", idle.Message, StringComparison.Ordinal);
    }
}
