using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;
using NpgsqlTypes;

namespace RpcGen.PostgreSql;

/// <summary>Deletes old inbox rows: asked by the app, or by the active relay every <see cref="PostgresOutboxOptions.CleanupInterval"/>.</summary>
internal static class InboxCleanup
{
    public static async Task<int> DeleteAsync(NpgsqlConnection connection, OutboxSql sql, TimeSpan age, CancellationToken cancellationToken)
    {
        await using var delete = new NpgsqlCommand(sql.Cleanup, connection);
        delete.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = age, NpgsqlDbType = NpgsqlDbType.Interval });
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
