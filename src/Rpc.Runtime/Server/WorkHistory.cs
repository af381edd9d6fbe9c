using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// What a delivered one-way request or event says about its past: how often it was retried, whether an operator moved
/// it back from its dead-letter queue (a replay), and whose it is. Read once per delivery, from headers that are
/// untrusted input: only what the server's own broker user published is believed.
/// </summary>
internal readonly record struct WorkHistory(int Retries, int Replays, bool Replayed, string? UserId)
{
    /// <summary>A retry, a replay or both: the work ran before.</summary>
    public bool Repeat => Retries > 0 || Replayed;

    /// <param name="properties">The delivery's properties.</param>
    /// <param name="serverUser">The broker user the server publishes its retry and dead-letter copies as; null when unknown.</param>
    public static WorkHistory Of(IReadOnlyBasicProperties properties, string? serverUser)
    {
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
        // caller in rpc-original-user. Believed only on a message the broker says the server's user published: from
        // anyone else (a caller forging a retry) the header is ignored, and the next copy replaces it.
        string? userId = properties.UserId;
        if (serverUser is not null && userId == serverUser && WireContract.ReadText(headers, WireContract.OriginalUserHeader) is { } original)
        {
            userId = original.Length == 0 ? null : original;
        }

        return new WorkHistory(retries, replays, replayed, userId);
    }
}
