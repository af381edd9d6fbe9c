using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Interop;

/// <summary>
/// The caller disconnects before the server replies (docs/wire-format.md, "When the caller is gone"): the broker
/// drops the reply, and the server neither fails nor blocks nor redelivers; it acks and goes on serving.
/// </summary>
public sealed class CallerGoneTests
{
    private const int SlowMilliseconds = 1500;

    [Fact]
    public async Task A_pika_caller_on_direct_reply_to_that_gave_up_and_left_does_not_harm_the_server()
    {
        await using var broker = new TestBroker();
        var implementation = new Calculator();
        var server = await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), implementation);

        // Waits 0.3 s for a call that takes 1.5 s, then closes its connection and exits.
        await using (var caller = PythonScript.Start("json_client.py", "--amqp", TestBroker.Uri.ToString(), "--timeout", "0.3",
                         server.Queue, "Slow", SlowMilliseconds.ToString()))
        {
            Assert.Equal(1, await caller.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("no reply to 'Slow'", caller.Errors);
        }

        Assert.Empty(implementation.SlowCallsFinished); // the caller was gone before the server replied
        await AssertServerAnsweredAndServesOnAsync(broker, server, implementation);
    }

    [Fact]
    public async Task A_caller_whose_exclusive_callback_queue_is_gone_does_not_harm_the_server()
    {
        await using var broker = new TestBroker();
        var implementation = new Calculator();
        var server = await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), implementation);

        await using (var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            var callbackQueue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
            var properties = new BasicProperties { ReplyTo = callbackQueue, CorrelationId = "gone-1", Type = "Slow" };
            await channel.BasicPublishAsync("", server.Queue, mandatory: false, properties, System.Text.Encoding.UTF8.GetBytes(SlowMilliseconds.ToString()));
            await Wait.UntilAsync(() => server.InFlight == 1, "the server did not take the request");
            await connection.CloseAsync(); // the exclusive queue is deleted with the connection
        }

        Assert.Empty(implementation.SlowCallsFinished);
        await AssertServerAnsweredAndServesOnAsync(broker, server, implementation);
    }

    [Fact]
    public async Task An_RpcGen_caller_that_disconnected_mid_call_does_not_harm_the_server()
    {
        await using var broker = new TestBroker();
        var implementation = new Calculator();
        var server = await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), implementation);
        var caller = await RpcConnection.ConnectAsync(broker.Options());

        var call = caller.CreateClient<ICalculator>().SlowAsync(SlowMilliseconds);
        await Wait.UntilAsync(() => server.InFlight == 1, "the server did not take the request");
        await caller.DisposeAsync();

        await Assert.ThrowsAsync<RpcConnectionException>(() => call);
        Assert.Empty(implementation.SlowCallsFinished);
        await AssertServerAnsweredAndServesOnAsync(broker, server, implementation);
    }

    private static async Task AssertServerAnsweredAndServesOnAsync(TestBroker broker, RpcServer server, Calculator implementation)
    {
        // The handler finishes, the reply goes nowhere, and the request is acked: nothing blocks.
        await Wait.UntilAsync(() => server.Served == 1 && server.InFlight == 0,
            $"served {server.Served}, in flight {server.InFlight} after the caller left");
        Assert.Equal(new[] { SlowMilliseconds }, implementation.SlowCallsFinished);

        // The same server (same channel) answers the next callers, and the abandoned request never comes back.
        var rpc = await broker.ConnectAsync();
        Assert.Equal(42, await rpc.CreateClient<ICalculator>().AddAsync(40, 2));
        var lines = await PythonScript.RunAsync(TimeSpan.FromSeconds(30), "json_client.py", "--amqp", TestBroker.Uri.ToString(),
            server.Queue, "Add", """{"a": 1, "b": 2}""");
        Assert.Equal(new[] { """{"ok": true, "result": 3}""" }, lines);
        await Wait.UntilAsync(() => server.Served == 3, $"served {server.Served} of 3");
        Assert.Single(implementation.SlowCallsFinished);
        Assert.Equal(0u, await MessageCountAsync(server.Queue));
    }

    private static async Task<uint> MessageCountAsync(string queue)
    {
        await using var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }
}
