using System.Diagnostics;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Shapes.Faults;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Semantics;

/// <summary>A caller that gives up (token or timeout) stops the server's work: the control path of docs/wire-format.md.</summary>
[Collection(SemanticsCollection.Name)]
public sealed class ServerCancellationTests
{
    private readonly ITestOutputHelper _output;

    public ServerCancellationTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_cancelled_call_fires_the_handler_token_on_whichever_of_three_servers_on_three_connections_runs_it()
    {
        await using var broker = new TestBroker();
        var shops = new List<Shop>();
        for (int i = 0; i < 3; i++)
        {
            var shop = new Shop();
            shops.Add(shop);
            // Prefetch 1: nine calls spread over the three servers, three at a time, each server running one.
            await broker.ServeAsync<IShop>(await broker.ConnectAsync(o => o.Server.Prefetch = 1), shop);
        }

        var client = (await broker.ConnectAsync()).CreateClient<IShop>();
        var latencies = new List<double>();
        for (int round = 0; round < 3; round++)
        {
            var cancels = Enumerable.Range(0, 3).Select(_ => new CancellationTokenSource()).ToArray();
            int before = shops.Sum(s => s.Holds.Count);
            var calls = cancels.Select(c => client.WaitAsync(30_000, c.Token)).ToArray();
            await Wait.UntilAsync(() => shops.Sum(s => Volatile.Read(ref s.Started)) >= 3 * (round + 1), "three handlers started");
            var cancelledAt = Stopwatch.StartNew();
            foreach (var cancel in cancels) cancel.Cancel();
            foreach (var call in calls) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
            await Wait.UntilAsync(() => shops.Sum(s => s.Holds.Count) == before + 3, "every handler's token fired", seconds: 10);
            latencies.Add(cancelledAt.Elapsed.TotalMilliseconds);
        }

        // Every server ran (and had cancelled) some of the calls.
        Assert.All(shops, s => Assert.NotEmpty(s.Holds));
        Assert.All(shops.SelectMany(s => s.Holds), h => Assert.True(h.TokenFired));
        _output.WriteLine("cancel to last handler token fired (ms): " + string.Join(", ", latencies.Select(l => l.ToString("0"))));
        // The bound is 250 ms per handler; this measures the slowest of three, so twice that, and then some for CI.
        Assert.All(latencies, l => Assert.True(l < 1000, $"a handler's token fired {l:0} ms after the cancel"));
    }

    [Fact]
    public async Task A_call_that_times_out_fires_the_handler_token()
    {
        await using var broker = new TestBroker();
        var shop = new Shop();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), shop);
        var client = (await broker.ConnectAsync()).CreateClient<IShop>();

        // [RpcMethod(TimeoutMilliseconds = 400)], the handler would wait 30 s.
        await Assert.ThrowsAsync<RpcTimeoutException>(() => client.HoldAsync(30_000));
        await Wait.UntilAsync(() => !shop.Holds.IsEmpty, "the handler's token fired", seconds: 5);
        var hold = Assert.Single(shop.Holds);
        Assert.True(hold.TokenFired);
        _output.WriteLine($"handler ran {hold.After.TotalMilliseconds:0} ms before its token fired");
        Assert.True(hold.After < TimeSpan.FromSeconds(2), $"the handler ran {hold.After}");
        // Whichever comes first fires it: the server's own deadline timer (RpcContext.Deadline) or the caller's cancel
        // on the control path; the control path alone is pinned by the cancellation test above.
    }

    [Fact]
    public async Task A_request_cancelled_while_still_queued_is_never_run()
    {
        await using var broker = new TestBroker();
        var shop = new Shop();
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(o => o.Server.Prefetch = 1), shop);
        using var meter = new ServerMeter(server.Queue);
        var client = (await broker.ConnectAsync()).CreateClient<IShop>();

        // The first call holds the only slot; the second waits in the queue and is cancelled there.
        using var first = new CancellationTokenSource();
        var busy = client.WaitAsync(1500, first.Token);
        await Wait.UntilAsync(() => Volatile.Read(ref shop.Started) == 1, "the first call started");
        using var second = new CancellationTokenSource();
        var queued = client.WaitAsync(10, second.Token);
        await Wait.UntilAsync(async () => await RawAmqp.ReadyMessagesAsync(broker.QueueName("shop")) == 1, "the second request is queued");
        second.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);

        Assert.Equal(1500, await busy);
        // The queued request reaches the server once the slot is free, and is refused unrun.
        await Wait.UntilAsync(() => server.Served == 2, "the queued request was settled");
        Assert.Equal(1, Volatile.Read(ref shop.Started));
        Assert.Equal(1, meter.CallerCancels);
    }

    [Fact]
    public async Task A_cancel_from_another_user_is_ignored()
    {
        await using var broker = new TestBroker();
        await using var users = new BrokerUsers();
        var (alice, aliceUri) = await users.AddAsync("alice", ".*", ".*", ".*");
        var shop = new ObservedShop();
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(), shop); // as guest
        using var meter = new ServerMeter(server.Queue);
        var asAlice = await broker.ConnectAsync(o => o.Uri = aliceUri);
        var client = asAlice.CreateClient<IShop>();

        var call = client.WaitAsync(1500);
        var (correlationId, userId) = await shop.Running.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(alice, userId);

        // Guest, another broker user, cancels with the RIGHT correlation id: once naming itself in user_id (which the
        // broker checks), once naming nobody.
        await using var mallory = await RawAmqp.ConnectAsync();
        foreach (var claimed in new[] { "guest", null })
        {
            await mallory.Channel.BasicPublishAsync("rpc-control." + broker.QueueName("shop"), "", false,
                new RabbitMQ.Client.BasicProperties { Type = "cancel", CorrelationId = correlationId, UserId = claimed }, ReadOnlyMemory<byte>.Empty);
        }

        Assert.Equal(1500, await call);
        Assert.False(Assert.Single(shop.Holds).TokenFired);
        Assert.Equal(0, meter.CallerCancels);

        // The same cancel path works for the call's own user: alice's cancel fires the token of her next call.
        shop.Running = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancel = new CancellationTokenSource();
        var second = client.WaitAsync(30_000, cancel.Token);
        await shop.Running.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        await Wait.UntilAsync(() => shop.Holds.Count == 2, "alice's own cancel fired the handler's token");
        Assert.True(shop.Holds.Last().TokenFired);
        Assert.Equal(1, meter.CallerCancels);
    }

    private sealed class ObservedShop : Shop
    {
        public TaskCompletionSource<(string? CorrelationId, string? UserId)> Running = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Task<int> WaitAsync(int milliseconds, CancellationToken cancellationToken = default)
        {
            var task = base.WaitAsync(milliseconds, cancellationToken);
            Running.TrySetResult((RpcContext.Current?.CorrelationId, RpcContext.Current?.UserId));
            return task;
        }
    }
}

