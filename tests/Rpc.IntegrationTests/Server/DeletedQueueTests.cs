using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>
/// An operator (or a script) deletes a service's queue under a running server: the broker cancels the server's
/// consumer (basic.cancel). The server declares the queue again and consumes it, says so in a warning, and calls are
/// answered again within a few seconds instead of the server staying idle for good.
/// </summary>
public sealed class DeletedQueueTests
{
    private readonly ITestOutputHelper _output;

    public DeletedQueueTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_queue_deleted_under_a_running_server_is_declared_again_and_calls_are_answered_within_seconds()
    {
        await using var broker = new TestBroker();
        var logs = new LogCapture();
        var rpc = await broker.ConnectAsync(o =>
        {
            o.LoggerFactory = logs;
            o.Client.DefaultTimeout = TimeSpan.FromSeconds(3);
        });
        var server = await broker.ServeAsync<IFaultService>(rpc, new FaultService());
        var client = rpc.CreateClient<IFaultService>();
        Assert.Equal(1, await client.EchoAsync(1, null));

        await using (var raw = await RawAmqp.ConnectAsync()) await raw.Channel.QueueDeleteAsync(server.Queue, ifUnused: false, ifEmpty: false);
        var sinceDelete = Stopwatch.StartNew();

        // Until the server has declared the queue again a call finds no queue (RpcServiceUnavailableException) or no
        // consumer; it must be answered within the few seconds the server needs to notice.
        int? answer = null;
        var failures = new List<string>();
        while (answer is null && sinceDelete.Elapsed < TimeSpan.FromSeconds(5))
        {
            try
            {
                answer = await client.EchoAsync(2, null);
            }
            catch (Exception e) when (e is RpcServiceUnavailableException or RpcTimeoutException)
            {
                failures.Add(e.GetType().Name);
                await Task.Delay(50);
            }
        }

        _output.WriteLine($"answered {sinceDelete.ElapsedMilliseconds} ms after the delete; {failures.Count} calls failed before: {string.Join(", ", failures.Distinct())}");
        Assert.True(answer == 2, $"no answer within 5 s of the queue's deletion; {failures.Count} calls failed ({string.Join(", ", failures.Distinct())})");
        Assert.True(server.IsConsuming, "the server consumes its queue again");
        var warning = Assert.Single(logs.Entries, e => e.EventId == RpcLogEvents.ConsumerCancelledByBroker);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(server.Queue, warning.Message);

        // Deleted a second time, it comes back again: nothing is used up by the first time.
        await using (var raw = await RawAmqp.ConnectAsync()) await raw.Channel.QueueDeleteAsync(server.Queue, ifUnused: false, ifEmpty: false);
        await Interop.Wait.UntilAsync(() => logs.Entries.Count(e => e.EventId == RpcLogEvents.ConsumerCancelledByBroker) == 2, "the second cancel was logged");
        await Interop.Wait.UntilAsync(() => server.IsConsuming, "consuming again after the second delete");
        Assert.Equal(3, await client.EchoAsync(3, null));
    }

