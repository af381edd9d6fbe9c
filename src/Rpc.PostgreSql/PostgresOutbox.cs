using System;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace RpcGen.PostgreSql;

/// <summary>
/// The transactional outbox: clients and publishers whose one-way work and events are written to the outbox table in
/// the app's own <see cref="NpgsqlTransaction"/>, so they are published (by <see cref="PostgresOutboxRelay"/>) if and
/// only if that transaction commits. Thread-safe; create one per app and share it.
/// </summary>
/// <remarks>
/// Only one-way methods and events go through the outbox; a method with a reply fails with
/// <see cref="NotSupportedException"/>. A client made for a transaction is for that transaction alone: use it while the
/// transaction is open, from one flow at a time (Npgsql runs one command at a time per connection).
/// </remarks>
public sealed class PostgresOutbox
{
    private readonly RpcMessageCapture _capture;
    private readonly OutboxSql _sql;

    /// <summary>Writes messages as <paramref name="connection"/> would send them (its queue prefix, JSON options, size limit).</summary>
    public PostgresOutbox(RpcConnection connection, PostgresOutboxOptions? options = null)
        : this(new RpcMessageCapture(connection ?? throw new ArgumentNullException(nameof(connection))), options)
    {
    }

    /// <summary>Writes messages as a connection opened with <paramref name="connectionOptions"/> would send them; needs no broker.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public PostgresOutbox(RpcConnectionOptions connectionOptions, PostgresOutboxOptions? options)
        : this(new RpcMessageCapture(connectionOptions ?? throw new ArgumentNullException(nameof(connectionOptions))), options)
    {
    }

    private PostgresOutbox(RpcMessageCapture capture, PostgresOutboxOptions? options)
    {
        _capture = capture;
        Options = (options ?? new PostgresOutboxOptions()).Validated();
        _sql = new OutboxSql(Options);
    }

    /// <summary>The options, as checked and copied when the outbox was made.</summary>
    public PostgresOutboxOptions Options { get; }

    /// <summary>
    /// A client of <typeparamref name="TService"/> whose one-way methods write their message to the outbox in
    /// <paramref name="transaction"/>; each completes when its row is written (not when it is published).
    /// </summary>
    /// <exception cref="InvalidOperationException">No client was generated for <typeparamref name="TService"/>, or it is an [RpcEvents] interface.</exception>
    public TService CreateClient<TService>(NpgsqlTransaction transaction) where TService : class =>
        _capture.CreateClient<TService>(new OutboxWriter(Transaction(transaction), _sql));

    /// <summary>A publisher of <typeparamref name="TEvents"/> whose events are written to the outbox in <paramref name="transaction"/>.</summary>
    /// <exception cref="InvalidOperationException">No publisher was generated for <typeparamref name="TEvents"/>, or it is an [RpcService].</exception>
    public TEvents CreatePublisher<TEvents>(NpgsqlTransaction transaction) where TEvents : class =>
        _capture.CreatePublisher<TEvents>(new OutboxWriter(Transaction(transaction), _sql));

    /// <summary>Creates the outbox and inbox tables (and the inbox's index) when they do not exist.</summary>
    public Task CreateTablesAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default) =>
        Schema.CreateAsync(dataSource, _sql, cancellationToken);

    private static NpgsqlTransaction Transaction(NpgsqlTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (transaction.Connection is null) throw new InvalidOperationException("The transaction is already committed or rolled back: nothing can be written to the outbox in it.");
        return transaction;
    }
}
