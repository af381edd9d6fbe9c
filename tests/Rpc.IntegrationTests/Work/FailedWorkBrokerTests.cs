using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>
/// Broker limits on the fault node: a reply over the broker's max_message_size, and a hand-off whose confirm a memory
/// alarm holds back.
/// </summary>
[Collection(FaultBrokerCollection.Name)]
public sealed class FailedWorkBrokerTests
{
    private readonly FaultBroker _broker;
    private readonly ITestOutputHelper _output;

    public FailedWorkBrokerTests(FaultBroker broker, ITestOutputHelper output)
    {
        _broker = broker;
        _output = output;
    }

    [Fact]
    public async Task A_reply_over_the_brokers_max_message_size_becomes_an_rpc_too_large_error_and_the_handler_runs_once()
    {
        const int limit = 3 * 1024 * 1024;
        const int size = 4 * 1024 * 1024;
        await using var node = await LimitedNode.StartAsync(_broker, limit, "too-large");
        var (work, server, client) = (node.Work, node.Server, node.Client);

        // Larger than RpcGen takes any broker to accept, within this one's limit: confirmed, and delivered.
        Assert.Equal(2 * 1024 * 1024, (await client.BigAsync(2 * 1024 * 1024)).Length);

        var error = await AssertTooLargeAsync(() => client.BigAsync(size), limit);
        Assert.Contains((size + 2).ToString(), error.RemoteMessage); // the JSON string: its characters and two quotes
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Single(work.RunsOf("Big"), r => r.Id == size);
        Assert.Equal(0, server.InFlight);

        // Learnt: the next one is refused without a try on the broker, and the server's channel was never closed.
        var watch = Stopwatch.StartNew();
        error = await Assert.ThrowsAsync<RpcRemoteException>(() => client.BigAsync(size));
        _output.WriteLine($"the second refused after {watch.ElapsedMilliseconds} ms");
        Assert.Equal("rpc:too-large", error.RemoteType);
        Assert.Equal(2, work.RunsOf("Big").Count(r => r.Id == size));
        Assert.Equal(0, server.Channel.Rebuilds);
        Assert.Equal(3, await client.EchoAsync(3));
        Assert.Equal(1000, (await client.BigAsync(1000)).Length);
    }

    [Fact]
    public async Task A_reply_under_1_MiB_over_a_lower_broker_limit_runs_at_most_twice_then_is_answered_rpc_too_large()
    {
        const int limit = 512 * 1024;
        const int size = 768 * 1024;
        await using var node = await LimitedNode.StartAsync(_broker, limit, "too-large-small");
        var (work, server, client) = (node.Work, node.Server, node.Client);

        // Under the 1 MiB a server takes any broker to accept: it goes out on the request's channel, which the broker
        // closes, naming its limit; the redelivered request is answered rpc:too-large instead of looping.
        await AssertTooLargeAsync(() => client.BigAsync(size), limit, () => $" and {work.RunsOf("Big").Count()} runs");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(2, work.RunsOf("Big").Count());
        Assert.Equal(1, server.Channel.Rebuilds);
        Assert.Equal(3, await client.EchoAsync(3));
    }