    /// <summary>
    /// The broker loses a durable work queue while a connection is down (RabbitMQ 3.x can, after a kill -9). Recovery
    /// used to declare it again, empty, and say nothing. Here the queue is deleted while the sender's and the server's
    /// connections are cut (a proxy drops them and holds new ones back), which is what recovery meets after such a loss.
    /// </summary>
    [Theory]
    [InlineData(RpcQueueType.Classic)]
    [InlineData(RpcQueueType.Quorum)]
    public async Task A_work_queue_missing_when_the_connection_recovers_is_logged_as_an_error_and_declared_again(RpcQueueType type)
    {
        await using var broker = new TestBroker();
        await using var proxy = new TcpProxy(TestBroker.Uri);
        var senderLogs = new LogCapture();
        var serverLogs = new LogCapture();
        var sender = await broker.ConnectAsync(o => { o.Uri = proxy.Through(TestBroker.Uri); o.LoggerFactory = senderLogs; o.Topology.QueueType = type; });
        var serving = await broker.ConnectAsync(o => { o.Uri = proxy.Through(TestBroker.Uri); o.LoggerFactory = serverLogs; o.Topology.QueueType = type; });
        var jobs = new JobRecorder();
        var server = await broker.ServeAsync<IJobs>(serving, jobs);
        var client = sender.CreateClient<IJobs>();
        await client.RunAsync(1);
        await Interop.Wait.UntilAsync(() => jobs.Runs.Count == 1, "the first job ran");

        proxy.Pause();
        proxy.DropConnections();
        await Interop.Wait.UntilAsync(() => !sender.IsConnected && !serving.IsConnected, "both connections noticed the cut");
        await using (var raw = await RawAmqp.ConnectAsync())
        {
            // The broker may not have closed the server's side yet; its consumer would keep the queue busy, not alive.
            await raw.Channel.QueueDeleteAsync(server.Queue, ifUnused: false, ifEmpty: false);
            // A quorum queue's dead-letter queue is declared with it, so its loss is noticed too.
            if (type == RpcQueueType.Quorum) await raw.Channel.QueueDeleteAsync(server.DeadLetterQueue, ifUnused: false, ifEmpty: false);
        }

        proxy.Resume();
        await Interop.Wait.UntilAsync(() => sender.IsConnected && serving.IsConnected, "both connections recovered", seconds: 30);
        // Whichever connection recovers first finds the queue missing, says so and declares it again; the other may then
        // find it there. So: every lost queue reported as an error at least once, and nothing else reported.
        var lost = senderLogs.Entries.Select(e => ("sender", e)).Concat(serverLogs.Entries.Select(e => ("server", e)))
            .Where(x => x.Item2.EventId == RpcLogEvents.QueueLostByBroker).ToList();
        foreach (var (who, e) in lost) _output.WriteLine($"{who}: {e.Level}: {e.Message}");
        var expected = type == RpcQueueType.Quorum ? new[] { server.Queue, server.DeadLetterQueue } : new[] { server.Queue };
        Assert.All(lost, x => Assert.Equal(LogLevel.Error, x.Item2.Level));
        Assert.Equal(expected.Order(), lost.Select(x => x.Item2.Message.Split('\'')[1]).Distinct().Order());

        if (type == RpcQueueType.Quorum)
        {
            // The dead-letter queue came back with its binding: what the broker dead-letters still reaches it.
            await using (var raw = await RawAmqp.ConnectAsync())
            {
                var dead = new RabbitMQ.Client.BasicProperties { Headers = new Dictionary<string, object?> { ["x-first-death-reason"] = "rejected" } };
                await raw.Channel.BasicPublishAsync(server.DeadLetterQueue, "", mandatory: false, dead, new byte[] { 1 });
            }

            await Interop.Wait.UntilAsync(async () => await RawAmqp.ReadyMessagesAsync(server.DeadLetterQueue) == 1,
                "a message dead-lettered for 'rejected' reached the dead-letter queue declared again");
        }

        // Declared again and consumed: new work is handled.
        await client.RunAsync(2);
        await Interop.Wait.UntilAsync(() => jobs.Runs.Any(r => r.Id == 2), "the job sent after recovery ran");
        Assert.Equal(1u + 0u, (uint)jobs.Runs.Count(r => r.Id == 1));
    }
}

/// <summary>One-way work to a queue deleted after this connection declared it, with no server to declare it again.</summary>
public sealed class DeletedWorkQueueTests
{
    [Fact]
    public async Task Work_sent_after_its_queue_was_deleted_fails_once_as_unavailable_then_the_queue_is_declared_again_and_work_waits_in_it()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromSeconds(3));
        var queue = broker.QueueName("jobs");
        broker.Track(queue);
        var client = rpc.CreateClient<IJobs>();
        await client.RunAsync(1);   // declares the queue

        await using var raw = await RawAmqp.ConnectAsync();
        await raw.Channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);

        // Returned unroutable: it provably did not run, and says so.
        await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => client.RunAsync(2));
        // The next send declares the queue again, and the work waits there for a server.
        await client.RunAsync(3);
        await client.RunAsync(4);
        Assert.Equal(2u, await RawAmqp.ReadyMessagesAsync(queue));
    }
}
