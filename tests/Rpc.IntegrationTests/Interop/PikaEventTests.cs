using System.Collections.Concurrent;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.Events;
using Xunit;

namespace RpcGen.IntegrationTests.Interop;

/// <summary>
/// The RabbitMQ tutorials' publish/subscribe patterns with plain pika scripts (events.py) on one side and RpcGen on the
/// other, both ways: fanout 'logs', direct with two bindings, topic with '*' and '#' (docs/wire-format.md, "Events").
/// </summary>
public sealed class PikaEventTests
{
    [Fact]
    public async Task Fanout_logs_a_pika_receiver_gets_RpcGen_events_and_an_RpcGen_subscriber_gets_pika_messages()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var exchange = broker.Exchange("logs");

        await using (var receiver = PythonScript.Start("events.py", "receive", "--amqp", TestBroker.Uri.ToString(), "--exchange", exchange, "--type", "fanout", "--count", "1"))
        {
            await receiver.WaitForLineAsync("ready", TimeSpan.FromSeconds(20));
            await rpc.CreatePublisher<ILogs>().LogAsync("info: hello");
            Assert.Equal(0, await receiver.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Contains("Log \"info: hello\"", receiver.Output);   // no [RpcRoutingKey]: the wire name, which fanout ignores
        }

        var logs = new Recorder();
        await using var subscriber = await rpc.SubscribeAsync<ILogs>(logs, new RpcSubscription());
        await EmitAsync(exchange, "fanout", "\"warning: from pika\"");
        await Wait.UntilAsync(() => logs.Received.Count == 1, "the pika message arrived");
        Assert.Equal(new[] { "|warning: from pika" }, logs.Received);
    }

    [Fact]
    public async Task Direct_with_two_bindings_routes_nb_and_bnb_and_nothing_else_both_ways()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var exchange = broker.Exchange("direct_logs");

        await using (var receiver = PythonScript.Start("events.py", "receive", "--amqp", TestBroker.Uri.ToString(), "--exchange", exchange, "--type", "direct",
            "--key", "nb", "--key", "bnb", "--count", "2"))
        {
            await receiver.WaitForLineAsync("ready", TimeSpan.FromSeconds(20));
            var publisher = rpc.CreatePublisher<IDirectLogs>();
            await publisher.LogAsync("other", "dropped");
            await publisher.LogAsync("nb", "first");
            await publisher.LogAsync("bnb", "second");
            Assert.Equal(0, await receiver.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            // One body parameter besides the routing key: the body is its JSON value.
            Assert.Equal(new[] { "bnb \"second\"", "nb \"first\"" }, receiver.Output.Where(l => l != "ready").Order());
        }

        var logs = new Recorder();
        await using var subscriber = await rpc.SubscribeAsync<IDirectLogs>(logs, new RpcSubscription { Bindings = { "nb", "bnb" } });
        await EmitAsync(exchange, "direct", "\"from pika\"", "x", "nb", "bnb");
        await Wait.UntilAsync(() => logs.Received.Count == 2, $"{logs.Received.Count} of 2 arrived");
        await Task.Delay(300);
        Assert.Equal(new[] { "bnb|from pika", "nb|from pika" }, logs.Received.Order());
    }

    [Fact]
    public async Task Topic_star_matches_one_word_and_hash_any_number_both_ways()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var exchange = broker.Exchange("topic_logs");

        await using (var receiver = PythonScript.Start("events.py", "receive", "--amqp", TestBroker.Uri.ToString(), "--exchange", exchange, "--type", "topic",
            "--key", "lqz.*", "--count", "1"))
        {
            await receiver.WaitForLineAsync("ready", TimeSpan.FromSeconds(20));
            var publisher = rpc.CreatePublisher<ITopicLogs>();
            await publisher.LogAsync("lqz.a.b", "two words: not for lqz.*");
            await publisher.LogAsync("lqz", "no word: not for lqz.*");
            await publisher.LogAsync("lqz.a", "one word");
            Assert.Equal(0, await receiver.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(new[] { "lqz.a \"one word\"" }, receiver.Output.Where(l => l != "ready"));
        }

        var logs = new Recorder();
        await using var subscriber = await rpc.SubscribeAsync<ITopicLogs>(logs, new RpcSubscription { Bindings = { "lqz.#" } });
        await EmitAsync(exchange, "topic", "\"m\"", "lqz", "lqz.a.b.c", "other.lqz");
        await Wait.UntilAsync(() => logs.Received.Count == 2, $"{logs.Received.Count} of 2 arrived");
        await Task.Delay(300);
        Assert.Equal(new[] { "lqz.a.b.c|m", "lqz|m" }, logs.Received.Order());
    }

    private static async Task EmitAsync(string exchange, string type, string body, params string[] keys)
    {
        var arguments = new List<string> { "emit", "--amqp", TestBroker.Uri.ToString(), "--exchange", exchange, "--type", type, "--body", body };
        foreach (var key in keys) arguments.AddRange(["--key", key]);
        await using var emitter = PythonScript.Start("events.py", arguments.ToArray());
        Assert.Equal(0, await emitter.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    private sealed class Recorder : ILogs, IDirectLogs, ITopicLogs
    {
        public ConcurrentQueue<string> Received { get; } = new();

        public Task LogAsync(string message)
        {
            Received.Enqueue("|" + message);
            return Task.CompletedTask;
        }

        Task IDirectLogs.LogAsync(string severity, string message) => Add(severity, message);

        Task ITopicLogs.LogAsync(string key, string message) => Add(key, message);

        private Task Add(string key, string message)
        {
            Received.Enqueue(key + "|" + message);
            return Task.CompletedTask;
        }
    }
}
