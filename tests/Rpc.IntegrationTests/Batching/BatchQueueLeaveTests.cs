using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.Wire;
using Xunit;

namespace RpcGen.IntegrationTests.Batching;

/// <summary>
/// The last server that reads a queue's batches stops (docs/architecture.md, "Who reads batches"): a batch that reaches
/// the batch queue after it stopped reading, from a client that did not know yet, is answered before the server deletes
/// the queue; the queue is then gone, so the next batch comes back to its client instead of waiting in it.
/// </summary>
public sealed class BatchQueueLeaveTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private sealed class HeldCalculator : Calculator
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task<int> SlowAsync(int milliseconds, CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            await Release.Task;
            return milliseconds;
        }
    }

    [Fact]
    public async Task A_batch_that_reaches_the_batch_queue_while_its_last_reader_drains_is_answered_before_the_queue_is_deleted()
    {
        await using var broker = new TestBroker();
        var serving = await broker.ConnectAsync();
        var calculator = new HeldCalculator();
        var server = await broker.ServeAsync<ICalculator>(serving, calculator);
        var batchQueue = CallBatch.QueueFor(server.Queue);
        var calling = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromSeconds(20));
        var client = calling.CreateClient<ICalculator>();
        Assert.True(await calling.Invoker.CheckBatchReadersAsync(CalculatorRpcDescriptor.Service));

        // A call the server holds keeps it draining once it stops.
        var held = client.SlowAsync(7);
        await calculator.Started.Task.WaitAsync(Bound);

        Task<int>[] calls;
        Task stopping;
        using (calling.Invoker.HoldBatches(CalculatorRpcDescriptor.Service))
        {
            calls = Enumerable.Range(0, 10).Select(i => client.AddAsync(i, 100)).ToArray();
            stopping = server.DisposeAsync().AsTask();
            await Wait.UntilAsync(async () => (await ConsumersAsync(batchQueue)) == 0, "the stopping server no longer reads batches");
        }

        // The client did not know: its batch went to the batch queue, where nobody reads it now.
        await Wait.UntilAsync(async () => (await RawAmqp.ReadyMessagesAsync(batchQueue)) == 1, "the batch waits in the batch queue");
        calculator.Release.SetResult();

        Assert.Equal(Enumerable.Range(100, 10), await Task.WhenAll(calls).WaitAsync(Bound));
        Assert.Equal(7, await held.WaitAsync(Bound));
        await stopping.WaitAsync(Bound);
        Assert.Equal(0, calling.Invoker.BatchesSentAgainAlone);
        var gone = await Assert.ThrowsAsync<OperationInterruptedException>(() => ConsumersAsync(batchQueue));
        Assert.Equal((ushort)404, gone.ShutdownReason!.ReplyCode);
    }

    private static async Task<uint> ConsumersAsync(string queue)
    {
        await using var connection = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount;
    }
}
