using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.PostgreSql.TestApp;
using RpcGen.PostgreSql.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.PostgreSql.Tests;

/// <summary>
/// The seeds' scenario: the broker is down (or blocks publishers on an alarm) while orders are placed. Every order
/// commits, and its event arrives once the broker is back. Against a private node this test stops and starts.
/// </summary>
[Collection(CrashCollection.Name)]
public sealed class BrokerOutageTests(OutageBroker node, ITestOutputHelper output) : IClassFixture<OutageBroker>
{
    [Fact]
    public Task Orders_placed_while_the_broker_is_down_all_commit_and_are_announced_when_it_is_back() => RunAsync(TimeSpan.FromSeconds(5));

    [Fact]
    [Trait("Category", "Heavy")]
    public Task Orders_placed_during_a_30_second_outage_all_commit_and_are_announced_when_it_is_back() => RunAsync(TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Orders_placed_while_the_broker_blocks_publishers_are_announced_when_the_alarm_clears()
    {
        await using var database = await TestDatabase.CreateAsync();
        var (connection, log, relay) = await StartAsync(database);
        await using var _ = connection;
        await using var __ = relay;
        var outbox = new PostgresOutbox(connection, database.Tables.Options());
        try
        {
            await node.CtlAsync("set_vm_memory_high_watermark", "0.0000001");
            await OutboxTests.CommitAsync(database, outbox, new OrderPlaced(1, "during the alarm"));
            await Wait.UntilAsync(() => connection.IsBlocked, "the broker blocks the connection", seconds: 20);
            await OutboxTests.CommitAsync(database, outbox, new OrderPlaced(2, "during the alarm"));
            await Task.Delay(1000);
            Assert.Equal(0, log.Count);
            Assert.True(await database.CountAsync(database.Tables.Options().OutboxTable) >= 1);
        }
        finally
        {
            await node.CtlAsync("set_vm_memory_high_watermark", "0.4");
        }

        await Wait.UntilAsync(() => log.Count >= 2, "both orders are announced after the alarm", seconds: 30);
        Assert.Equal([1L, 2L], log.Received.Select(r => r.OrderId).Order());
    }

    private async Task RunAsync(TimeSpan outage)
    {
        await using var database = await TestDatabase.CreateAsync();
        var (connection, log, relay) = await StartAsync(database);
        await using var _ = connection;
        await using var __ = relay;
        var outbox = new PostgresOutbox(connection, database.Tables.Options());
        await OutboxTests.CommitAsync(database, outbox, new OrderPlaced(1, "before"));
        await Wait.UntilAsync(() => log.Count == 1, "the first order is announced", seconds: 30);

        await node.StopAsync();
        long placed = 1;
        var down = DateTime.UtcNow;
        try
        {
            // The control: straight to the broker, an event fails now, so the broker is really down.
            await Assert.ThrowsAnyAsync<RpcException>(() => connection.CreatePublisher<IOrderEvents>().OrderPlacedAsync(new OrderPlaced(0, "direct")));
            while (DateTime.UtcNow - down < outage)
            {
                // Every one commits: the outbox needs the database, not the broker.
                await OutboxTests.CommitAsync(database, outbox, new OrderPlaced(++placed, "during the outage"));
                await Task.Delay(50);
            }

            Assert.Equal(1, log.Count);
        }
        finally
        {
            await node.StartAsync();
        }

        var back = DateTime.UtcNow;
        await Wait.UntilAsync(() => log.Received.Select(r => r.OrderId).Distinct().Count() == placed, $"all {placed} orders are announced", seconds: 90);
        output.WriteLine($"{placed} orders committed, {placed - 1} during a {outage.TotalSeconds:0} s outage; all announced " +
            $"{(DateTime.UtcNow - back).TotalSeconds:0.0} s after the node was back; {log.Count - placed} duplicates");
        Assert.Equal(Enumerable.Range(1, (int)placed).Select(i => (long)i), log.Received.Select(r => r.OrderId).Distinct().Order());
    }

    private async Task<(RpcConnection, OrderLog, PostgresOutboxRelay)> StartAsync(TestDatabase database)
    {
        var prefix = "outage-" + Guid.NewGuid().ToString("N")[..8] + ".";
        var connection = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = node.Uri, QueuePrefix = prefix, ConnectionName = "outbox outage test" });
        var log = new OrderLog();
        var subscription = new RpcSubscription { Queue = "orders-log", Prefetch = 1 };
        subscription.Bindings.Add("#");
        await connection.SubscribeAsync<IOrderEvents>(log, subscription);
        var relay = new PostgresOutboxRelay(database.DataSource, connection, database.Tables.Options());
        await relay.StartAsync(CancellationToken.None);
        return (connection, log, relay);
    }
}

/// <summary>The outage tests' private node (5698 + RPCGEN_TEST_PORT_OFFSET): stopped, started and blocked by them alone.</summary>
public sealed class OutageBroker() : PrivateNode(TestPorts.Offset + 5698, $"rpcgen-outbox{TestPorts.Suffix}@localhost");
