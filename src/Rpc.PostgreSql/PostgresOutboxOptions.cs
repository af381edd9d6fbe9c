using System;
using System.Text.RegularExpressions;

namespace RpcGen.PostgreSql;

/// <summary>Where the outbox and inbox live and how the relay works (docs/outbox.md).</summary>
public sealed partial class PostgresOutboxOptions
{
    /// <summary>The schema of both tables; <c>public</c> by default.</summary>
    public string Schema { get; set; } = "public";

    /// <summary>The outbox table: one row per captured message, deleted once the broker confirmed it.</summary>
    public string OutboxTable { get; set; } = "rpcgen_outbox";

    /// <summary>The inbox table: one row per (consumer, message id) a handler has committed.</summary>
    public string InboxTable { get; set; } = "rpcgen_inbox";

    /// <summary>The LISTEN/NOTIFY channel a commit with outbox rows wakes the relay on.</summary>
    public string NotifyChannel { get; set; } = "rpcgen_outbox";

    /// <summary>
    /// Whether each transaction that writes to the outbox also sends a NOTIFY, which wakes the relay in whichever
    /// process it runs at the commit; false by default. Without it, a relay in the writer's process is woken in-process
    /// right after each write (and looks again until the commit shows), and one in another process finds the rows by
    /// polling every <see cref="PollInterval"/>. Turn it on when the writers and the relay are different processes and
    /// the poll's delay matters, knowing that PostgreSQL serialises the commits of transactions that NOTIFY (a
    /// database-wide lock at commit): docs/performance.md measured a third to a quarter of the throughput with it on 16 writers.
    /// </summary>
    public bool NotifyOnCommit { get; set; }

    /// <summary>Rows the relay reads per round; 100 by default.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// Publishes the relay waits confirms for at once; 100 by default. With 1, the relay publishes one message at a time
    /// and stops at the first failure, so the broker receives a transaction's messages in order even across broker
    /// failures (each then costs a confirm round trip).
    /// </summary>
    public int MaxInFlight { get; set; } = 100;

    /// <summary>How often the relay looks at the table when no notification woke it (the fallback); 1 s by default.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the relay waits after a failed round (broker down or blocked), doubling to at most 10 s; 0.5 s by default.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a relay that is not the active one tries to become it; 2 s by default.</summary>
    public TimeSpan StandbyInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Refusals a row may get (no generated code for its service in the relay's process, a broker that refuses its
    /// queue or exchange) before the relay leaves it for an operator; 10 by default. A broker that is down or blocked
    /// is no refusal: it never counts.
    /// </summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>How long inbox rows are kept before the relay deletes them; 7 days by default. A redelivery later than this runs again.</summary>
    public TimeSpan InboxRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the active relay deletes inbox rows older than <see cref="InboxRetention"/>; 1 hour by default.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromHours(1);

    internal string Outbox => Qualified(OutboxTable);

    internal string Inbox => Qualified(InboxTable);

    private string Qualified(string table) => "\"" + Schema + "\".\"" + table + "\"";

    /// <summary>Checks the options; names go into SQL as quoted identifiers, so only plain ones are accepted.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    internal PostgresOutboxOptions Validated()
    {
        Identifier(Schema, nameof(Schema));
        Identifier(OutboxTable, nameof(OutboxTable));
        Identifier(InboxTable, nameof(InboxTable));
        Identifier(NotifyChannel, nameof(NotifyChannel));
        if (BatchSize < 1) throw new ArgumentException("PostgresOutboxOptions.BatchSize must be at least 1.");
        if (MaxInFlight < 1) throw new ArgumentException("PostgresOutboxOptions.MaxInFlight must be at least 1.");
        if (MaxAttempts < 1) throw new ArgumentException("PostgresOutboxOptions.MaxAttempts must be at least 1.");
        Positive(PollInterval, nameof(PollInterval));
        Positive(RetryDelay, nameof(RetryDelay));
        Positive(StandbyInterval, nameof(StandbyInterval));
        Positive(InboxRetention, nameof(InboxRetention));
        Positive(CleanupInterval, nameof(CleanupInterval));
        return (PostgresOutboxOptions)MemberwiseClone();
    }

    private static void Identifier(string? value, string name)
    {
        if (value is null || !PlainIdentifier().IsMatch(value))
        {
            throw new ArgumentException($"PostgresOutboxOptions.{name} must be a plain identifier (letters, digits, underscores, at most 63); it is '{value}'.");
        }
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero) throw new ArgumentException($"PostgresOutboxOptions.{name} must be positive.");
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    private static partial Regex PlainIdentifier();
}
