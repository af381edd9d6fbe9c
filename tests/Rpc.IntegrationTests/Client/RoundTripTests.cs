using System.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests;

/// <summary>Calls through the generated client and dispatcher against the real broker.</summary>
public sealed class RoundTripTests
{
    [Fact]
    public async Task Every_supported_return_shape_round_trips()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var implementation = new Calculator();
        await broker.ServeAsync<ICalculator>(rpc, implementation);
        var calc = rpc.CreateClient<ICalculator>();

        Assert.Equal(3, await calc.AddAsync(1, 2));                               // Task<T>, two parameters
        Assert.Equal(6.5, await calc.SumAsync(new[] { 1.5, 2, 3 }));              // ValueTask<T>, [RpcMethod] name, one array parameter
        await calc.ResetAsync();                                                  // Task, no parameters
        await calc.PingAsync();                                                   // ValueTask
        Assert.Equal(1, await calc.CountResetsAsync());
        Assert.Equal("héllo \"wörld\"", await calc.EchoAsync("héllo \"wörld\""));  // string, one parameter
        Assert.Null(await calc.EchoAsync(null));                                  // nullable reference, null both ways
        Assert.Equal(new Point(11, 18), await calc.MoveAsync(new Point(1, 2), 10, 16)); // record argument and result
    }

    [Fact]
    public async Task CreateClient_returns_the_generated_client_and_new_works_too()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ICalculator>(rpc, new Calculator());

        Assert.IsType<CalculatorClient>(rpc.CreateClient<ICalculator>());
        Assert.Equal(7, await new CalculatorClient(rpc).AddAsync(3, 4));
    }

    [Fact]
    public async Task A_thousand_concurrent_calls_from_one_client_each_get_their_own_answer()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ICalculator>(rpc, new Calculator());
        var calc = rpc.CreateClient<ICalculator>();

        var calls = Enumerable.Range(0, 1000).Select(i => calc.AddAsync(i, 1_000_000 * (i % 7))).ToArray();
        var results = await Task.WhenAll(calls);

        for (int i = 0; i < results.Length; i++) Assert.Equal(i + 1_000_000 * (i % 7), results[i]);
        Assert.Equal(0, rpc.PendingCallCount);
    }

    [Fact]
    public async Task A_call_with_no_reply_in_time_throws_RpcTimeoutException_naming_service_method_and_timeout()
    {
        await using var broker = new TestBroker();
        var server = await broker.ConnectAsync();
        await broker.ServeAsync<ICalculator>(server, new Calculator());
        var client = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromMilliseconds(300));
        var calc = client.CreateClient<ICalculator>();

        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RpcTimeoutException>(() => calc.SlowAsync(3000));
        watch.Stop();

        Assert.Equal("Calculator", e.Service);
        Assert.Equal("Slow", e.Method);
        Assert.Equal(TimeSpan.FromMilliseconds(300), e.Timeout);
        Assert.Contains("Calculator.Slow", e.Message);
        Assert.Contains("300 ms", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"timed out only after {watch.Elapsed}");
        Assert.Equal(0, client.PendingCallCount);
    }

    [Fact]
    public async Task A_late_reply_for_a_forgotten_call_is_dropped_and_the_client_keeps_working()
    {
        await using var broker = new TestBroker();
        var server = await broker.ConnectAsync();
        var implementation = new Calculator();
        await broker.ServeAsync<ICalculator>(server, implementation);
        var client = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromMilliseconds(200));
        var calc = client.CreateClient<ICalculator>();

        await Assert.ThrowsAsync<RpcTimeoutException>(() => calc.SlowAsync(600));
        // The server finishes the forgotten call and replies; the reply reaches the client, which drops it.
        await Interop.Wait.UntilAsync(() => client.Invoker.PendingCalls.DroppedReplies == 1, "the late reply arrived and was dropped");

        Assert.Single(implementation.SlowCallsFinished);
        Assert.Equal(5, await calc.AddAsync(2, 3));
        Assert.Equal(0, client.PendingCallCount);
    }

    [Fact]
    public async Task Cancelling_a_call_throws_OperationCanceledException_and_forgets_it()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ICalculator>(rpc, new Calculator());
        var calc = rpc.CreateClient<ICalculator>();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => calc.SlowAsync(3000, cancellation.Token));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2.5), $"cancelled only after {watch.Elapsed}");
        Assert.Equal(0, rpc.PendingCallCount);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => calc.SlowAsync(10, cancellation.Token)); // already cancelled
    }

    [Fact]
    public async Task A_handler_exception_becomes_RpcRemoteException_with_type_and_message_but_no_stack_trace()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ICalculator>(rpc, new Calculator());
        var calc = rpc.CreateClient<ICalculator>();

        var e = await Assert.ThrowsAsync<RpcRemoteException>(() => calc.FailAsync("the disk is full"));

        Assert.Equal("System.InvalidOperationException", e.RemoteType);
        Assert.Equal("the disk is full", e.RemoteMessage);
        Assert.Null(e.RemoteDetail);
        Assert.Equal("Calculator", e.Service);
        Assert.Equal("Fail", e.Method);
        Assert.DoesNotContain(" at ", e.Message);
        Assert.Equal(3, await calc.AddAsync(1, 2)); // the server goes on serving
    }

    [Fact]
    public async Task Exception_details_are_sent_only_when_the_server_opts_in()
    {
        await using var broker = new TestBroker();
        var server = await broker.ConnectAsync(o => o.Server.IncludeExceptionDetails = true);
        await broker.ServeAsync<ICalculator>(server, new Calculator());
        var client = await broker.ConnectAsync();

        var e = await Assert.ThrowsAsync<RpcRemoteException>(() => client.CreateClient<ICalculator>().FailAsync("boom"));

        Assert.NotNull(e.RemoteDetail);
        Assert.Contains(nameof(Calculator.FailAsync), e.RemoteDetail);
    }

    [Fact]
    public async Task A_method_the_server_does_not_have_gets_an_unknown_method_error()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ICalculator>(rpc, new Calculator());

        var e = await Assert.ThrowsAsync<RpcRemoteException>(() => rpc.CreateClient<ICalculatorV2>().MultiplyAsync(6, 7));

        Assert.Equal("rpc:unknown-method", e.RemoteType);
        Assert.Contains("Multiply", e.RemoteMessage);
    }

    [Fact]
    public async Task Malformed_bodies_get_bad_request_replies_are_acked_and_never_redelivered()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var server = await broker.ServeAsync<ICalculator>(rpc, new Calculator());
        await using var raw = await RawAmqp.ConnectAsync();
        var queue = broker.QueueName("calc");

        var notJson = await raw.CallAsync(queue, "{not json", type: "Add");
        var wrongType = await raw.CallAsync(queue, """{"a": "one", "b": 2}""", type: "Add");
        var missing = await raw.CallAsync(queue, """{"a": 1}""", type: "Add");
        var extra = await raw.CallAsync(queue, """{"a": 1, "b": 2, "c": 3}""", type: "Add");
        var nullPoint = await raw.CallAsync(queue, """{"point": null, "dx": 1, "dy": 2}""", type: "Move");
        var noType = await raw.CallAsync(queue, "1");

        foreach (var reply in new[] { notJson, wrongType, missing, extra, nullPoint })
        {
            Assert.Equal("error", reply.Status);
            Assert.Equal("rpc:bad-request", reply.ErrorType);
        }

        Assert.Contains("'b'", missing.ErrorMessage);
        Assert.Contains("'c'", extra.ErrorMessage);
        Assert.Contains("must not be null", nullPoint.ErrorMessage);
        Assert.Equal("rpc:unknown-method", noType.ErrorType);

        // A well-formed request from the same plain client still works, and nothing was requeued.
        var good = await raw.CallAsync(queue, """{"a": 40, "b": 2}""", type: "Add");
        Assert.Null(good.Status); // a success carries no rpc-status header
        Assert.Equal("42", good.Text);
        await Task.Delay(200);
        Assert.Equal(7, server.Served);
        Assert.Equal(0, server.InFlight);
    }

    [Fact]
    public async Task A_request_past_its_deadline_is_refused_unrun_and_one_within_it_runs()
    {
        await using var broker = new TestBroker();
        var implementation = new Calculator();
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(o => o.Server.ClockSkewTolerance = TimeSpan.FromMilliseconds(500)), implementation);
        await using var raw = await RawAmqp.ConnectAsync();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var late = await raw.CallAsync(broker.QueueName("calc"), "", type: "Reset", headers: new() { ["rpc-deadline"] = now - 2000 });
        var withinTolerance = await raw.CallAsync(broker.QueueName("calc"), "", type: "Reset", headers: new() { ["rpc-deadline"] = now - 100 });

        Assert.Equal("rpc:deadline-exceeded", late.ErrorType);
        Assert.Null(withinTolerance.Status);
        Assert.Equal(1, await implementation.CountResetsAsync());
    }

    [Fact]
    public async Task Two_servers_on_one_queue_share_the_load()
    {
        await using var broker = new TestBroker();
        var first = new CountingCalculator();
        var second = new CountingCalculator();
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(o => o.Server.Prefetch = 4), first);
        await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(o => o.Server.Prefetch = 4), second);
        var calc = (await broker.ConnectAsync()).CreateClient<ICalculator>();

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => calc.SlowAsync(5 + i % 2)));

        Assert.Equal(200, results.Length);
        Assert.Equal(200, first.Calls + second.Calls);
        Assert.True(first.Calls >= 40, $"first server took only {first.Calls} of 200 calls");
        Assert.True(second.Calls >= 40, $"second server took only {second.Calls} of 200 calls");
    }

    [Fact]
    public async Task A_call_to_a_queue_nobody_serves_fails_fast_with_RpcServiceUnavailableException()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var calc = rpc.CreateClient<ICalculator>();

        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => calc.AddAsync(1, 2));
        watch.Stop();

        Assert.Equal(broker.QueueName("calc"), e.Queue);
        Assert.Contains(broker.QueueName("calc"), e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
        Assert.Equal(0, rpc.PendingCallCount);
    }

    [Fact]
    public async Task Connecting_to_a_broker_that_is_not_there_names_the_uri_with_the_password_masked()
    {
        var e = await Assert.ThrowsAsync<RpcConnectionException>(() =>
            RpcConnection.ConnectAsync(new Uri("amqp://someone:s3cret@127.0.0.1:1/")));

        Assert.Contains("amqp://someone:***@127.0.0.1:1/", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
    }

    private sealed class CountingCalculator : Calculator
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public override Task<int> SlowAsync(int milliseconds, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return base.SlowAsync(milliseconds, cancellationToken);
        }
    }
}
