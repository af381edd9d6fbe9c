using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// What a delivered one-way request or event says about its past: how often it was retried, whether an operator moved
/// it back from its dead-letter queue (a replay), whose it is, and where it was first published. Read once per
/// delivery, from headers that are untrusted input: the headers only a server sets on its own copies
/// (<see cref="WireContract.IsServerSetHeader"/>) are believed on a message the server's own broker user published,
/// and ignored on anyone else's, so a caller can neither forge a retry count, an identity nor a routing key.
/// </summary>
/// <param name="Retries">How often the server retried it so far.</param>
/// <param name="Replays">How often an operator moved it back from its dead-letter queue.</param>
/// <param name="Replayed">This delivery is such a replay.</param>
/// <param name="UserId">The caller it runs for.</param>
/// <param name="Exchange">The exchange the work was first published to.</param>
/// <param name="RoutingKey">The routing key it was first published with, which handlers see.</param>
internal readonly record struct WorkHistory(int Retries, int Replays, bool Replayed, string? UserId, string Exchange, string RoutingKey)
{
    /// <summary>A retry, a replay or both: the work ran before.</summary>
    public bool Repeat => Retries > 0 || Replayed;

    /// <param name="properties">The delivery's properties.</param>
    /// <param name="exchange">The exchange the broker says it came through.</param>
    /// <param name="routingKey">The routing key the broker says it came with.</param>
    /// <param name="serverUser">The broker user the server publishes its retry and dead-letter copies as; null when unknown.</param>
    public static WorkHistory Of(IReadOnlyBasicProperties properties, string exchange, string routingKey, string? serverUser)
    {
        var userId = properties.UserId;
        if (!IsServerCopy(userId, serverUser)) return new WorkHistory(0, 0, false, userId, exchange, routingKey);

        var headers = properties.Headers;
        int retries = WireContract.ReadRetries(headers);
        int replays = WireContract.ReadCount(headers, WireContract.ReplaysHeader);
        // The error headers are written on a dead letter only: on the work queue they mean it was moved back, which
        // starts its retries again.
        bool replayed = headers is not null && headers.ContainsKey(WireContract.ErrorTypeHeader);
        if (replayed)
        {
            retries = 0;
            replays++;
        }

        // RabbitMQ refuses a foreign user_id, so the server's copies are published as the server's user and carry the
        // caller in rpc-original-user.
        if (serverUser is not null && WireContract.ReadText(headers, WireContract.OriginalUserHeader) is { } original)
        {
            userId = original.Length == 0 ? null : original;
        }

        // A retry travels through the default exchange, which replaces both: the copy carries the originals.
        if (WireContract.ReadText(headers, WireContract.ExchangeHeader) is { Length: > 0 } firstExchange)
        {
            exchange = firstExchange;
            routingKey = WireContract.ReadText(headers, WireContract.RoutingKeyHeader) ?? routingKey;
        }

        return new WorkHistory(retries, replays, replayed, userId, exchange, routingKey);
    }

    /// <summary>
    /// Whether the broker says the server's own user published this message (RabbitMQ checks <c>user_id</c> against
    /// the publishing connection's user). A server whose user RpcGen does not know (a connection the app opened)
    /// publishes its copies without <c>user_id</c>, so there only a message without one can be its copy: weaker,
    /// since any caller can leave <c>user_id</c> out, and docs/security.md says so.
    /// </summary>
    private static bool IsServerCopy(string? userId, string? serverUser) =>
        serverUser is not null ? userId == serverUser : userId is null;
}
