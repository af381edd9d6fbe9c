using System.Diagnostics;
using Npgsql;
using RpcGen;
using RpcGen.PostgreSql;
using RpcGen.PostgreSql.TestApp;

// place  AMQP POSTGRES PREFIX NAME [direct]
//   saves orders 1, 2, 3 ... one per transaction, each announcing OrderPlaced through the outbox (a relay runs here
//   too), printing "committed N" after each commit, until killed. With "direct": commit, then publish straight to
//   the broker (what the outbox replaces), to see the test fail.
// handle AMQP POSTGRES PREFIX NAME die|live inbox|plain
//   serves IShipping: ShipAsync writes a shipment through the inbox (or in a plain transaction); with "die", it kills
//   itself after the first commit, before RpcGen acks the message.
var mode = args[0];
var amqp = new Uri(args[1]);
await using var dataSource = NpgsqlDataSource.Create(args[2]);
var prefix = args[3];
var tables = new TestTables(args[4]);
await using var connection = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = amqp, QueuePrefix = prefix, ConnectionName = "outbox test app" });

if (mode == "place")
{
    bool direct = args.Length > 5 && args[5] == "direct";
    var outbox = new PostgresOutbox(connection, tables.Options());
    await using var relay = new PostgresOutboxRelay(dataSource, connection, tables.Options());
    await relay.StartAsync(CancellationToken.None);
    var events = connection.CreatePublisher<IOrderEvents>();
    Console.WriteLine("ready");
    for (long id = 1; ; id++)
    {
        await using var db = await dataSource.OpenConnectionAsync();
        await using var transaction = await db.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand($"INSERT INTO {tables.Orders} (id, tag) VALUES ($1, 'order')", db, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            await insert.ExecuteNonQueryAsync();
        }

        if (!direct) await outbox.CreatePublisher<IOrderEvents>(transaction).OrderPlacedAsync(new OrderPlaced(id, "order"));
        await transaction.CommitAsync();
        if (direct) await events.OrderPlacedAsync(new OrderPlaced(id, "order"));
        Console.WriteLine($"committed {id}");
    }
}

if (mode == "handle")
{
    bool die = args[5] == "die";
    bool inbox = args[6] == "inbox";
    await connection.ServeAsync<IShipping>(new Shipping(new PostgresInbox(dataSource, tables.Options()), dataSource, tables, die, inbox));
    Console.WriteLine("ready");
    await Task.Delay(Timeout.Infinite);
}

/// <summary>Writes one shipment per ShipAsync, through the inbox or in a plain transaction; may die after its commit.</summary>
internal sealed class Shipping(PostgresInbox inbox, NpgsqlDataSource dataSource, TestTables tables, bool die, bool useInbox) : IShipping
{
    public async Task ShipAsync(long orderId)
    {
        bool ran = true;
        if (useInbox)
        {
            ran = await inbox.HandleOnceAsync("shipping", (transaction, ct) => InsertAsync(transaction, orderId, ct));
        }
        else
        {
            await using var db = await dataSource.OpenConnectionAsync();
            await using var transaction = await db.BeginTransactionAsync();
            await InsertAsync(transaction, orderId, CancellationToken.None);
            await transaction.CommitAsync();
        }

        if (!die) Console.WriteLine((ran ? "shipped " : "duplicate ") + orderId);

        if (die)
        {
            // Committed, not yet acked (RpcGen acks when this method returns): a crash right here.
            Console.WriteLine($"committed {orderId}");
            Process.GetCurrentProcess().Kill();
        }
    }

    public Task<int> CountAsync() => Task.FromResult(0);

    private async Task InsertAsync(NpgsqlTransaction transaction, long orderId, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand($"INSERT INTO {tables.Shipments} (order_id) VALUES ($1)", transaction.Connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = orderId });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }
}
