using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.Transport;

namespace RpcGen.Diagnostics;

/// <summary>Logs the life of one connection: connected, lost (reconnecting), each failed reconnect, recovered.</summary>
internal static class ConnectionEvents
{
    public static void Attach(IConnection connection, RpcOptions options)
    {
        var logger = options.Loggers.Connection;
        // With several node URIs, each message names the node: the one connected to, lost, or recovered to.
        RpcLog.Connected(logger, AmqpConnector.NodeOf(connection, options), connection.ClientProvidedName ?? string.Empty);

        connection.ConnectionShutdownAsync += (_, reason) =>
        {
            // Closing on purpose is no loss; anything else starts RabbitMQ.Client's automatic recovery.
            if (reason.Initiator != ShutdownInitiator.Application) RpcLog.Reconnecting(logger, AmqpConnector.NodeOf(connection, options), reason.ReplyText);
            return Task.CompletedTask;
        };
        connection.ConnectionRecoveryErrorAsync += (_, failure) =>
        {
            RpcLog.RecoveryAttemptFailed(logger, failure.Exception, AmqpConnector.MaskPassword(options.NodeUris[0]) + (options.NodeUris.Count > 1 ? " (or another node)" : ""));
            return Task.CompletedTask;
        };
        connection.RecoverySucceededAsync += (_, _) =>
        {
            RpcLog.Recovered(logger, AmqpConnector.NodeOf(connection, options));
            return Task.CompletedTask;
        };
    }
}
