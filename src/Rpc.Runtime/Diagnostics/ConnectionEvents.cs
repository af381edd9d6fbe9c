using System;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.Transport;

namespace RpcGen.Diagnostics;

/// <summary>
/// Logs the life of one connection: connected, lost (reconnecting), each failed reconnect, recovered. With several
/// node URIs, each message names the node: the one connected to, lost, or recovered to. Disposing it stops listening,
/// for a connection the app owns that outlives the RpcGen connection on it.
/// </summary>
internal sealed class ConnectionEvents : IDisposable
{
    private readonly IConnection _connection;
    private readonly RpcSettings _options;
    private readonly Microsoft.Extensions.Logging.ILogger _logger;

    private ConnectionEvents(IConnection connection, RpcSettings options)
    {
        _connection = connection;
        _options = options;
        _logger = options.Loggers.Connection;
        RpcLog.Connected(_logger, AmqpConnector.NodeOf(connection, options), connection.ClientProvidedName ?? string.Empty);
        connection.ConnectionShutdownAsync += OnShutdownAsync;
        connection.ConnectionRecoveryErrorAsync += OnRecoveryErrorAsync;
        connection.RecoverySucceededAsync += OnRecoveredAsync;
    }

    public static ConnectionEvents Attach(IConnection connection, RpcSettings options) => new(connection, options);

    private Task OnShutdownAsync(object sender, ShutdownEventArgs reason)
    {
        // Closing on purpose is no loss; anything else starts RabbitMQ.Client's automatic recovery.
        if (reason.Initiator != ShutdownInitiator.Application) RpcLog.Reconnecting(_logger, AmqpConnector.NodeOf(_connection, _options), reason.ReplyText);
        return Task.CompletedTask;
    }

    private Task OnRecoveryErrorAsync(object sender, ConnectionRecoveryErrorEventArgs failure)
    {
        RpcLog.RecoveryAttemptFailed(_logger, failure.Exception,
            AmqpConnector.MaskPassword(_options.NodeUris[0]) + (_options.NodeUris.Count > 1 ? " (or another node)" : ""));
        return Task.CompletedTask;
    }

    private Task OnRecoveredAsync(object sender, AsyncEventArgs args)
    {
        RpcLog.Recovered(_logger, AmqpConnector.NodeOf(_connection, _options));
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _connection.ConnectionShutdownAsync -= OnShutdownAsync;
        _connection.ConnectionRecoveryErrorAsync -= OnRecoveryErrorAsync;
        _connection.RecoverySucceededAsync -= OnRecoveredAsync;
    }
}
