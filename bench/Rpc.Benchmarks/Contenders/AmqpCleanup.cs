using RabbitMQ.Client.Exceptions;

namespace RpcGen.Benchmarks.Contenders;

/// <summary>Removes what a run declared on the shared broker, so runs leave nothing behind.</summary>
internal static class AmqpCleanup
{
    public static async Task DeleteQueuesAsync(BenchEnvironment environment, params string[] queues)
    {
        try
        {
            await using var connection = await environment.ConnectionFactory("cleanup").CreateConnectionAsync();
            foreach (var queue in queues)
            {
                await using var channel = await connection.CreateChannelAsync();
                try
                {
                    await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
                }
                catch (OperationInterruptedException)
                {
                    // Already gone.
                }
            }
        }
        catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException or AlreadyClosedException)
        {
            Console.Error.WriteLine($"bench: could not delete queues {string.Join(", ", queues)}: {e.Message}");
        }
    }
}
