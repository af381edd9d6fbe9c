using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.PostgreSql.TestApp;
using RpcGen.PostgreSql.Tests.Infrastructure;
using Xunit;

namespace RpcGen.PostgreSql.Tests;

/// <summary>
/// A handler killed after its database commit and before RpcGen acked the message: the broker delivers it again to
/// the next handler. Through the inbox its effect happens once; in a plain transaction (the control, which shows the
/// kill really lands between the commit and the ack) it happens twice.
/// </summary>
[Collection(CrashCollection.Name)]
public sealed class HandlerCrashTests
{
    [Theory]
    [InlineData("inbox", 1)]
    [InlineData("plain", 2)]
    public async Task A_handler_killed_between_its_commit_and_its_ack_changes_the_database_once_through_the_inbox(string mode, int shipments)
    {
        await using var broker = new TestBroker();
        await using var database = await TestDatabase.CreateAsync();
        broker.Track(broker.QueueName("outbox.shipping"));
        string[] Args(string life) => ["handle", TestBroker.Uri.ToString(), TestDatabase.ConnectionString, broker.Prefix, database.Tables.Name, life, mode];

        await using (var dying = await AppProcess.StartAsync(Args("die")))
        {
            var connection = await broker.ConnectAsync();
            await connection.CreateClient<IShipping>().ShipAsync(42);
            await dying.WaitForLineAsync("committed 42");
            await dying.WaitForExitAsync();
        }

        await using var next = await AppProcess.StartAsync(Args("live"));
        await next.WaitForLineAsync(mode == "inbox" ? "duplicate 42" : "shipped 42");
        Assert.Equal(shipments, await database.CountAsync(database.Tables.Shipments, "order_id = 42"));
    }
}
