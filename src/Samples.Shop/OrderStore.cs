using System.Threading;
using System.Threading.Tasks;
using Npgsql;
using RpcGen.PostgreSql;

namespace Samples.Shop;

/// <summary>Where the order service keeps placed orders.</summary>
public interface IOrderStore
{
    /// <summary>Saves <paramref name="order"/> and announces it with <paramref name="routingKey"/>, both or neither.</summary>
    Task SaveAsync(OrderPlaced order, string routingKey);
}

/// <summary>
/// Orders in PostgreSQL (table <c>shop_orders</c>), each saved in the transaction that writes its
/// <see cref="OrderPlaced"/> to the outbox: the event is published after the commit, and only then.
/// </summary>
public sealed class PostgresOrderStore(NpgsqlDataSource dataSource, PostgresOutbox outbox) : IOrderStore
{
    /// <summary>Creates the orders table and the outbox's tables when missing.</summary>
    public async Task CreateTablesAsync(CancellationToken cancellationToken = default)
    {
        await outbox.CreateTablesAsync(dataSource, cancellationToken);
        await using var create = dataSource.CreateCommand(
            "CREATE TABLE IF NOT EXISTS shop_orders (id text PRIMARY KEY, region text NOT NULL, total numeric NOT NULL, payment_id text NOT NULL, " +
            "placed_at timestamptz NOT NULL DEFAULT now())");
        await create.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async Task SaveAsync(OrderPlaced order, string routingKey)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO shop_orders (id, region, total, payment_id) VALUES ($1, $2, $3, $4)", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = order.OrderId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = order.Region });
            insert.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = order.Total });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = order.PaymentId });
            await insert.ExecuteNonQueryAsync();
        }

        await outbox.CreatePublisher<IOrderEvents>(transaction).OrderPlacedAsync(routingKey, order);
        await transaction.CommitAsync();
    }

    /// <summary>How many orders whose id starts with <paramref name="prefix"/> are saved.</summary>
    public async Task<long> CountAsync(string prefix)
    {
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM shop_orders WHERE id LIKE $1");
        count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = prefix + "%" });
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
