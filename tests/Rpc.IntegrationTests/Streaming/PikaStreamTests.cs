using System.Text.Json;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.IntegrationTests.Streaming;

/// <summary>The stream_client.py example of docs/wire-format.md consumes RpcGen streams with nothing but pika.</summary>
[Collection(StreamingCollection.Name)]
public sealed class PikaStreamTests
{
    [Fact]
    public async Task A_pika_consumer_granting_credit_gets_every_item_the_error_marker_and_can_cancel()
    {
        await using var broker = new TestBroker();
        var counter = new Counter();
        var server = await broker.ServeAsync<Shapes.Streaming.ICounter>(await broker.ConnectAsync(), counter);
        var queue = broker.QueueName("Counter");

        // A window of 16 for 1000 items: the stream completes only if the script's credit reaches the server.
        var all = Parse(await RunAsync(queue, "Count", "1000", "--window", "16"));
        Assert.True(all.GetProperty("ok").GetBoolean());
        Assert.Equal(Enumerable.Range(0, 1000), all.GetProperty("items").EnumerateArray().Select(i => i.GetInt32()));

        var broken = Parse(await RunAsync(queue, "BreakAt", "5"));
        Assert.False(broken.GetProperty("ok").GetBoolean());
        Assert.Equal(typeof(Shapes.Streaming.CountBrokeException).FullName, broken.GetProperty("type").GetString());
        Assert.Equal(Enumerable.Range(0, 5), broken.GetProperty("items").EnumerateArray().Select(i => i.GetInt32()));

        var cancelled = Parse(await RunAsync(queue, "Tick", """{"n": 100000, "delayMs": 1, "fail": false}""", "--take", "20"));
        Assert.True(cancelled.GetProperty("cancelled").GetBoolean());
        Assert.Equal(20, cancelled.GetProperty("items").GetArrayLength());
        await Wait.UntilAsync(() => Volatile.Read(ref counter.Finished) == Volatile.Read(ref counter.Started), "the cancelled enumeration's finally ran");
        Assert.True(counter.Finallies.Last().Cancelled);
        await Wait.UntilAsync(() => server.InFlight == 0, "no call running on the server");
    }

    private static Task<IReadOnlyList<string>> RunAsync(string queue, string method, string body, params string[] options) =>
        PythonScript.RunAsync(TimeSpan.FromSeconds(60), "stream_client.py",
            new[] { "--amqp", TestBroker.Uri.ToString() }.Concat(options).Concat(new[] { queue, method, body }).ToArray());

    private static JsonElement Parse(IReadOnlyList<string> lines) => JsonDocument.Parse(Assert.Single(lines)).RootElement;
}
