using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Transport;

/// <summary>
/// The status a caller sees when a declaration, binding or consume ends in a closed channel, so every such failure
/// tells alike whether waiting and trying again can help (docs/reliability.md, "Which failures are safe to retry").
/// </summary>
internal static class BrokerRefusals
{
    /// <summary>
    /// <see cref="RpcStatusCode.Unavailable"/> when the queue or exchange is missing (404: whoever owns it may declare it
    /// yet) or the connection, not the broker's verdict, ended the operation; <see cref="RpcStatusCode.Internal"/> when
    /// the broker refused it (403 access refused, 405 locked, 406 other arguments): a set-up that retrying does not fix.
    /// </summary>
    public static RpcStatusCode StatusOf(OperationInterruptedException e) => e.ShutdownReason switch
    {
        { ReplyCode: Constants.NotFound or Constants.ConnectionForced } => RpcStatusCode.Unavailable,
        { Initiator: not ShutdownInitiator.Peer } => RpcStatusCode.Unavailable,
        _ => RpcStatusCode.Internal,
    };
}
