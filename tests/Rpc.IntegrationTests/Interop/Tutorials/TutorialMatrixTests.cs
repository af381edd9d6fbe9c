using System.Collections.Concurrent;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Interop.Tutorials;

/// <summary>
/// The official RabbitMQ tutorials' programs (equivalents in five languages: README.md beside this file) against RpcGen,
/// both ways: the work queue (a quorum <c>task_queue</c> declared with only <c>x-queue-type</c>, persistent text bodies),
/// the topic exchange (a non-durable <c>topic_logs</c>, text bodies) and RPC (<c>rpc_queue</c>, numbers as text).
/// The table of pairs is docs/interop.md's "Meeting existing topology".
/// </summary>
public sealed class TutorialMatrixTests
{
    private static readonly string[] s_tasks = ["Hello World.", "Hello World...", "Grüße, 世界 ✓"];
    private static readonly string[] s_bindings = ["kern.*", "*.critical"];

    // What the tutorial's receive_logs_topic is run with ("kern.*" "*.critical"), and what reaches it.
    private static readonly (string Key, string Message)[] s_logs =
    [
        ("kern.critical", "A critical kernel error"),
        ("anonymous.info", "not bound"),
        ("cron.critical", "Grüße, 世界 ✓"),
    ];

    /// <summary>
    /// The broker for the peers, its virtual host spelled out: the Java client reads the "/" of <c>amqp://host:5672/</c>
    /// as the empty virtual host, the others as the default one.
    /// </summary>
    private static readonly string PeerUri = new UriBuilder(TestBroker.Uri) { Path = TestBroker.Uri.AbsolutePath is "" or "/" ? "/%2F" : TestBroker.Uri.AbsolutePath }.Uri.AbsoluteUri;