    [Fact]
    public async Task A_streamed_item_over_the_brokers_max_message_size_ends_the_stream_rpc_too_large_and_the_stream_runs_at_most_twice()
    {
        const int limit = 512 * 1024;
        const int size = 768 * 1024;
        await using var node = await LimitedNode.StartAsync(_broker, limit, "too-large-stream");
        var (work, server, client) = (node.Work, node.Server, node.Client);

        // Under the 1 MiB a server takes any broker to accept: the first item message closes the request's channel,
        // naming the limit; the redelivered stream ends at once with an error marker instead of looping.
        var error = await AssertTooLargeAsync(() => DrainAsync(client.BigItemsAsync(2, size)).WaitAsync(TimeSpan.FromSeconds(20)), limit,
            () => $" and {work.RunsOf("BigItems").Count()} runs");
        Assert.Contains((size + 4).ToString(), error.RemoteMessage); // ["x…"]: the characters, two quotes and the brackets
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.InRange(work.RunsOf("BigItems").Count(), 1, 2);
        Assert.Equal(0, server.InFlight);

        // Learnt: the next stream ends rpc:too-large after one run, and the channel is not closed again.
        long rebuilds = server.Channel.Rebuilds;
        int before = work.RunsOf("BigItems").Count();
        error = await Assert.ThrowsAsync<RpcRemoteException>(() => DrainAsync(client.BigItemsAsync(2, size)).WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("rpc:too-large", error.RemoteType);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(before + 1, work.RunsOf("BigItems").Count());
        Assert.Equal(rebuilds, server.Channel.Rebuilds);
        Assert.Equal(3, await client.EchoAsync(3));
        Assert.Equal(2, (await DrainAsync(client.BigItemsAsync(2, 1000))).Count);
    }

    [Fact]
    public async Task A_first_streamed_item_over_1_MiB_and_the_brokers_limit_ends_the_stream_rpc_too_large_after_one_run()
    {
        const int limit = 3 * 1024 * 1024;
        const int size = 4 * 1024 * 1024;
        await using var node = await LimitedNode.StartAsync(_broker, limit, "too-large-stream-big");
        var (work, server, client) = (node.Work, node.Server, node.Client);

        // Within the broker's limit, over the 1 MiB taken as safe: confirmed, delivered, in order with its end marker.
        Assert.Equal(2, (await DrainAsync(client.BigItemsAsync(2, 2 * 1024 * 1024))).Count);

        var error = await AssertTooLargeAsync(() => DrainAsync(client.BigItemsAsync(2, size)).WaitAsync(TimeSpan.FromSeconds(20)), limit);
        Assert.Contains((size + 4).ToString(), error.RemoteMessage);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Single(work.RunsOf("BigItems"), r => r.Id == size);
        Assert.Equal(0, server.Channel.Rebuilds);
        Assert.Equal(0, server.InFlight);

        Assert.Equal(3, await client.EchoAsync(3));
    }

    [Fact]
    public async Task A_later_streamed_item_over_1_MiB_and_the_brokers_limit_follows_the_items_before_it_then_ends_rpc_too_large_after_one_run()
    {
        const int limit = 3 * 1024 * 1024;
        const int size = 4 * 1024 * 1024;
        await using var node = await LimitedNode.StartAsync(_broker, limit, "too-large-stream-later");
        var (work, server, client) = (node.Work, node.Server, node.Client);

        // The limit is not known yet; the items before the large one arrive, in order, then the error marker.
        var received = new List<string>();
        await AssertTooLargeAsync(async () =>
        {
            await foreach (var item in client.SmallThenBigAsync(size)) received.Add(item);
        }, limit, () => $", {received.Count} items before");
        Assert.Equal(new[] { "small" }, received);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Single(work.RunsOf("SmallThenBig"));
        Assert.Equal(0, server.Channel.Rebuilds);
        Assert.Equal(0, server.InFlight);
        Assert.Equal(3, await client.EchoAsync(3));
    }

    [Fact]
    public async Task A_batch_of_replies_over_the_brokers_max_message_size_is_split_and_a_reply_over_it_alone_is_answered_rpc_too_large()
    {
        const int limit = 512 * 1024;
        const int small = 200 * 1024;
        const int large = 768 * 1024;
        await using var node = await LimitedNode.StartAsync(_broker, limit, "too-large-batch",
            serving: o => o.Client.DefaultTimeout = new RpcConnectionOptions().Client.DefaultTimeout, calling: o => { o.Client.BatchCalls = true; o.Client.MaxBatchSize = 4; });
        var (work, server, client) = (node.Work, node.Server, node.Client);
        Assert.Equal(1, await client.EchoAsync(1));

        // Four small requests in one batch; their replies make one message of 1.4 MB, over the broker's 512 KiB.
        var watch = Stopwatch.StartNew();
        using var metrics = node.CountSends();
        var calls = node.BigInOneBatch(small, small, large, small);

        var outcomes = await Task.WhenAll(calls.Select(async c =>
        {
            try
            {
                return (Length: (await c.WaitAsync(TimeSpan.FromSeconds(20))).Length, Error: (RpcRemoteException?)null);
            }
            catch (RpcRemoteException e)
            {
                return (Length: -1, Error: e);
            }
        }));
        _output.WriteLine($"after {watch.ElapsedMilliseconds} ms and {work.RunsOf("Big").Count()} runs; batches sent: {metrics.BatchesSent}");
        Assert.Equal((1L, 4L), metrics.BatchesSent);
        Assert.Equal(new[] { small, small, -1, small }, outcomes.Select(o => o.Length));
        Assert.Equal("rpc:too-large", outcomes[2].Error!.RemoteType);
        Assert.Contains(limit.ToString(), outcomes[2].Error!.RemoteMessage);
        await Task.Delay(TimeSpan.FromSeconds(3));
        // The batch ran once, or twice when its first reply message taught the server the limit: never in a loop.
        Assert.InRange(work.RunsOf("Big").Count(r => r.Id == large), 1, 2);
        Assert.InRange(work.RunsOf("Big").Count(r => r.Id == small), 3, 6);
        Assert.Equal(0, server.InFlight);
        Assert.Equal(3, await client.EchoAsync(3));
    }

    [Fact]
    public async Task A_batch_reply_over_1_MiB_and_the_brokers_limit_is_answered_rpc_too_large_after_one_run_beside_the_others()
    {
        const int limit = 3 * 1024 * 1024;
        const int small = 100 * 1024;
        const int large = 4 * 1024 * 1024;
        await using var node = await LimitedNode.StartAsync(_broker, limit, "too-large-batch-big",
            serving: o => o.Client.DefaultTimeout = new RpcConnectionOptions().Client.DefaultTimeout, calling: o => { o.Client.BatchCalls = true; o.Client.MaxBatchSize = 3; });
        var (work, server, client) = (node.Work, node.Server, node.Client);
        Assert.Equal(1, await client.EchoAsync(1));

        // The limit is not known yet: the 4 MiB reply goes out alone on the server's confirmed channel, is refused there,
        // and its call is answered rpc:too-large inside the batch's replies; the others are delivered.
        using var metrics = node.CountSends();
        var calls = node.BigInOneBatch(small, large, small);

        Assert.Equal(small, (await calls[0].WaitAsync(TimeSpan.FromSeconds(20))).Length);
        Assert.Equal(small, (await calls[2].WaitAsync(TimeSpan.FromSeconds(20))).Length);
        await AssertTooLargeAsync(() => calls[1].WaitAsync(TimeSpan.FromSeconds(20)), limit, () => $"; batches sent: {metrics.BatchesSent}");
        Assert.Equal((1L, 3L), metrics.BatchesSent);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Single(work.RunsOf("Big"), r => r.Id == large);
        Assert.Equal(2, work.RunsOf("Big").Count(r => r.Id == small));
        Assert.Equal(0, server.Channel.Rebuilds);
        Assert.Equal(0, server.InFlight);
    }

    /// <summary>
    /// The call ends with <c>rpc:too-large</c> naming the broker's limit; how long it took, and what <paramref name="seen"/>
    /// adds, goes to the output.
    /// </summary>
    private async Task<RpcRemoteException> AssertTooLargeAsync(Func<Task> call, int limit, Func<string>? seen = null)
    {
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RpcRemoteException>(call);
        _output.WriteLine($"after {watch.ElapsedMilliseconds} ms{seen?.Invoke()}: {error.Message}");
        Assert.Equal(RpcErrorTypes.TooLarge, error.RemoteType);
        Assert.Contains(limit.ToString(), error.RemoteMessage);
        return error;
    }

    private static async Task<List<string>> DrainAsync(IAsyncEnumerable<string> items)
    {
        var all = new List<string>();
        await foreach (var item in items) all.Add(item);
        return all;
    }

    [Fact]
    public async Task A_hand_off_whose_confirm_a_memory_alarm_holds_gives_up_within_its_bound()
    {
        await _broker.StartAsync();
        var logs = new LogCapture();
        var prefix = "held-" + Guid.NewGuid().ToString("N")[..8] + ".";
        var timeout = TimeSpan.FromSeconds(2);
        await using var serving = await RpcConnection.ConnectAsync(new RpcConnectionOptions
        {
            Uri = _broker.Uri, QueuePrefix = prefix, Server = { RetryLimit = 0 }, Client = { DefaultTimeout = timeout }, LoggerFactory = logs,
        });
        await using var calling = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = _broker.Uri, QueuePrefix = prefix });
        var work = new FailingWork { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var server = await serving.ServeAsync<IFailingWork>(work);
        var client = calling.CreateClient<IFailingWork>();
        await client.FailAsync(1);
        await client.FailAsync(2);
        await Wait.UntilAsync(() => work.RunsOf("Fail").Count() == 2, "both started");

        var watch = Stopwatch.StartNew();
        try
        {
            await _broker.CtlAsync("set_vm_memory_high_watermark", "0.0000001");
            watch.Restart();
            work.Gate.SetResult();
            await Wait.UntilAsync(() => server.InFlight == 0, "both deliveries settled or given back", seconds: 3 * timeout.TotalSeconds + 5);
            _output.WriteLine($"settled {watch.ElapsedMilliseconds} ms after the handlers threw");
            foreach (var entry in logs.Entries.Where(e => e.Level >= LogLevel.Warning)) _output.WriteLine($"{entry.Level} {entry.EventId}: {entry.Message}");
        }
        finally
        {
            await _broker.CtlAsync("set_vm_memory_high_watermark", "0.4");
        }

        // Once the alarm clears, the work given back is dead-lettered after all: nothing lost.
        work.Gate = null;
        await Wait.UntilAsync(() => server.DeadLettered >= 2, "both dead-lettered after the alarm", seconds: 30);
        await server.DisposeAsync();
    }

