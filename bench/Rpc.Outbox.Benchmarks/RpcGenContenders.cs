using Npgsql;
using RpcGen.PostgreSql;

namespace RpcGen.Outbox.Benchmarks;

/// <summary>The transaction alone, nothing announced: the baseline the others add to.</summary>
internal sealed class DatabaseOnly(NpgsqlDataSource dataSource, string table) : IOutboxContender
{
    public string Name => "database only (no message)";

    public string? Queue => null;

    public async Task PlaceAsync(long id)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await Database.InsertAsync(connection, transaction, table, id);
        await transaction.CommitAsync();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Commit, then publish straight to the broker (confirmed): no guarantee, the cost floor of announcing.</summary>
internal sealed class RpcGenDirect(NpgsqlDataSource dataSource, string table, RpcConnection rpc, string queue) : IOutboxContender
{
    private readonly IBenchOrderEvents _events = rpc.CreatePublisher<IBenchOrderEvents>();

    public string Name => "RpcGen, publish after commit";

    public string? Queue => queue;

    public async Task PlaceAsync(long id)
    {
        await using (var connection = await dataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Database.InsertAsync(connection, transaction, table, id);
            await transaction.CommitAsync();
        }

        await _events.OrderPlacedAsync(new BenchOrderPlaced(id, "customer-42", 99.50m));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>RpcGen.PostgreSql: the event written to the outbox in the transaction, published by the relay after commit.</summary>
internal sealed class RpcGenOutbox : IOutboxContender
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _table;
    private readonly PostgresOutbox _outbox;
    private readonly bool _notify;

    public RpcGenOutbox(NpgsqlDataSource dataSource, string table, RpcConnection rpc, string queue, PostgresOutboxOptions options)
    {
        _dataSource = dataSource;
        _table = table;
        _outbox = new PostgresOutbox(rpc, options);
        _notify = options.NotifyOnCommit;
        Relay = new PostgresOutboxRelay(dataSource, rpc, options);
        Queue = queue;
    }

    public string Name => "RpcGen.PostgreSql outbox" + (_notify ? "" : ", NotifyOnCommit off");

    public string? Queue { get; }

    public PostgresOutboxRelay Relay { get; }

    public async Task PlaceAsync(long id)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await Database.InsertAsync(connection, transaction, _table, id);
        await _outbox.CreatePublisher<IBenchOrderEvents>(transaction).OrderPlacedAsync(new BenchOrderPlaced(id, "customer-42", 99.50m));
        await transaction.CommitAsync();
    }

    public ValueTask DisposeAsync() => Relay.DisposeAsync();
}
