using Npgsql;

namespace RpcGen.Outbox.Benchmarks;

/// <summary>The orders table every contender writes one row per transaction to.</summary>
internal static class Database
{
    public static async Task CreateAsync(NpgsqlDataSource dataSource, string table)
    {
        await using var create = dataSource.CreateCommand(
            $"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id bigint PRIMARY KEY, customer text NOT NULL, total numeric NOT NULL)");
        await create.ExecuteNonQueryAsync();
    }

    public static async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, long id)
    {
        await using var insert = new NpgsqlCommand($"INSERT INTO {table} (id, customer, total) VALUES ($1, 'customer-42', 99.50)", connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        await insert.ExecuteNonQueryAsync();
    }
}
