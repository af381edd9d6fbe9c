using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace RpcGen.PostgreSql;

/// <summary>Creates the tables once per process and data source, whoever asks first (the outbox, the inbox or the relay).</summary>
internal static class Schema
{
    public static async Task CreateAsync(NpgsqlDataSource dataSource, OutboxSql sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Two processes creating the tables at once would race on the catalog: one lock serialises them.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('rpcgen_outbox_schema'))", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var create = new NpgsqlCommand(sql.CreateTables, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
