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
        var uri = AmqpConnector.MaskPassword(options.Uri);
        RpcLog.Connected(logger, uri, connection.ClientProvidedName ?? string.Empty);

        connection.ConnectionShutdownAsync += (_, reason) =>
        {
            // Closing on purpose is no loss; anything else starts RabbitMQ.Client's automatic recovery.
            if (reason.Initiator != ShutdownInitiator.Application) RpcLog.Reconnecting(logger, uri, reason.ReplyText);
            return Task.CompletedTask;
        };
        connection.ConnectionRecoveryErrorAsync += (_, failure) =>
        {
            RpcLog.RecoveryAttemptFailed(logger, failure.Exception, uri);
            return Task.CompletedTask;
        };
        connection.RecoverySucceededAsync += (_, _) =>
        {
            RpcLog.Recovered(logger, uri);
            return Task.CompletedTask;
        };
    }
}
