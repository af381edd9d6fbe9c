namespace RpcGen.PostgreSql;

/// <summary>Every statement of the outbox and the inbox, made once per options.</summary>
internal sealed class OutboxSql
{
    public OutboxSql(PostgresOutboxOptions options)
    {
        var outbox = options.Outbox;
        var inbox = options.Inbox;
        NotifyOnCommit = options.NotifyOnCommit;
        Signal = OutboxSignal.For(outbox);
        CreateTables = $"""
            CREATE TABLE IF NOT EXISTS {outbox} (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                message_id text NOT NULL,
                service text NOT NULL,
                method text NOT NULL,
                is_event boolean NOT NULL,
                exchange text NOT NULL,
                routing_key text NOT NULL,
                content_type text NOT NULL,
                persistent boolean NOT NULL,
                expiration text,
                headers text,
                body bytea NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                attempts integer NOT NULL DEFAULT 0,
                last_error text
            );
            CREATE TABLE IF NOT EXISTS {inbox} (
                consumer text NOT NULL,
                message_id text NOT NULL,
                processed_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (consumer, message_id)
            );
            CREATE INDEX IF NOT EXISTS "{options.InboxTable}_processed_at" ON {inbox} (processed_at);
            """;
        Insert = $"""
            INSERT INTO {outbox} (message_id, service, method, is_event, exchange, routing_key, content_type, persistent, expiration, headers, body)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """;
        // NOTIFY is transactional: delivered at commit, never for a rollback, once per transaction however many rows.
        Notify = $"NOTIFY \"{options.NotifyChannel}\"";
        Listen = $"LISTEN \"{options.NotifyChannel}\"";
        Next = $"""
            SELECT id, message_id, service, method, is_event, exchange, routing_key, content_type, persistent, expiration, headers, body, attempts
            FROM {outbox} WHERE attempts < $1 ORDER BY id LIMIT $2
            """;
        Delete = $"DELETE FROM {outbox} WHERE id = ANY($1)";
        Refused = $"UPDATE {outbox} SET attempts = attempts + 1, last_error = $2 WHERE id = $1";
        Record = $"INSERT INTO {inbox} (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        Cleanup = $"DELETE FROM {inbox} WHERE processed_at < now() - $1";
    }

    public bool NotifyOnCommit { get; }

    /// <summary>The in-process wake-up of this table's relays.</summary>
    public OutboxSignal Signal { get; }

    public string CreateTables { get; }

    public string Insert { get; }

    public string Notify { get; }

    public string Listen { get; }

    public string Next { get; }

    public string Delete { get; }

    public string Refused { get; }

    public string Record { get; }

    public string Cleanup { get; }
}
