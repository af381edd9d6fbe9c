using System;
using System.Diagnostics;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace RpcGen.Health;

/// <summary>
/// What the connection's events have said about it: lost (and since when), recovered, closed. Whether the broker blocks
/// it is <see cref="RpcConnection.BlockedReason"/> (Transport/ConnectionState), not kept twice. The health check reads
/// it; RabbitMQ.Client raises the events on its own threads, hence the lock.
/// </summary>
internal sealed class ConnectionHealth : IDisposable
{
    private readonly IConnection _connection;
    private readonly object _gate = new();
    private long _lostAt;
    private string? _lostReason;
    private bool _closed;

    public ConnectionHealth(IConnection connection)
    {
        _connection = connection;
        connection.ConnectionShutdownAsync += OnShutdownAsync;
        connection.RecoverySucceededAsync += OnRecoveredAsync;
    }

    /// <summary>A consistent reading of the state.</summary>
    public Snapshot Read()
    {
        lock (_gate)
        {
            var lostFor = _lostAt != 0 ? Stopwatch.GetElapsedTime(_lostAt) : (TimeSpan?)null;
            // The socket can be gone a moment before the shutdown event has run: that is a loss too, just begun.
            if (lostFor is null && !_closed && !IsOpen()) lostFor = TimeSpan.Zero;
            return new Snapshot(_closed, lostFor, _lostReason);
        }
    }

    /// <summary>A connection the app owns may be disposed under RpcGen: then it is closed, not lost.</summary>
    private bool IsOpen()
    {
        try
        {
            return _connection.IsOpen;
        }
        catch (ObjectDisposedException)
        {
            _closed = true;
            return true;
        }
    }

    private Task OnShutdownAsync(object sender, ShutdownEventArgs reason)
    {
        lock (_gate)
        {
            // Closed on purpose (by RpcGen or the app that owns the connection): no recovery follows.
            if (reason.Initiator == ShutdownInitiator.Application) _closed = true;
            else if (_lostAt == 0) _lostAt = Stopwatch.GetTimestamp();
            _lostReason = reason.ReplyText;
        }

        return Task.CompletedTask;
    }

    private Task OnRecoveredAsync(object sender, AsyncEventArgs args)
    {
        lock (_gate)
        {
            _lostAt = 0;
            _lostReason = null;
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops listening: a connection the app owns outlives this RpcGen connection.</summary>
    public void Dispose()
    {
        _connection.ConnectionShutdownAsync -= OnShutdownAsync;
        _connection.RecoverySucceededAsync -= OnRecoveredAsync;
        lock (_gate) _closed = true;
    }

    /// <param name="Closed">Closed on purpose; it will not come back.</param>
    /// <param name="LostFor">How long ago the connection was lost, while automatic recovery reconnects; null when up.</param>
    /// <param name="LostReason">The broker's or library's reason for the loss.</param>
    internal readonly record struct Snapshot(bool Closed, TimeSpan? LostFor, string? LostReason);
}