    public static TheoryData<TutorialLanguage> Languages => new(Enum.GetValues<TutorialLanguage>());

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task Work_queue_a_tutorial_new_task_feeds_an_RpcGen_server(TutorialLanguage language)
    {
        await using var broker = new TestBroker();
        var queue = Track(broker, "task_queue");
        await using (var producer = TutorialPeer.Start(language, "new_task", [PeerUri, queue, .. s_tasks]))
        {
            await producer.WaitForSuccessAsync();
        }

        var rpc = await broker.ConnectAsync(UseTutorialTopology);
        var worker = new Recorder();
        await using var server = await rpc.ServeAsync<ITutorialTasks>(worker);
        await Wait.UntilAsync(() => worker.Received.Count == s_tasks.Length, $"{worker.Received.Count} of {s_tasks.Length} tasks arrived", 20);
        // A server runs up to its prefetch at once: the tasks arrive all, in any order.
        Assert.Equal(s_tasks.Order(), worker.Received.Order());
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task Work_queue_an_RpcGen_client_feeds_a_tutorial_worker(TutorialLanguage language)
    {
        await using var broker = new TestBroker();
        var queue = Track(broker, "task_queue");
        await using var worker = TutorialPeer.Start(language, "worker", PeerUri, queue, s_tasks.Length.ToString());
        await worker.WaitForLineAsync("ready");

        var rpc = await broker.ConnectAsync(UseTutorialTopology);
        var tasks = rpc.CreateClient<ITutorialTasks>();
        foreach (var task in s_tasks) await tasks.TaskAsync(task);

        await worker.WaitForSuccessAsync();
        // A tutorial worker prints the body as it is: RpcGen sends JSON, so a string arrives in quotes.
        Assert.Equal(s_tasks.Select(Quoted), worker.LinesAfter("received "));
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task Topic_a_tutorial_emit_log_topic_reaches_an_RpcGen_subscriber(TutorialLanguage language)
    {
        await using var broker = new TestBroker();
        var exchange = broker.Exchange("topic_logs");
        await using var emitter = TutorialPeer.Start(language, "emit_log_topic",
            [PeerUri, exchange, .. s_logs.Select(log => log.Key + "=" + log.Message)]);
        await emitter.WaitForLineAsync("declared");

        var rpc = await broker.ConnectAsync(UseTutorialTopology);
        var logs = new Recorder();
        var subscription = new RpcSubscription();
        foreach (var binding in s_bindings) subscription.Bindings.Add(binding);
        await using var subscriber = await rpc.SubscribeAsync<ITutorialTopicLogs>(logs, subscription);

        await emitter.WriteLineAsync("go");
        await emitter.WaitForSuccessAsync();
        await Wait.UntilAsync(() => logs.Received.Count == 2, $"{logs.Received.Count} of 2 logs arrived", 20);
        Assert.Equal(new[] { "cron.critical|Grüße, 世界 ✓", "kern.critical|A critical kernel error" }.Order(), logs.Received.Order());
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task Topic_an_RpcGen_publisher_reaches_a_tutorial_receive_logs_topic(TutorialLanguage language)
    {
        await using var broker = new TestBroker();
        var exchange = broker.Exchange("topic_logs");
        await using var receiver = TutorialPeer.Start(language, "receive_logs_topic", [PeerUri, exchange, "2", .. s_bindings]);
        await receiver.WaitForLineAsync("ready");

        var rpc = await broker.ConnectAsync(UseTutorialTopology);
        var publisher = rpc.CreatePublisher<ITutorialTopicLogs>();
        foreach (var (key, message) in s_logs) await publisher.LogAsync(key, message);

        await receiver.WaitForSuccessAsync();
        Assert.Equal(["kern.critical:" + Quoted("A critical kernel error"), "cron.critical:" + Quoted("Grüße, 世界 ✓")], receiver.LinesAfter("received "));
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task Rpc_a_tutorial_client_calls_an_RpcGen_server(TutorialLanguage language)
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await using var server = await broker.ServeAsync<ITutorialRpc>(rpc, new Fibonacci());

        await using var client = TutorialPeer.Start(language, "rpc_client", PeerUri, server.Queue, "10", "30");
        await client.WaitForSuccessAsync();
        Assert.Equal(["fib(10)=55", "fib(30)=832040"], client.Output);
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task Rpc_an_RpcGen_client_calls_a_tutorial_server(TutorialLanguage language)
    {
        await using var broker = new TestBroker();
        var queue = Track(broker, "rpc_queue");
        await using var server = TutorialPeer.Start(language, "rpc_server", PeerUri, queue, "2");
        await server.WaitForLineAsync("ready");

        var rpc = await broker.ConnectAsync();
        var fibonacci = rpc.CreateClient<ITutorialRpc>();
        Assert.Equal(55, await fibonacci.FibAsync(10));
        Assert.Equal(832040, await fibonacci.FibAsync(30));
        await server.WaitForSuccessAsync();
    }

    /// <summary>
    /// How RpcGen is told to meet the tutorials' queue and exchange: declared as the tutorials declare them, so either
    /// side may come first (UseExisting would need the tutorial's side first).
    /// </summary>
    private static void UseTutorialTopology(RpcConnectionOptions options)
    {
        options.Topology.Queues["task_queue"] = new RpcQueueTopology { Mode = RpcTopologyMode.DeclareAsGiven, Arguments = { ["x-queue-type"] = "quorum" } };
        options.Topology.Exchanges["topic_logs"] = new RpcExchangeTopology { Mode = RpcTopologyMode.DeclareAsGiven, Durable = false };
    }

    private static string Track(TestBroker broker, string queue)
    {
        broker.Track(broker.QueueName(queue));
        return broker.QueueName(queue);
    }

    /// <summary>The JSON RpcGen sends for a string with its default serializer options: non-ASCII escaped as <c>\uXXXX</c>.</summary>
    private static string Quoted(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private sealed class Recorder : ITutorialTasks, ITutorialTopicLogs
    {
        private readonly ConcurrentQueue<string> _received = new();

        public IReadOnlyList<string> Received => _received.ToArray();

        public Task TaskAsync(string message)
        {
            _received.Enqueue(message);
            return Task.CompletedTask;
        }

        public Task LogAsync(string routingKey, string message)
        {
            _received.Enqueue(routingKey + "|" + message);
            return Task.CompletedTask;
        }
    }

    private sealed class Fibonacci : ITutorialRpc
    {
        public Task<int> FibAsync(int n)
        {
            int a = 0, b = 1;
            for (int i = 0; i < n; i++) (a, b) = (b, a + b);
            return Task.FromResult(a);
        }
    }
}

/// <summary>The tutorials' work queue as an RpcGen service: one one-way method, whose single string is the task.</summary>
[RpcService(Queue = "task_queue")]
internal interface ITutorialTasks
{
    [RpcMethod(OneWay = true)]
    Task TaskAsync(string message);
}

/// <summary>The tutorials' topic exchange as RpcGen events: the routing key and the text.</summary>
[RpcEvents(Exchange = "topic_logs", Type = RpcExchangeType.Topic)]
internal interface ITutorialTopicLogs
{
    Task LogAsync([RpcRoutingKey] string routingKey, string message);
}

/// <summary>The tutorials' RPC queue.</summary>
[RpcService(Queue = "rpc_queue")]
internal interface ITutorialRpc
{
    Task<int> FibAsync(int n);
}
