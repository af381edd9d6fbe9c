using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace RpcGen.PostgreSql;

/// <summary>
/// Publishes the outbox's committed rows through an <see cref="RpcConnection"/>, in id order, with publisher
/// confirms, and deletes each row only after the broker confirmed it. Several app instances may run one each: one at
/// a time is active (it holds a PostgreSQL advisory lock), the others stand by and take over when it goes. Woken
/// in-process by each write of this process (or by LISTEN/NOTIFY at each commit, with
/// <see cref="PostgresOutboxOptions.NotifyOnCommit"/>), with polling every <see cref="PostgresOutboxOptions.PollInterval"/>
/// as the fallback. A hosted service (<see cref="IHostedService"/>), or started and stopped by hand.
/// </summary>
/// <remarks>
/// At-least-once: a relay that dies (or loses its database connection) after a publish and before the delete leaves
/// the row, and the next active relay publishes it again with the same message id; the inbox
/// (<see cref="PostgresInbox"/>) makes that harmless.
/// </remarks>
public sealed partial class PostgresOutboxRelay : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromSeconds(10);

    // How long after an in-process write the relay looks again for its commit: 1, 2, 4 ... up to 128 ms in all.
    private static readonly TimeSpan s_firstCommitWait = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan s_maxCommitWait = TimeSpan.FromMilliseconds(100);

    private readonly NpgsqlDataSource _dataSource;
    private readonly RpcConnection _connection;
    private readonly PostgresOutboxOptions _options;
    private readonly OutboxSql _sql;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly long _lockKey;
    private CancellationTokenSource? _stopping;
    private Task? _running;
    private int _active;
    private int _woken;
    private long _published;

    /// <summary>A relay of the outbox in <paramref name="dataSource"/>'s database that publishes through <paramref name="connection"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public PostgresOutboxRelay(NpgsqlDataSource dataSource, RpcConnection connection, PostgresOutboxOptions? options = null,
        ILogger<PostgresOutboxRelay>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(connection);
        _dataSource = dataSource;
        _connection = connection;
        _options = (options ?? new PostgresOutboxOptions()).Validated();
        _sql = new OutboxSql(_options);
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        // One lock per outbox table: relays of other tables in the same database do not exclude each other.
        _lockKey = LockKey(_options.Outbox);
    }

    /// <summary>True while this relay is the active one (the others stand by).</summary>
    public bool IsActive => Volatile.Read(ref _active) != 0;

    /// <summary>Messages this relay published and deleted since it started.</summary>
    public long PublishedCount => Interlocked.Read(ref _published);

    /// <summary>Creates the tables when missing, then starts relaying in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_running is not null) throw new InvalidOperationException("The outbox relay is already started.");
        await Schema.CreateAsync(_dataSource, _sql, cancellationToken).ConfigureAwait(false);
        _stopping = new CancellationTokenSource();
        _running = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Stops relaying: a round under way is cancelled (its rows stay for the next relay), and the active lock is released.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_running is not { } running) return;
        await _stopping!.CancelAsync().ConfigureAwait(false);
        await running.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the relay (<see cref="StopAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping?.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var retryDelay = _options.RetryDelay;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var leader = await _dataSource.OpenConnectionAsync(stopping).ConfigureAwait(false);
                if (!await TryLockAsync(leader, stopping).ConfigureAwait(false))
                {
                    await Task.Delay(_options.StandbyInterval, _time, stopping).ConfigureAwait(false);
                    continue;
                }

                try
                {
                    Volatile.Write(ref _active, 1);
                    Log.Active(_logger, _options.Outbox);
                    leader.Notification += OnNotification;
                    if (_sql.NotifyOnCommit) await ExecuteAsync(leader, _sql.Listen, stopping).ConfigureAwait(false);
                    await RelayAsync(leader, stopping).ConfigureAwait(false);
                }
                finally
                {
                    Volatile.Write(ref _active, 0);
                    leader.Notification -= OnNotification;
                    await ReleaseAsync(leader).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database went away (a restart, a failover): stand down and start again; another relay may take over.
                Log.DatabaseFailed(_logger, _options.Outbox, e.Message, e);
                try
                {
                    await Task.Delay(retryDelay, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                retryDelay = Next(retryDelay);
            }
        }
    }

    /// <summary>The active relay's rounds: read, publish, delete what was confirmed; wait for a commit when nothing is left.</summary>
    private async Task RelayAsync(NpgsqlConnection leader, CancellationToken stopping)
    {
        var retryDelay = _options.RetryDelay;
        var cleanupDue = _time.GetTimestamp();
        long seenWrites = _sql.Signal.Writes;
        var commitWait = s_firstCommitWait;
        while (true)
        {
            stopping.ThrowIfCancellationRequested();
            if (_time.GetElapsedTime(cleanupDue) >= TimeSpan.Zero)
            {
                cleanupDue = _time.GetTimestamp() + (long)(_options.CleanupInterval.TotalSeconds * _time.TimestampFrequency);
                int deleted = await InboxCleanup.DeleteAsync(leader, _sql, _options.InboxRetention, stopping).ConfigureAwait(false);
                if (deleted > 0) Log.InboxCleaned(_logger, _options.Inbox, deleted);
            }

            // Reset before reading: a commit after the read wakes the wait below instead of being missed.
            Volatile.Write(ref _woken, 0);
            long writes = _sql.Signal.Writes;
            var rows = await ReadAsync(leader, stopping).ConfigureAwait(false);
            if (rows.Count == 0)
            {
                if (_sql.NotifyOnCommit)
                {
                    if (Volatile.Read(ref _woken) == 0) await leader.WaitAsync(_options.PollInterval, stopping).ConfigureAwait(false);
                }
                else if (writes != seenWrites && commitWait < s_maxCommitWait)
                {
                    // Written in this process, not committed yet when read: look again shortly.
                    await Task.Delay(commitWait, _time, stopping).ConfigureAwait(false);
                    commitWait *= 2;
                }
                else
                {
                    seenWrites = writes;
                    commitWait = s_firstCommitWait;
                    await _sql.Signal.WaitAsync(_options.PollInterval, stopping).ConfigureAwait(false);
                }

                continue;
            }

            seenWrites = writes;
            commitWait = s_firstCommitWait;

            var round = await PublishAsync(rows, stopping).ConfigureAwait(false);
            await SettleAsync(leader, rows, round, stopping).ConfigureAwait(false);
            if (round.Failure is { } failure && !round.Refused)
            {
                Log.PublishFailed(_logger, _options.Outbox, rows[round.FirstFailed].Message.MessageId, failure.Message, retryDelay.TotalMilliseconds);
                await Task.Delay(retryDelay, _time, stopping).ConfigureAwait(false);
                retryDelay = Next(retryDelay);
            }
            else
            {
                retryDelay = _options.RetryDelay;
            }
        }
    }

    /// <summary>
    /// Publishes <paramref name="rows"/> in order, up to <see cref="PostgresOutboxOptions.MaxInFlight"/> waiting for
    /// their confirms at once; starts no more once one failed.
    /// </summary>
    private async Task<Round> PublishAsync(List<OutboxRow> rows, CancellationToken stopping)
    {
        var publishes = new Task[rows.Count];
        int started = 0;
        bool failed = false;
        for (; started < rows.Count; started++)
        {
            if (started >= _options.MaxInFlight)
            {
                var oldest = publishes[started - _options.MaxInFlight];
                await ((Task)oldest).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (!oldest.IsCompletedSuccessfully) failed = true;
            }

            if (failed) break;
            publishes[started] = _connection.PublishAsync(rows[started].Message, stopping);
        }

        var confirmed = new bool[rows.Count];
        Exception? failure = null;
        int firstFailed = -1;
        for (int i = 0; i < started; i++)
        {
            await publishes[i].ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (publishes[i].IsCompletedSuccessfully)
            {
                confirmed[i] = true;
            }
            else if (failure is null)
            {
                stopping.ThrowIfCancellationRequested();
                failure = publishes[i].Exception?.InnerException ?? new OperationCanceledException();
                firstFailed = i;
            }
        }

        return new Round(confirmed, failure, firstFailed, failure is not null && IsRefusal(failure));
    }

    /// <summary>Deletes the confirmed rows; a refused one counts an attempt (and is left for an operator at the last).</summary>
    private async Task SettleAsync(NpgsqlConnection leader, List<OutboxRow> rows, Round round, CancellationToken stopping)
    {
        var ids = new List<long>(rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            if (round.Confirmed[i]) ids.Add(rows[i].Id);
        }

        if (ids.Count > 0)
        {
            // Not cancelled by stopping: the broker has these messages, and a row left behind would be published again.
            await using var delete = new NpgsqlCommand(_sql.Delete, leader);
            delete.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            await delete.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            Interlocked.Add(ref _published, ids.Count);
        }

        if (round.Refused)
        {
            var row = rows[round.FirstFailed];
            await using var refused = new NpgsqlCommand(_sql.Refused, leader);
            refused.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.Id, NpgsqlDbType = NpgsqlDbType.Bigint });
            refused.Parameters.Add(new NpgsqlParameter<string> { TypedValue = round.Failure!.Message, NpgsqlDbType = NpgsqlDbType.Text });
            await refused.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
            if (row.Attempts + 1 >= _options.MaxAttempts)
            {
                Log.RowParked(_logger, _options.Outbox, row.Id, row.Message.Service, row.Message.Method, row.Message.MessageId, _options.MaxAttempts, round.Failure.Message);
            }
            else
            {
                Log.RowRefused(_logger, _options.Outbox, row.Id, row.Message.Service, row.Message.Method, row.Message.MessageId, round.Failure.Message);
            }
        }
    }

    private async Task<List<OutboxRow>> ReadAsync(NpgsqlConnection leader, CancellationToken stopping)
    {
        await using var next = new NpgsqlCommand(_sql.Next, leader);
        next.Parameters.Add(new NpgsqlParameter<int> { TypedValue = _options.MaxAttempts, NpgsqlDbType = NpgsqlDbType.Integer });
        next.Parameters.Add(new NpgsqlParameter<int> { TypedValue = _options.BatchSize, NpgsqlDbType = NpgsqlDbType.Integer });
        var rows = new List<OutboxRow>();
        await using var reader = await next.ExecuteReaderAsync(stopping).ConfigureAwait(false);
        while (await reader.ReadAsync(stopping).ConfigureAwait(false))
        {
            var message = new RpcOutgoingMessage(reader.GetString(2), reader.GetString(3), reader.GetBoolean(4), reader.GetString(5), reader.GetString(6),
                reader.GetString(1), reader.GetFieldValue<byte[]>(11))
            {
                ContentType = reader.GetString(7),
                Persistent = reader.GetBoolean(8),
                Expiration = reader.IsDBNull(9) ? null : reader.GetString(9),
                Headers = HeadersText.Read(reader.IsDBNull(10) ? null : reader.GetString(10)),
            };
            rows.Add(new OutboxRow(reader.GetInt64(0), message, reader.GetInt32(12)));
        }

        return rows;
    }

    private async Task<bool> TryLockAsync(NpgsqlConnection leader, CancellationToken stopping)
    {
        await using var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", leader);
        tryLock.Parameters.Add(new NpgsqlParameter<long> { TypedValue = _lockKey, NpgsqlDbType = NpgsqlDbType.Bigint });
        return await tryLock.ExecuteScalarAsync(stopping).ConfigureAwait(false) is true;
    }

    /// <summary>The connection goes back to the pool: its session lock and LISTEN must not go with it.</summary>
    private static async Task ReleaseAsync(NpgsqlConnection leader)
    {
        if (leader.State != System.Data.ConnectionState.Open) return;
        try
        {
            await ExecuteAsync(leader, "UNLISTEN *; SELECT pg_advisory_unlock_all()", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // A broken connection holds nothing any more: the server ended its session.
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e) => Volatile.Write(ref _woken, 1);

    /// <summary>Down, blocked, unconfirmed in time, a channel closed: the broker's state, not the message's; it never counts as an attempt.</summary>
    private static bool IsRefusal(Exception e) =>
        e is RpcException rpc and not (RpcConnectionException or RpcTimeoutException)
        && rpc.StatusCode is not (RpcStatusCode.Unavailable or RpcStatusCode.DeadlineExceeded or RpcStatusCode.Cancelled);

    private static TimeSpan Next(TimeSpan delay) => delay * 2 < s_maxRetryDelay ? delay * 2 : s_maxRetryDelay;

    /// <summary>A stable 64-bit key per table (FNV-1a of its qualified name): string.GetHashCode differs per process.</summary>
    private static long LockKey(string table)
    {
        ulong hash = 14695981039346656037;
        foreach (char c in table)
        {
            hash ^= c;
            hash *= 1099511628211;
        }

        return unchecked((long)hash);
    }

    private readonly record struct OutboxRow(long Id, RpcOutgoingMessage Message, int Attempts);

    private readonly record struct Round(bool[] Confirmed, Exception? Failure, int FirstFailed, bool Refused);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Outbox relay of {Table} is active")]
        public static partial void Active(ILogger logger, string table);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Warning,
            Message = "Outbox relay of {Table}: publishing message {MessageId} failed ({Reason}); rows stay and are published again in {DelayMs} ms")]
        public static partial void PublishFailed(ILogger logger, string table, string messageId, string reason, double delayMs);

        [LoggerMessage(EventId = 2103, Level = LogLevel.Warning,
            Message = "Outbox relay of {Table}: row {Id} ({Service}.{Method}, message {MessageId}) was refused ({Reason}); it is tried again")]
        public static partial void RowRefused(ILogger logger, string table, long id, string service, string method, string messageId, string reason);

        [LoggerMessage(EventId = 2104, Level = LogLevel.Error,
            Message = "Outbox relay of {Table}: row {Id} ({Service}.{Method}, message {MessageId}) was refused {Attempts} times ({Reason}) and is left in the table; set its attempts to 0 to publish it again")]
        public static partial void RowParked(ILogger logger, string table, long id, string service, string method, string messageId, int attempts, string reason);

        [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "Outbox relay of {Table}: the database failed ({Reason}); the relay starts again")]
        public static partial void DatabaseFailed(ILogger logger, string table, string reason, Exception exception);

        [LoggerMessage(EventId = 2106, Level = LogLevel.Information, Message = "Inbox {Table}: {Count} rows past their retention deleted")]
        public static partial void InboxCleaned(ILogger logger, string table, int count);
    }
}
