using RabbitMQ.Client;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Semantics;
using RpcGen.IntegrationTests.Shapes.Faults;
using RpcGen.Wire;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Batching;

/// <summary>
/// RpcClientOptions.BatchCalls against the real broker (docs/wire-format.md, "Batched calls"): calls that wait to be
/// published go out as one message and are answered as lone calls would be. HoldBatches makes the line a publish
/// under way would make, so the batches here have known sizes.
/// </summary>
public sealed class BatchedCallTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private readonly ITestOutputHelper _output;

    public BatchedCallTests(ITestOutputHelper output) => _output = output;

    private static async Task<(RpcConnection Calling, RpcServer Server, BatchProbe Probe)> StartAsync(TestBroker broker,
        Action<RpcConnectionOptions>? client = null, Action<RpcConnectionOptions>? server = null)
    {
        var probe = new BatchProbe();
        var serving = await broker.ConnectAsync(server);
        var served = await broker.ServeAsync<IBatchProbe>(serving, probe);
        var calling = await broker.ConnectAsync(o =>
        {
            o.Client.BatchCalls = true;
            client?.Invoke(o);
        });
        // A client batches only to a queue it has learnt has a server reading batches (Client/BatchReaders.cs).
        Assert.True(await calling.Invoker.CheckBatchReadersAsync(BatchProbeRpcDescriptor.Service));
        return (calling, served, probe);
    }

    [Fact]
    public async Task Calls_waiting_in_line_go_out_in_batches_of_at_most_MaxBatchSize_and_each_gets_its_own_answer()
    {
        await using var broker = new TestBroker();
        var (calling, server, probe) = await StartAsync(broker, o => o.Client.MaxBatchSize = 8);
        using var meter = new ServerMeter(server.Queue);
        var client = calling.CreateClient<IBatchProbe>();

        Task<int>[] calls;
        using var metrics = new RpcMetrics(calling.Settings.QueueFor(BatchProbeRpcDescriptor.Service));
        using (calling.Invoker.HoldBatches(BatchProbeRpcDescriptor.Service))
        {
            calls = Enumerable.Range(0, 20).Select(i => client.AddAsync(i, 1000)).ToArray();
        }

        var answers = await Task.WhenAll(calls).WaitAsync(Bound);
        Assert.Equal(Enumerable.Range(1000, 20), answers);
        // 8 + 8 + 4: three messages carried the twenty calls, and the server read three batches.
        Assert.Equal((3L, 20L), metrics.BatchesSent);
        Assert.Equal(3, meter.Batches);
        Assert.Equal(20, probe.Calls);
        Assert.Equal(0, calling.PendingCallCount);

        // Nothing waits now: a lone call goes out alone.
        Assert.Equal(3, await client.AddAsync(1, 2));
        Assert.Equal(3, meter.Batches);
    }

    [Fact]
    public async Task Each_call_of_a_batch_has_its_own_correlation_id_deadline_user_and_declared_fault()
    {
        await using var broker = new TestBroker();
        var (calling, server, _) = await StartAsync(broker);
        using var meter = new ServerMeter(server.Queue);
        var client = calling.CreateClient<IBatchProbe>();

        Task<int> ok, refused;
        Task<string> first, second;
        using (calling.Invoker.HoldBatches(BatchProbeRpcDescriptor.Service))
        {
            ok = client.CheckAsync(7);
            refused = client.CheckAsync(-3);
            first = client.ContextAsync();
            second = client.ContextAsync();
        }

        Assert.Equal(7, await ok.WaitAsync(Bound));
        var fault = await Assert.ThrowsAsync<OutOfStockException>(() => refused.WaitAsync(Bound));
        Assert.Equal("sku--3", fault.Sku);
        Assert.Equal(3, fault.Requested);
        var contexts = new[] { await first.WaitAsync(Bound), await second.WaitAsync(Bound) }.Select(c => c.Split('|')).ToArray();
        _output.WriteLine(string.Join(Environment.NewLine, contexts.Select(c => string.Join(" ", c))));
        Assert.NotEqual(contexts[0][0], contexts[1][0]);
        Assert.All(contexts, c =>
        {
            Assert.Equal("guest", c[1]);   // the batch's user_id, which the broker checked
            Assert.Equal("True", c[2]);    // each call's own deadline
            Assert.Equal("False", c[3]);
        });
        Assert.Equal(1, meter.Batches);
    }

    [Fact]
    public async Task A_slow_call_does_not_hold_back_the_replies_of_the_fast_calls_in_its_batch()
    {
        await using var broker = new TestBroker();
        var (calling, server, probe) = await StartAsync(broker);
        using var meter = new ServerMeter(server.Queue);
        var client = calling.CreateClient<IBatchProbe>();

        Task<int> slow;
        Task<int>[] fast;
        using (calling.Invoker.HoldBatches(BatchProbeRpcDescriptor.Service))
        {
            slow = client.GateAsync(42);
            fast = Enumerable.Range(0, 5).Select(i => client.AddAsync(i, i)).ToArray();
        }

        try
        {
            Assert.Equal(new[] { 0, 2, 4, 6, 8 }, await Task.WhenAll(fast).WaitAsync(Bound));
            Assert.False(slow.IsCompleted, "the gated call was answered before its gate opened");
            Assert.Equal(1, server.InFlight); // the batch is settled only once its last call is answered
        }
        finally
        {
            // Opened even when an assertion failed: a handler left waiting forever would hold the server's stop.
            probe.Gate.TrySetResult();
        }

        Assert.Equal(42, await slow.WaitAsync(Bound));
        await Wait.UntilAsync(() => server.InFlight == 0, "the batch was settled");
        Assert.Equal(1, meter.Batches);
    }

    [Fact]
    public async Task A_call_cancelled_while_in_line_is_never_sent_and_the_others_are_answered()
    {
        await using var broker = new TestBroker();
        var (calling, _, probe) = await StartAsync(broker);
        var client = calling.CreateClient<IBatchProbe>();
        using var cancel = new CancellationTokenSource();

        Task<int> cancelled, kept;
        using var metrics = new RpcMetrics(calling.Settings.QueueFor(BatchProbeRpcDescriptor.Service));
        using (calling.Invoker.HoldBatches(BatchProbeRpcDescriptor.Service))
        {
            cancelled = client.EchoAsync(1, cancel.Token);
            kept = client.AddAsync(2, 2);
            cancel.Cancel();
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Bound));
        Assert.Equal(4, await kept.WaitAsync(Bound));
        Assert.Equal(1, probe.Calls);
        Assert.Equal((0L, 0L), metrics.BatchesSent); // one call left in line: it went out alone
    }

    [Fact]
    public async Task Calls_to_a_queue_nobody_reads_batches_of_go_out_alone_and_fail_as_unavailable_at_once()
    {
        await using var broker = new TestBroker();
        var calling = await broker.ConnectAsync(o => o.Client.BatchCalls = true);
        var client = calling.CreateClient<IBatchProbe>();

        Task<int>[] calls;
        using var metrics = new RpcMetrics(calling.Settings.QueueFor(BatchProbeRpcDescriptor.Service));
        using (calling.Invoker.HoldBatches(BatchProbeRpcDescriptor.Service))
        {
            calls = Enumerable.Range(0, 4).Select(i => client.AddAsync(i, 0)).ToArray();
        }

        foreach (var call in calls)
        {
            var unavailable = await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => call.WaitAsync(Bound));
            Assert.Contains("BatchProbe.Add", unavailable.Message);
        }

        // No server reads batches of the queue (there is none at all): the calls never waited for a batch.
        Assert.Equal((0L, 0L), metrics.BatchesSent);
        Assert.Equal(0, calling.PendingCallCount);
    }

    [Fact]
    public async Task With_batching_on_a_lone_call_is_on_the_wire_as_without_it()
    {
        await using var broker = new TestBroker();
        var queue = broker.QueueName("batch-probe");
        broker.Track(queue);
        await using var raw = await RawAmqp.ConnectAsync();
        var seen = await raw.RecordRequestsAsync(queue);
        var calling = await broker.ConnectAsync(o => o.Client.BatchCalls = true);
        var client = calling.CreateClient<IBatchProbe>();

        using (RpcCallOptions.WithTimeout(TimeSpan.FromMilliseconds(500)))
        {
            await Assert.ThrowsAsync<RpcTimeoutException>(() => client.AddAsync(1, 2));
        }

        Assert.True(seen.TryTake(out var request, Bound));
        Assert.Equal("application/json", request!.ContentType);
        Assert.Equal("Add", request.Type);
        Assert.True(request.Headers!.ContainsKey("rpc-deadline"));
    }

    [Fact]
    public async Task A_batch_that_cannot_be_read_is_acked_unrun_and_logged_and_the_server_keeps_serving()
    {
        var logs = new CapturingLoggerFactory();
        await using var broker = new TestBroker();
        var (calling, server, probe) = await StartAsync(broker, server: o => o.LoggerFactory = logs);
        await using var raw = await RawAmqp.ConnectAsync();

        // A request whose body says 1000 bytes follow when 2 do, and a batch of a version no server reads.
        var cutShort = new byte[] { 1, 2, (byte)'i', (byte)'d', 3, (byte)'A', (byte)'d', (byte)'d', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 232, (byte)'{', (byte)'}' };
        var unknownVersion = new byte[] { 9, 1, 2, 3 };
        foreach (var body in new[] { cutShort, unknownVersion })
        {
            var properties = new BasicProperties { ContentType = CallBatch.ContentType, Type = CallBatch.MessageType, CorrelationId = "raw-batch", ReplyTo = "amq.rabbitmq.reply-to" };
            await raw.Channel.BasicPublishAsync("", server.Queue, mandatory: false, properties, body);
        }

        await Wait.UntilAsync(() => logs.Events.Count(e => e.EventId == RpcLogEvents.BatchRejected) == 2, "both batches were rejected");
        var reasons = logs.Events.Where(e => e.EventId == RpcLogEvents.BatchRejected).Select(e => e.Message).ToArray();
        _output.WriteLine(string.Join(Environment.NewLine, reasons));
        Assert.Contains(reasons, m => m.Contains("says its body is 1000 bytes"));
        Assert.Contains(reasons, m => m.Contains("version 9"));
        await Wait.UntilAsync(() => server.InFlight == 0, "both were settled");
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(server.Queue)); // acked, not back in the queue
        Assert.Equal(0, probe.Calls);
        Assert.Equal(5, await calling.CreateClient<IBatchProbe>().AddAsync(2, 3));
    }

    [Fact]
    public async Task Under_load_with_batching_on_every_call_gets_its_own_answer()
    {
        await using var broker = new TestBroker();
        var (calling, server, probe) = await StartAsync(broker);
        using var meter = new ServerMeter(server.Queue);
        var client = calling.CreateClient<IBatchProbe>();
        using var metrics = new RpcMetrics(server.Queue);

        async Task<int> WorkerAsync(int worker)
        {
            int wrong = 0;
            for (int i = 0; i < 50; i++)
            {
                if (await client.AddAsync(worker, i * 1000) != worker + i * 1000) wrong++;
            }

            return wrong;
        }

        var wrongAnswers = await Task.WhenAll(Enumerable.Range(0, 64).Select(w => Task.Run(() => WorkerAsync(w)))).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(wrongAnswers, w => Assert.Equal(0, w));
        Assert.Equal(64 * 50, probe.Calls);
        Assert.Equal(0, calling.PendingCallCount);
        // How many batches formed depends on the host's timing; reported, not asserted.
        _output.WriteLine($"batches sent: {metrics.BatchesSent}; served: {meter.Batches}");
    }
}
