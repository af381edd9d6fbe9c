using Npgsql;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.PostgreSql.TestApp;
using RpcGen.PostgreSql.Tests.Infrastructure;
using Xunit;

namespace RpcGen.PostgreSql.Tests;

/// <summary>The outbox's promises in one process: a rollback sends nothing, a commit sends each message once with its id, in order.</summary>
public sealed class OutboxTests
{
    [Fact]
    public async Task A_rolled_back_transaction_sends_nothing()
    {
        await using var broker = new TestBroker();
        await using var database = await TestDatabase.CreateAsync();
        var connection = await broker.ConnectAsync();
        var log = await OrderLog.SubscribeAsync(connection, broker);
        var outbox = new PostgresOutbox(connection, database.Tables.Options());
        await using var relay = new PostgresOutboxRelay(database.DataSource, connection, database.Tables.Options());
        await relay.StartAsync(CancellationToken.None);

        await using (var db = await database.DataSource.OpenConnectionAsync())
        await using (var transaction = await db.BeginTransactionAsync())
        {
            await outbox.CreatePublisher<IOrderEvents>(transaction).OrderPlacedAsync(new OrderPlaced(1, "rolled back"));
            await outbox.CreateClient<IShipping>(transaction).ShipAsync(1);
            await transaction.RollbackAsync();
        }

        // A committed marker after it: once the marker is in, the relay has been past the rolled-back rows' place.
        await CommitAsync(database, outbox, new OrderPlaced(2, "committed"));
        await Wait.UntilAsync(() => log.Count >= 1, "the committed order's event arrives");
        await Task.Delay(300);
        Assert.Equal([2L], log.Received.Select(r => r.OrderId));
        Assert.Equal(0, await database.CountAsync(database.Tables.Options().OutboxTable));
        Assert.Equal(0u, await MessageCountAsync(broker, broker.QueueName("outbox.shipping")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_committed_transaction_publishes_its_messages_in_order_with_the_message_ids_it_stored(bool notifyOnCommit)
    {
        await using var broker = new TestBroker();
        await using var database = await TestDatabase.CreateAsync();
        var connection = await broker.ConnectAsync();
        var log = await OrderLog.SubscribeAsync(connection, broker);
        var outbox = new PostgresOutbox(connection, database.Tables.Options(o => o.NotifyOnCommit = notifyOnCommit));

        await using (var db = await database.DataSource.OpenConnectionAsync())
        await using (var transaction = await db.BeginTransactionAsync())
        {
            var events = outbox.CreatePublisher<IOrderEvents>(transaction);
            for (int i = 1; i <= 20; i++) await events.OrderPlacedAsync(new OrderPlaced(i, "batch"));
            await transaction.CommitAsync();
        }

        // Read before the relay runs: the ids the handler must see are the ones stored at commit.
        var stored = await StringsAsync(database, $"SELECT message_id FROM {database.Tables.Options().OutboxTable} ORDER BY id");
        Assert.Equal(20, stored.Distinct().Count());

        await using var relay = new PostgresOutboxRelay(database.DataSource, connection, database.Tables.Options(o => o.NotifyOnCommit = notifyOnCommit));
        await relay.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => log.Count >= 20, "20 events arrive");
        // And a commit while the relay waits: woken by the NOTIFY, or in-process by the write.
        await CommitAsync(database, outbox, new OrderPlaced(21, "later"));
        await Wait.UntilAsync(() => log.Count >= 21, "the later event arrives");
        Assert.Equal(21, log.Received[20].OrderId);
        Assert.Equal(Enumerable.Range(1, 21).Select(i => (long)i), log.Received.Select(r => r.OrderId));
        Assert.Equal(stored, log.Received.Take(20).Select(r => r.MessageId!));
        await Wait.UntilAsync(async () => await database.CountAsync(database.Tables.Options().OutboxTable) == 0, "confirmed rows are deleted");
        await Wait.UntilAsync(() => relay.PublishedCount == 21, "the relay counts what it deleted");
    }

    [Fact]
    public async Task Work_goes_to_the_service_queue_as_durable_work_with_its_message_id()
    {
        await using var broker = new TestBroker();
        await using var database = await TestDatabase.CreateAsync();
        var connection = await broker.ConnectAsync();
        var outbox = new PostgresOutbox(connection, database.Tables.Options());
        await using var relay = new PostgresOutboxRelay(database.DataSource, connection, database.Tables.Options());
        await relay.StartAsync(CancellationToken.None);
        broker.Track(broker.QueueName("outbox.shipping"));

        // Sent before any server ran: the relay declares the service queue as a client would, so the work waits there.
        await using (var db = await database.DataSource.OpenConnectionAsync())
        await using (var transaction = await db.BeginTransactionAsync())
        {
            await outbox.CreateClient<IShipping>(transaction).ShipAsync(7);
            await transaction.CommitAsync();
        }

        await Wait.UntilAsync(async () => await database.CountAsync(database.Tables.Options().OutboxTable) == 0, "the relay publishes the work");
        var shipped = new TaskCompletionSource<(long, string?)>();
        await broker.ServeAsync<IShipping>(connection, new RecordingShipping(shipped));
        var (orderId, messageId) = await shipped.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(7, orderId);
        Assert.False(string.IsNullOrEmpty(messageId));
    }

    [Fact]
    public async Task A_method_with_a_reply_is_refused_and_writes_nothing()
    {
        await using var database = await TestDatabase.CreateAsync();
        var outbox = new PostgresOutbox(new RpcConnectionOptions { Uri = TestBroker.Uri }, database.Tables.Options());
        await using var db = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await db.BeginTransactionAsync();
        var failure = await Assert.ThrowsAsync<NotSupportedException>(() => outbox.CreateClient<IShipping>(transaction).CountAsync());
        Assert.Contains("Shipping.Count", failure.Message);
        await transaction.CommitAsync();
        Assert.Equal(0, await database.CountAsync(database.Tables.Options().OutboxTable));
    }

    [Fact]
    public async Task The_inbox_runs_a_message_once_for_each_consumer()
    {
        await using var database = await TestDatabase.CreateAsync();
        var inbox = new PostgresInbox(database.DataSource, database.Tables.Options());
        var messageId = Guid.NewGuid().ToString("N");
        Func<NpgsqlTransaction, CancellationToken, Task> ship = async (transaction, ct) =>
        {
            await using var insert = new NpgsqlCommand($"INSERT INTO {database.Tables.Shipments} (order_id) VALUES (1)", transaction.Connection, transaction);
            await insert.ExecuteNonQueryAsync(ct);
        };

        Assert.True(await inbox.HandleOnceAsync("shipping", messageId, ship, CancellationToken.None));
        Assert.False(await inbox.HandleOnceAsync("shipping", messageId, ship, CancellationToken.None));
        // Two copies at once: the second waits on the key until the first commits, then finds it taken.
        var both = await Task.WhenAll(
            inbox.HandleOnceAsync("billing", messageId, ship, CancellationToken.None),
            inbox.HandleOnceAsync("billing", messageId, ship, CancellationToken.None));
        Assert.Equal(1, both.Count(ran => ran));
        Assert.Equal(2, await database.CountAsync(database.Tables.Shipments));

        // A handler that throws commits nothing, its id included: the redelivery runs it again.
        var retried = Guid.NewGuid().ToString("N");
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            inbox.HandleOnceAsync("shipping", retried, async (t, ct) => { await ship(t, ct); throw new InvalidOperationException("handler failed"); }, CancellationToken.None));
        Assert.True(await inbox.HandleOnceAsync("shipping", retried, ship, CancellationToken.None));
        Assert.Equal(3, await database.CountAsync(database.Tables.Shipments));

        Assert.Equal(0, await inbox.DeleteOlderThanAsync(TimeSpan.FromHours(1)));
        Assert.Equal(3, await inbox.DeleteOlderThanAsync(TimeSpan.Zero + TimeSpan.FromTicks(1)));
    }

    internal static async Task CommitAsync(TestDatabase database, PostgresOutbox outbox, params OrderPlaced[] orders)
    {
        await using var db = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await db.BeginTransactionAsync();
        var events = outbox.CreatePublisher<IOrderEvents>(transaction);
        foreach (var order in orders)
        {
            await using (var insert = new NpgsqlCommand($"INSERT INTO {database.Tables.Orders} (id, tag) VALUES ($1, $2)", db, transaction))
            {
                insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = order.OrderId });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = order.Tag });
                await insert.ExecuteNonQueryAsync();
            }

            await events.OrderPlacedAsync(order);
        }

        await transaction.CommitAsync();
    }

    private static async Task<List<string>> StringsAsync(TestDatabase database, string sql)
    {
        var values = new List<string>();
        await using var command = database.DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) values.Add(reader.GetString(0));
        return values;
    }

    private static async Task<uint> MessageCountAsync(TestBroker broker, string queue)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = TestBroker.Uri };
        await using var amqp = await factory.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0;
        }
    }

    private sealed class RecordingShipping(TaskCompletionSource<(long, string?)> shipped) : IShipping
    {
        public Task ShipAsync(long orderId)
        {
            shipped.TrySetResult((orderId, RpcContext.Current?.MessageId));
            return Task.CompletedTask;
        }

        public Task<int> CountAsync() => Task.FromResult(0);
    }
}
