using System.Collections.Concurrent;
using System.Text;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Interop.Tutorials;

/// <summary>
/// The queue and exchange topologies one by one (docs/interop.md, "Meeting existing topology"): what UseExisting finds
/// and refuses, what DeclareAsGiven declares (and leaves out), where failed work goes on such a queue, and errors that say
/// what differs.
/// </summary>
public sealed class ExistingTopologyTests
{
    private static readonly Dictionary<string, object?> s_tutorialQueue = new() { ["x-queue-type"] = "quorum" };

    [Fact]
    public async Task UseExisting_serves_a_queue_with_any_arguments_and_sends_work_to_it()
    {
        await using var broker = new TestBroker();
        var queue = Tracked(broker, "task_queue");
        await using (var raw = await RawAmqp.ConnectAsync())
        {
            await raw.Channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                new Dictionary<string, object?> { ["x-queue-type"] = "quorum", ["x-max-length"] = 1000 });
        }

        var rpc = await broker.ConnectAsync(o => o.Topology.Queues["task_queue"] = RpcQueueTopology.UseExisting);
        var tasks = new Tasks();
        await using var server = await rpc.ServeAsync<ITutorialTasks>(tasks);
        await rpc.CreateClient<ITutorialTasks>().TaskAsync("Hello World.");
        await Wait.UntilAsync(() => tasks.Received.Count == 1, "the task arrived");
        Assert.Equal(queue, server.Queue);
    }

    [Fact]
    public async Task UseExisting_on_a_missing_queue_fails_naming_the_queue_for_servers_and_senders()
    {
        await using var broker = new TestBroker();
        var queue = Tracked(broker, "task_queue");
        var rpc = await broker.ConnectAsync(o => o.Topology.Queues["task_queue"] = RpcQueueTopology.UseExisting);

        var serving = await Assert.ThrowsAsync<RpcException>(() => rpc.ServeAsync<ITutorialTasks>(new Tasks()));
        Assert.Contains($"Queue '{queue}' for TutorialTasks cannot be used: it does not exist", serving.Message);
        Assert.Contains("UseExisting", serving.Message);
        Assert.Equal(RpcStatusCode.Unavailable, serving.StatusCode);

        var sending = await Assert.ThrowsAnyAsync<RpcException>(() => rpc.CreateClient<ITutorialTasks>().TaskAsync("Hello"));
        Assert.Contains($"Queue '{queue}' for TutorialTasks cannot be used: it does not exist", sending.ToString());
        Assert.Equal(RpcStatusCode.Unavailable, sending.StatusCode);
        await using var raw = await RawAmqp.ConnectAsync();
        await Assert.ThrowsAnyAsync<RabbitMQ.Client.Exceptions.OperationInterruptedException>(() => raw.Channel.QueueDeclarePassiveAsync(queue));
    }

    [Fact]
    public async Task Quorum_by_RpcGen_rules_on_the_tutorial_queue_fails_and_says_which_topology_would_meet_it()
    {
        await using var broker = new TestBroker();
        var queue = Tracked(broker, "task_queue");
        await using (var raw = await RawAmqp.ConnectAsync())
        {
            await raw.Channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, s_tutorialQueue);
        }

        var rpc = await broker.ConnectAsync(o => o.Topology.QueueTypes["task_queue"] = RpcQueueType.Quorum);
        var refused = await Assert.ThrowsAsync<RpcException>(() => rpc.ServeAsync<ITutorialTasks>(new Tasks()));
        Assert.Contains("x-dead-letter-exchange", refused.Message);
        Assert.Contains("UseExisting", refused.Message);
        Assert.Contains("DeclareAsGiven", refused.Message);
        Assert.Equal(RpcStatusCode.Internal, refused.StatusCode);
    }

    [Fact]
    public async Task DeclareAsGiven_adds_nothing_and_failed_work_is_still_dead_lettered_by_the_server()
    {
        await using var broker = new TestBroker();
        var queue = Tracked(broker, "task_queue");
        var rpc = await broker.ConnectAsync(o =>
        {
            o.Topology.Queues["task_queue"] = new RpcQueueTopology { Mode = RpcTopologyMode.DeclareAsGiven, Arguments = { ["x-queue-type"] = "quorum" } };
            o.Server.RetryLimit = 1;
            o.Server.RetryBackoff = TimeSpan.FromMilliseconds(10);
        });
        var failing = new Tasks(fail: true);
        await using var server = await rpc.ServeAsync<ITutorialTasks>(failing);

        // The tutorial's own declaration is equivalent: nothing was added (a dead-letter exchange or a delivery limit
        // would make the broker refuse it).
        await using var producer = TutorialPeer.Start(TutorialLanguage.DotNet, "new_task", PeerUri(), queue, "Hello World...");
        await producer.WaitForSuccessAsync();

        await Wait.UntilAsync(() => server.DeadLettered == 1, $"dead-lettered {server.DeadLettered}");
        Assert.Equal(2, failing.Received.Count);   // the first run and one retry
        Assert.Equal(queue + ".dead-letter", server.DeadLetterQueue);
        await using var raw = await RawAmqp.ConnectAsync();
        var deadLetter = await raw.Channel.BasicGetAsync(server.DeadLetterQueue, autoAck: true);
        Assert.NotNull(deadLetter);
        Assert.Equal("Hello World...", Encoding.UTF8.GetString(deadLetter.Body.Span));
        Assert.Equal("System.InvalidOperationException", Encoding.UTF8.GetString((byte[])deadLetter.BasicProperties.Headers!["rpc-error-type"]!));
    }

    [Fact]
    public async Task An_exchange_that_differs_only_in_durability_is_reported_as_such_and_met_with_UseExisting()
    {
        await using var broker = new TestBroker();
        var exchange = broker.Exchange("topic_logs");
        await using (var raw = await RawAmqp.ConnectAsync())
        {
            await raw.Channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: false);
        }

        var declaring = await broker.ConnectAsync();
        var refused = await Assert.ThrowsAnyAsync<RpcException>(() => declaring.CreatePublisher<ITutorialTopicLogs>().LogAsync("kern.critical", "x"));
        Assert.Contains("inequivalent arg 'durable'", refused.Message);
        Assert.Contains("same type but is not durable", refused.Message);
        Assert.DoesNotContain("another type", refused.Message);
        Assert.Equal(RpcStatusCode.Internal, refused.StatusCode);

        var rpc = await broker.ConnectAsync(o => o.Topology.Exchanges["topic_logs"] = RpcExchangeTopology.UseExisting);
        var logs = new Tasks();
        await using var subscriber = await rpc.SubscribeAsync<ITutorialTopicLogs>(logs, new RpcSubscription { Bindings = { "kern.*" } });
        await rpc.CreatePublisher<ITutorialTopicLogs>().LogAsync("kern.critical", "A critical kernel error");
        await Wait.UntilAsync(() => logs.Received.Count == 1, "the log arrived");
        Assert.Equal(["kern.critical|A critical kernel error"], logs.Received);
    }

    [Fact]
    public async Task An_exchange_of_another_type_is_reported_as_such()
    {
        await using var broker = new TestBroker();
        var exchange = broker.Exchange("topic_logs");
        await using (var raw = await RawAmqp.ConnectAsync())
        {
            await raw.Channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true);
        }

        var rpc = await broker.ConnectAsync();
        var refused = await Assert.ThrowsAsync<RpcException>(() => rpc.SubscribeAsync<ITutorialTopicLogs>(new Tasks(), new RpcSubscription()));
        Assert.Contains("inequivalent arg 'type'", refused.Message);
        Assert.Contains("another type", refused.Message);
    }

    [Fact]
    public async Task UseExisting_on_a_missing_exchange_fails_naming_it()
    {
        await using var broker = new TestBroker();
        var exchange = broker.Exchange("topic_logs");
        var rpc = await broker.ConnectAsync(o => o.Topology.Exchanges["topic_logs"] = RpcExchangeTopology.UseExisting);

        var refused = await Assert.ThrowsAsync<RpcException>(() => rpc.SubscribeAsync<ITutorialTopicLogs>(new Tasks(), new RpcSubscription()));
        Assert.Contains($"Exchange '{exchange}' for TutorialTopicLogs cannot be used", refused.Message);
        Assert.Contains("UseExisting", refused.Message);
        Assert.Equal(RpcStatusCode.Unavailable, refused.StatusCode);
    }

    [Fact]
    public async Task A_named_subscription_queue_used_as_it_exists_gets_only_the_bindings_listed()
    {
        await using var broker = new TestBroker();
        var exchange = broker.Exchange("topic_logs");
        var queue = Tracked(broker, "kernel-logs");
        await using (var raw = await RawAmqp.ConnectAsync())
        {
            await raw.Channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: false);
            await raw.Channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, s_tutorialQueue);
            await raw.Channel.QueueBindAsync(queue, exchange, "kern.*");
        }

        var rpc = await broker.ConnectAsync(o => o.Topology.Exchanges["topic_logs"] = RpcExchangeTopology.UseExisting);
        var logs = new Tasks();
        await using var subscriber = await rpc.SubscribeAsync<ITutorialTopicLogs>(logs,
            new RpcSubscription { Queue = "kernel-logs", QueueTopology = RpcQueueTopology.UseExisting });
        var publisher = rpc.CreatePublisher<ITutorialTopicLogs>();
        await publisher.LogAsync("cron.info", "not bound: no default '#' was added");
        await publisher.LogAsync("kern.info", "bound by its owner");
        await Wait.UntilAsync(() => logs.Received.Count == 1, "the bound log arrived");
        await Task.Delay(200);
        Assert.Equal(["kern.info|bound by its owner"], logs.Received);
    }

    private static string Tracked(TestBroker broker, string queue)
    {
        broker.Track(broker.QueueName(queue));
        return broker.QueueName(queue);
    }

    private static string PeerUri() => TestBroker.Uri.AbsoluteUri;

    private sealed class Tasks(bool fail = false) : ITutorialTasks, ITutorialTopicLogs
    {
        private readonly ConcurrentQueue<string> _received = new();

        public IReadOnlyList<string> Received => _received.ToArray();

        public Task TaskAsync(string message)
        {
            _received.Enqueue(message);
            return fail ? Task.FromException(new InvalidOperationException("the task failed")) : Task.CompletedTask;
        }

        public Task LogAsync(string routingKey, string message)
        {
            _received.Enqueue(routingKey + "|" + message);
            return Task.CompletedTask;
        }
    }
}
