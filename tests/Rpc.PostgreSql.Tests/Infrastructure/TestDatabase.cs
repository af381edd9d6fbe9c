using Npgsql;
using RpcGen.PostgreSql.TestApp;

namespace RpcGen.PostgreSql.Tests.Infrastructure;

/// <summary>
/// The real PostgreSQL the tests run against (eng/postgres.sh's private cluster, started by ./build.sh test;
/// RPCGEN_POSTGRES says where). Every test gets tables of its own, dropped afterwards.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public static string ConnectionString { get; } = Environment.GetEnvironmentVariable("RPCGEN_POSTGRES") is { Length: > 0 } url
        ? url
        : "Host=127.0.0.1;Port=5433;Username=postgres;Password=postgres;Database=postgres";

    public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(ConnectionString);

    public TestTables Tables { get; } = new("t_" + Guid.NewGuid().ToString("N")[..12]);

    public static async Task<TestDatabase> CreateAsync()
    {
        var database = new TestDatabase();
        await database.Tables.CreateAsync(database.DataSource);
        return database;
    }

    public async Task<long> CountAsync(string table, string where = "true")
    {
        await using var command = DataSource.CreateCommand($"SELECT count(*) FROM {table} WHERE {where}");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<List<long>> IdsAsync(string sql)
    {
        var ids = new List<long>();
        await using var command = DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids.Add(reader.GetInt64(0));
        return ids;
    }

    public async ValueTask DisposeAsync()
    {
        await Tables.DropAsync(DataSource);
        await DataSource.DisposeAsync();
    }
}
