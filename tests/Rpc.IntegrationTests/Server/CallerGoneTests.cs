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
    private const int SlowArgument = 1234;

    [Fact]
    public async Task A_pika_caller_on_direct_reply_to_that_gave_up_and_left_does_not_harm_the_server()
    {
        await using var broker = new TestBroker();
        var implementation = new GatedCalculator();
        var server = await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), implementation);

        // Waits 2 s for a reply that cannot come before the gate opens, then closes its connection and exits.
        await using (var caller = PythonScript.Start("json_client.py", "--amqp", TestBroker.Uri.ToString(), "--timeout", "2",
                         server.Queue, "Slow", SlowArgument.ToString()))
        {
            Assert.Equal(1, await caller.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("no reply to 'Slow'", caller.Errors);
        }

        await AssertServerAnswersTheGoneCallerAndServesOnAsync(broker, server, implementation);
    }

    [Fact]
    public async Task A_caller_whose_exclusive_callback_queue_is_gone_does_not_harm_the_server()
    {
        await using var broker = new TestBroker();
        var implementation = new GatedCalculator();
        var server = await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), implementation);

        await using (var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            var callbackQueue = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
            var properties = new BasicProperties { ReplyTo = callbackQueue, CorrelationId = "gone-1", Type = "Slow" };
            await channel.BasicPublishAsync("", server.Queue, mandatory: false, properties, System.Text.Encoding.UTF8.GetBytes(SlowArgument.ToString()));
            await implementation.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await connection.CloseAsync(); // the exclusive queue is deleted with the connection
        }

        await AssertServerAnswersTheGoneCallerAndServesOnAsync(broker, server, implementation);
    }

    [Fact]
    public async Task An_RpcGen_caller_that_disconnected_mid_call_does_not_harm_the_server()
    {
        await using var broker = new TestBroker();
        var implementation = new GatedCalculator();
        var server = await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), implementation);
        var caller = await RpcConnection.ConnectAsync(broker.Options());

        var call = caller.CreateClient<ICalculator>().SlowAsync(SlowArgument);
        await implementation.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await caller.DisposeAsync();

        await Assert.ThrowsAsync<RpcConnectionException>(() => call);
        await AssertServerAnswersTheGoneCallerAndServesOnAsync(broker, server, implementation);
    }

    /// <summary>Opens the gate once the caller is gone, so the server's reply is certain to find no one.</summary>
    private static async Task AssertServerAnswersTheGoneCallerAndServesOnAsync(TestBroker broker, RpcServer server, GatedCalculator implementation)
    {
        await implementation.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, server.Served);
        Assert.Equal(1, server.InFlight);
        implementation.Gate.SetResult();

        // The handler finishes, the reply goes nowhere, and the request is acked: nothing blocks.
        await Wait.UntilAsync(() => server.Served == 1 && server.InFlight == 0,
            $"served {server.Served}, in flight {server.InFlight} after the caller left");

        // The same server (same channel) answers the next callers, and the abandoned request never comes back.
        var rpc = await broker.ConnectAsync();
        Assert.Equal(42, await rpc.CreateClient<ICalculator>().AddAsync(40, 2));
        var lines = await PythonScript.RunAsync(TimeSpan.FromSeconds(30), "json_client.py", "--amqp", TestBroker.Uri.ToString(),
            server.Queue, "Add", """{"a": 1, "b": 2}""");
        Assert.Equal(new[] { """{"ok": true, "result": 3}""" }, lines);
        await Wait.UntilAsync(() => server.Served == 3, $"served {server.Served} of 3");
        Assert.Equal(1, implementation.SlowCalls);
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(server.Queue));
    }

    /// <summary>A calculator whose Slow call waits until the test opens the gate (at most 30 s, so nothing hangs).</summary>
    private sealed class GatedCalculator : Calculator
    {
        private int _slowCalls;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int SlowCalls => Volatile.Read(ref _slowCalls);

        public override async Task<int> SlowAsync(int milliseconds, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _slowCalls);
            Entered.TrySetResult();
            await Gate.Task.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            return milliseconds;
        }

    }
}