/// <summary>The cancel_client.py example of docs/wire-format.md cancels an RpcGen server's work with nothing but pika.</summary>
[Collection(SemanticsCollection.Name)]
public sealed class PikaCancelTests
{
    [Fact]
    public async Task A_pika_client_cancels_a_call_and_the_handler_token_fires()
    {
        await using var broker = new TestBroker();
        var shop = new Shop();
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(), shop);
        using var meter = new ServerMeter(server.Queue);

        var lines = await PythonScript.RunAsync(TimeSpan.FromSeconds(60), "cancel_client.py",
            "--amqp", TestBroker.Uri.ToString(), "--after", "0.5", broker.QueueName("shop"), "Wait", "30000");

        var hold = Assert.Single(shop.Holds);
        Assert.True(hold.TokenFired);
        Assert.True(hold.After < TimeSpan.FromSeconds(10), $"the handler ran {hold.After}");
        Assert.Equal(1, meter.CallerCancels);
        // The handler ended by its token: the reply is its exception, an error the pika client reads.
        Assert.Contains("\"ok\": false", Assert.Single(lines));
        Assert.Contains("Canceled", lines[0]);
    }
}

/// <summary>
/// Servers declare the control exchange; a service that no RpcGen server runs has none, and a publish to it closes
/// the publishing channel (404). That must cost only that cancel, never the cancels after it.
/// </summary>
[Collection(SemanticsCollection.Name)]
public sealed class CancelToAServiceWithoutControlExchangeTests
{
    [Fact]
    public async Task A_cancel_to_a_service_without_control_exchange_does_not_lose_the_next_cancel()
    {
        await using var broker = new TestBroker();
        // The calculator's queue is consumed by a plain peer that never answers and declares no control exchange.
        await using var peer = await RawAmqp.ConnectAsync();
        var seen = await peer.RecordRequestsAsync(broker.QueueName("calc"));
        broker.Track(broker.QueueName("calc"));
        var shop = new Shop();
        var server = await broker.ServeAsync<IShop>(await broker.ConnectAsync(), shop);
        using var meter = new ServerMeter(server.Queue);
        // One connection: its cancels share one sender.
        var rpc = await broker.ConnectAsync();
        var client = rpc.CreateClient<IShop>();
        var calculator = rpc.CreateClient<ICalculator>();
        using var metrics = new RpcMetrics(broker.QueueName("calc"));

        for (int round = 1; round <= 3; round++)
        {
            using var toServer = new CancellationTokenSource();
            var served = client.WaitAsync(4000, toServer.Token);
            await Wait.UntilAsync(() => Volatile.Read(ref shop.Started) == round, "the server's handler started");
            Task<int> unanswered;
            using (RpcCallOptions.WithTimeout(TimeSpan.FromMilliseconds(300))) unanswered = calculator.AddAsync(1, 2);
            Assert.True(seen.TryTake(out _, TimeSpan.FromSeconds(10)), "the plain peer got its request");
            // Its timeout sends a cancel to rpc-control.{calc}, which does not exist; the shop's cancel follows at once.
            await Assert.ThrowsAsync<RpcTimeoutException>(() => unanswered);
            toServer.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => served);
            await Wait.UntilAsync(() => meter.CallerCancels == round, $"cancel {round} reached the server", seconds: 3);
        }

        long lost = metrics[RpcDiagnostics.ClientControlLost];
        Assert.True(lost >= 3, $"{lost} control messages lost: the calculator's cancels should have found no exchange");
    }
}
