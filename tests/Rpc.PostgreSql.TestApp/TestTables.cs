using Npgsql;

namespace RpcGen.PostgreSql.TestApp;

/// <summary>
/// One test's tables, all named after it: its outbox and inbox, the orders the shop saves, the shipments the handler
/// writes (no unique key, so a handler that ran twice shows as two rows).
/// </summary>
public sealed class TestTables(string name)
{
    public string Name { get; } = name;

    public string Orders => Name + "_orders";

    public string Shipments => Name + "_shipments";

    public PostgresOutboxOptions Options(Action<PostgresOutboxOptions>? configure = null)
    {
        var options = new PostgresOutboxOptions
        {
            OutboxTable = Name + "_outbox",
            InboxTable = Name + "_inbox",
            NotifyChannel = Name,
            PollInterval = TimeSpan.FromMilliseconds(500),
            RetryDelay = TimeSpan.FromMilliseconds(200),
            StandbyInterval = TimeSpan.FromMilliseconds(200),
        };
        configure?.Invoke(options);
        return options;
    }

    public async Task CreateAsync(NpgsqlDataSource dataSource)
    {
        await new PostgresInbox(dataSource, Options()).CreateTablesAsync();
        await using var command = dataSource.CreateCommand(
            $"CREATE TABLE IF NOT EXISTS {Orders} (id bigint PRIMARY KEY, tag text NOT NULL); " +
            $"CREATE TABLE IF NOT EXISTS {Shipments} (order_id bigint NOT NULL, handled_at timestamptz NOT NULL DEFAULT now())");
        await command.ExecuteNonQueryAsync();
    }

    public async Task DropAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            $"DROP TABLE IF EXISTS {Orders}, {Shipments}, {Name}_outbox, {Name}_inbox");
        await command.ExecuteNonQueryAsync();
    }
}
