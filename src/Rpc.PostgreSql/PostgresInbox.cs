using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;
using NpgsqlTypes;

namespace RpcGen.PostgreSql;

/// <summary>
/// The idempotent inbox: runs a handler's database work in a transaction of its own in which the message id is
/// recorded for a consumer, so a message delivered twice (a redelivery after a crash before the ack, a duplicate the
/// outbox published again) changes the database once. Thread-safe; create one per app and share it.
/// </summary>
/// <remarks>
/// Call it from an RpcGen handler of one-way work or events: RpcGen acks the message after the handler returns, so
/// the ack comes after the commit. A handler killed between the commit and the ack gets the message again, finds its
/// id recorded and does nothing.
/// </remarks>
public sealed class PostgresInbox
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly OutboxSql _sql;

    /// <summary>An inbox in <paramref name="dataSource"/>'s database, in the table <paramref name="options"/> names.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public PostgresInbox(NpgsqlDataSource dataSource, PostgresOutboxOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
        _sql = new OutboxSql((options ?? new PostgresOutboxOptions()).Validated());
    }

    /// <summary>
    /// Runs <paramref name="handle"/> once for the message being handled (<see cref="RpcContext.Current"/>'s
    /// <see cref="RpcContext.MessageId"/>) and <paramref name="consumer"/>: true when it ran and committed, false when
    /// this consumer had already committed this message (nothing ran).
    /// </summary>
    /// <param name="consumer">Who handles it (the subscription or handler): the same event reaches each consumer once.</param>
    /// <param name="handle">The database work, on the transaction it is given; the inbox commits it with the message id.</param>
    /// <param name="cancellationToken">Cancels the work; nothing is committed then.</param>
    /// <exception cref="InvalidOperationException">Not inside an RpcGen handler, or the message has no message id.</exception>
    public Task<bool> HandleOnceAsync(string consumer, Func<NpgsqlTransaction, CancellationToken, Task> handle, CancellationToken cancellationToken = default)
    {
        var context = RpcContext.Current
            ?? throw new InvalidOperationException("PostgresInbox.HandleOnceAsync without a message id must run inside an RpcGen handler (RpcContext.Current is null).");
        var messageId = context.MessageId;
        if (string.IsNullOrEmpty(messageId))
        {
            throw new InvalidOperationException(
                $"RPC {context.Service}.{context.Method}: the message has no message id, so the inbox cannot tell a duplicate; its sender must set one (RpcGen's clients and the outbox do).");
        }

        return HandleOnceAsync(consumer, messageId, handle, cancellationToken);
    }

    /// <summary>Runs <paramref name="handle"/> once for <paramref name="messageId"/> and <paramref name="consumer"/>; see the other overload.</summary>
    /// <exception cref="ArgumentException"><paramref name="consumer"/> or <paramref name="messageId"/> is empty.</exception>
    public async Task<bool> HandleOnceAsync(string consumer, string messageId, Func<NpgsqlTransaction, CancellationToken, Task> handle,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentNullException.ThrowIfNull(handle);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // First, so a concurrent copy of the message waits on the key until this transaction ends, then finds it taken.
        await using (var record = new NpgsqlCommand(_sql.Record, connection, transaction))
        {
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = consumer, NpgsqlDbType = NpgsqlDbType.Text });
            record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = messageId, NpgsqlDbType = NpgsqlDbType.Text });
            if (await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return false;
            }
        }

        await handle(transaction, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Creates the outbox and inbox tables when they do not exist.</summary>
    public Task CreateTablesAsync(CancellationToken cancellationToken = default) => Schema.CreateAsync(_dataSource, _sql, cancellationToken);

    /// <summary>Deletes the inbox rows recorded more than <paramref name="age"/> ago; returns how many. A copy of such a message arriving later runs again.</summary>
    public async Task<int> DeleteOlderThanAsync(TimeSpan age, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await InboxCleanup.DeleteAsync(connection, _sql, age, cancellationToken).ConfigureAwait(false);
    }
}