    /// <summary>
    /// The fault node with its max_message_size at a test's limit (set back on dispose), and a server and a client of
    /// <see cref="IFailingWork"/> on two connections of their own, each with a 10 s DefaultTimeout unless told otherwise.
    /// </summary>
    private sealed class LimitedNode : IAsyncDisposable
    {
        private BrokerSetting _setting = null!;
        private RpcConnection _serving = null!;
        private RpcConnection _calling = null!;

        public FailingWork Work { get; } = new();
        public RpcServer Server { get; private set; } = null!;
        public IFailingWork Client { get; private set; } = null!;

        /// <summary>Counts the batches the calling side sends to the service's queue, and the calls in them.</summary>
        public RpcMetrics CountSends() => new(_calling.Settings.QueueFor(FailingWorkRpcDescriptor.Service));

        /// <summary>Calls <c>BigAsync</c> once per size, held back until all are in line, so they leave as one batch.</summary>
        public Task<string>[] BigInOneBatch(params int[] sizes)
        {
            using (_calling.Invoker.HoldBatches(FailingWorkRpcDescriptor.Service))
            {
                return sizes.Select(Client.BigAsync).ToArray();
            }
        }

        /// <summary><paramref name="serving"/> and <paramref name="calling"/> change each side's options after the common ones.</summary>
        public static async Task<LimitedNode> StartAsync(FaultBroker broker, int limit, string name,
            Action<RpcConnectionOptions>? serving = null, Action<RpcConnectionOptions>? calling = null)
        {
            await broker.StartAsync();
            var node = new LimitedNode { _setting = await BrokerSetting.SetAsync(broker, "max_message_size", limit.ToString()) };
            var prefix = name + "-" + Guid.NewGuid().ToString("N")[..8] + ".";
            RpcConnectionOptions Options(Action<RpcConnectionOptions>? configure)
            {
                var options = new RpcConnectionOptions { Uri = broker.Uri, QueuePrefix = prefix, Client = { DefaultTimeout = TimeSpan.FromSeconds(10) } };
                configure?.Invoke(options);
                return options;
            }

            node._serving = await RpcConnection.ConnectAsync(Options(serving));
            node._calling = await RpcConnection.ConnectAsync(Options(calling));
            node.Server = await node._serving.ServeAsync<IFailingWork>(node.Work);
            node.Client = node._calling.CreateClient<IFailingWork>();
            // Batches go only where the client has learnt a server reads them (Client/BatchReaders.cs).
            Assert.True(await node._calling.Invoker.CheckBatchReadersAsync(FailingWorkRpcDescriptor.Service));
            return node;
        }

        // The order the tests' own 'await using' lines had: server, calling, serving, then the broker setting.
        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await _calling.DisposeAsync();
            await _serving.DisposeAsync();
            await _setting.DisposeAsync();
        }
    }
}
