using System;
using System.Threading.Tasks;
using RabbitMQ.Client;

namespace RpcGen.Client;

/// <summary>
/// Tells a service's servers that a caller gave up on a call (its token fired or its timeout passed), so the server
/// running it cancels the handler's token and one that has not started it yet never runs it; and carries a streamed
/// result's credit grants (message <c>type</c> <c>credit</c>). One control message per cancel or grant to the service's
/// fanout exchange <c>rpc-control.{queue}</c> (docs/wire-format.md, "Cancelling a call").
/// </summary>
/// <remarks>
/// <para>Servers declare the exchange (they consume it); a caller only publishes, so it needs write but no configure
/// permission on it (docs/security.md). With no server running the exchange may not exist: the broker then closes the
/// publishing channel (404). Each lane publishes with confirms, one message at a time, so that close fails only the
/// message that caused it; the next one goes out on a fresh channel. Nothing is lost by it: with no server bound there
/// was nobody to cancel.</para>
/// <para>Cancels and credit travel in two lanes, each a bounded queue, one sender loop and a channel of its own, so a
/// burst of credit never delays a cancel and neither waits on the other's broker round trip. Credit is absolute, so
/// the credit lane keeps one entry per stream, the latest grant: however fast grants come, each stream costs at most
/// one message per round trip, and a lane that falls behind sends the newest grant, never a backlog of stale ones. A publish that does not
/// complete within <see cref="PublishTimeout"/> (a blocked connection, a stuck confirm) is given up with its channel,
/// so one stuck publish cannot stop the lane for good. A full queue drops its oldest entry: cancels are best effort
/// (the call's deadline still ends the server's work) and credit is absolute and resent while a caller waits, so a
/// newer grant supersedes an older one.</para>
/// </remarks>
internal sealed class ControlPublisher
{
    internal static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);
    internal const int MaxQueued = 4096;

    private readonly ControlLane _cancels;
    private readonly ControlLane _credits;

    /// <param name="connection">The connection the lanes' channels are opened on.</param>
    /// <param name="userId">The caller's user id, sent on every cancel and grant so that servers can tell it comes from the caller.</param>
    public ControlPublisher(IConnection connection, string? userId)
    {
        _cancels = new ControlLane(new ControlChannel(connection, userId, "cancel lane channel"), coalesce: false, MaxQueued, PublishTimeout);
        _credits = new ControlLane(new ControlChannel(connection, userId, "credit lane channel"), coalesce: true, MaxQueued, PublishTimeout);
    }

    /// <summary>The caller gave up on <paramref name="call"/>: the server running it may stop.</summary>
    public void Cancel(PendingCall call) => _cancels.Post(call, -1);

    /// <summary>A streamed result's credit: the server may send the items below <paramref name="credit"/>.</summary>
    public void SendCredit(PendingCall call, long credit) => _credits.Post(call, credit);

    public async ValueTask CloseAsync()
    {
        await _cancels.CloseAsync().ConfigureAwait(false);
        await _credits.CloseAsync().ConfigureAwait(false);
    }
}
