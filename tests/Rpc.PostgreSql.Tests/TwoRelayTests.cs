using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.PostgreSql.TestApp;
using RpcGen.PostgreSql.Tests.Infrastructure;
using Xunit;

namespace RpcGen.PostgreSql.Tests;

/// <summary>Two app instances, each with a relay, on one outbox table: one is active, nothing goes twice, the other takes over.</summary>
public sealed class TwoRelayTests
{
    [Fact]
    public async Task Two_relays_on_one_table_publish_each_row_once_and_the_standby_takes_over()
    {
        await using var broker = new TestBroker();
        await using var database = await TestDatabase.CreateAsync();
        var first = await broker.ConnectAsync();
        var second = await broker.ConnectAsync();
        var log = await OrderLog.SubscribeAsync(first, broker);
        var outbox = new PostgresOutbox(first, database.Tables.Options());
        var relays = new[]
        {
            new PostgresOutboxRelay(database.DataSource, first, database.Tables.Options()),
            new PostgresOutboxRelay(database.DataSource, second, database.Tables.Options()),
        };
        try
        {
            await Task.WhenAll(relays.Select(r => r.StartAsync(CancellationToken.None)));
            await Wait.UntilAsync(() => relays.Any(r => r.IsActive), "one relay becomes active");

            // 30 transactions of 10 orders from several writers at once, while both relays run.
            await Task.WhenAll(Enumerable.Range(0, 6).Select(writer => Task.Run(async () =>
            {
                for (int t = 0; t < 5; t++)
                {
                    long first = (writer * 5 + t) * 10 + 1;
                    await OutboxTests.CommitAsync(database, outbox, Enumerable.Range(0, 10).Select(i => new OrderPlaced(first + i, "two relays")).ToArray());
                }
            })));

            await Wait.UntilAsync(() => log.Count >= 300, "300 events arrive", seconds: 30);
            await Task.Delay(300);
            Assert.Equal(300, log.Count);
            Assert.Equal(300, log.Received.Select(r => r.OrderId).Distinct().Count());
            Assert.Single(relays, r => r.IsActive);
            Assert.Equal(300, relays.Sum(r => r.PublishedCount));

            // Within a transaction, the order it was written in.
            foreach (var transaction in log.Received.GroupBy(r => (r.OrderId - 1) / 10))
            {
                Assert.Equal(transaction.Select(r => r.OrderId).Order(), transaction.Select(r => r.OrderId));
            }

            var active = relays.Single(r => r.IsActive);
            var standby = relays.Single(r => !r.IsActive);
            await active.StopAsync(CancellationToken.None);
            await Wait.UntilAsync(() => standby.IsActive, "the standby relay becomes active");
            await OutboxTests.CommitAsync(database, outbox, new OrderPlaced(301, "after the take-over"));
            await Wait.UntilAsync(() => log.Received.Any(r => r.OrderId == 301), "the order after the take-over arrives");
            // The row is deleted after its confirm, which may be after the subscriber got it.
            await Wait.UntilAsync(() => relays.Sum(r => r.PublishedCount) == 301, "the standby deletes the row it published");
            Assert.False(active.IsActive);
        }
        finally
        {
            foreach (var relay in relays) await relay.DisposeAsync();
        }
    }
}
