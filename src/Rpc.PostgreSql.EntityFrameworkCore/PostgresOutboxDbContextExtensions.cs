using System;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace RpcGen.PostgreSql.EntityFrameworkCore;

/// <summary>
/// The outbox in a <see cref="DbContext"/>'s transaction: begin one (<c>context.Database.BeginTransactionAsync()</c>),
/// save the entities, send or publish through these clients, then commit: the messages are published if and only if
/// the commit succeeds.
/// </summary>
public static class PostgresOutboxDbContextExtensions
{
    /// <summary>A client of <typeparamref name="TService"/> whose one-way methods write to the outbox in <paramref name="context"/>'s current transaction.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="context"/> has no current transaction, or it is not on Npgsql.</exception>
    public static TService CreateClient<TService>(this PostgresOutbox outbox, DbContext context) where TService : class
    {
        ArgumentNullException.ThrowIfNull(outbox);
        return outbox.CreateClient<TService>(TransactionOf(context));
    }

    /// <summary>A publisher of <typeparamref name="TEvents"/> whose events are written to the outbox in <paramref name="context"/>'s current transaction.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="context"/> has no current transaction, or it is not on Npgsql.</exception>
    public static TEvents CreatePublisher<TEvents>(this PostgresOutbox outbox, DbContext context) where TEvents : class
    {
        ArgumentNullException.ThrowIfNull(outbox);
        return outbox.CreatePublisher<TEvents>(TransactionOf(context));
    }

    private static NpgsqlTransaction TransactionOf(DbContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var current = context.Database.CurrentTransaction
            ?? throw new InvalidOperationException(
                $"{context.GetType().Name} has no transaction: begin one with Database.BeginTransactionAsync() so the outbox's rows commit with the entities.");
        return current.GetDbTransaction() as NpgsqlTransaction
            ?? throw new InvalidOperationException($"{context.GetType().Name}'s transaction is not an Npgsql one: the outbox needs Npgsql's provider (UseNpgsql).");
    }
}
