using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Interop;

/// <summary>An RpcGen client calls a plain pika server in the tutorial's shape (docs/wire-format.md).</summary>
public sealed class PikaServerTests
{
    [Fact]
    public async Task An_RpcGen_client_gets_fibonacci_numbers_from_a_tutorial_pika_server()
    {
        await using var broker = new TestBroker();
        var queue = broker.QueueName("tutorial-fib");
        var sequential = new[] { 0, 1, 2, 10, 30, 50, 92 };
        var concurrent = Enumerable.Range(0, 50).Select(i => (i * 11) % 93).ToArray();
        await using var server = PythonScript.Start("fib_server.py",
            "--amqp", TestBroker.Uri.ToString(), "--queue", queue,
            "--requests", (sequential.Length + concurrent.Length).ToString(), "--seconds", "60");
        try
        {
            await server.WaitForLineAsync("serving " + queue, TimeSpan.FromSeconds(20));
            var rpc = await broker.ConnectAsync();
            var fibonacci = rpc.CreateClient<ITutorialFibonacci>();

            foreach (var n in sequential) Assert.Equal(Fib(n), await fibonacci.FibAsync(n));
            // prefetch_count=1 serves these one at a time; each reply still finds its own call by correlation id.
            var results = await Task.WhenAll(concurrent.Select(n => fibonacci.FibAsync(n)));
            Assert.Equal(concurrent.Select(Fib), results);

            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(sequential.Length + concurrent.Length, server.Output.Count(line => line.StartsWith("fib(", StringComparison.Ordinal)));
            Assert.Equal(0, rpc.PendingCallCount);
        }
        finally
        {
            await DeleteQueueAsync(queue);
        }
    }

    private static long Fib(int n)
    {
        long previous = 1, current = 0;
        for (int i = 0; i < n; i++) (previous, current) = (current, previous + current);
        return current;
    }

    /// <summary>The pika server declares its own queue (not durable, not auto-delete): remove it after the test.</summary>
    private static async Task DeleteQueueAsync(string queue)
    {
        await using var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeleteAsync(queue);
    }
}
