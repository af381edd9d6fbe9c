using Microsoft.Extensions.Time.Testing;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Batching;

/// <summary>
/// How often a client asks the broker whether a queue's batches have a reader (Client/BatchReaders.cs) follows the
/// connection's <see cref="RpcConnectionOptions.TimeProvider"/>, as every other due time does: under a fake clock the
/// answer stands until the test moves the clock.
/// </summary>
public sealed class BatchReadersClockTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Who_reads_batches_is_asked_again_after_a_second_of_the_connections_clock_not_of_the_systems()
    {
        await using var broker = new TestBroker();
        var serving = await broker.ConnectAsync();
        await broker.ServeAsync<IBatchProbe>(serving, new BatchProbe());
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var calling = await broker.ConnectAsync(o =>
        {
            o.Client.BatchCalls = true;
            o.TimeProvider = time;
        });
        var client = calling.CreateClient<IBatchProbe>();

        // The first call that could share a message asks once, in the background.
        Assert.Equal(1, await client.AddAsync(0, 1).WaitAsync(Bound));
        await UntilAsync(() => calling.Invoker.BatchReaderProbes == 1);

        // Past a second of the system's clock but not of the connection's: the answer it has stands.
        await Task.Delay(TimeSpan.FromSeconds(1.3));
        Assert.Equal(2, await client.AddAsync(1, 1).WaitAsync(Bound));
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(1, calling.Invoker.BatchReaderProbes);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3, await client.AddAsync(2, 1).WaitAsync(Bound));
        await UntilAsync(() => calling.Invoker.BatchReaderProbes == 2);
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Bound;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not hold within the bound");
            await Task.Delay(20);
        }
    }
}
