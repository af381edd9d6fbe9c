using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RpcGen.Hosting;

/// <summary>
/// The <see cref="RpcConnection"/> of one <see cref="RpcConnectionDefinition"/>: opened once, on first use (the hosted
/// service asks first when the host starts), closed when the container is disposed. A failed attempt is not cached:
/// the next use tries again.
/// </summary>
internal sealed class RpcConnectionHolder : IAsyncDisposable, IDisposable
{
    private readonly RpcConnectionDefinition _definition;
    private readonly IServiceProvider _services;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private RpcConnection? _connection;
    private volatile Exception? _lastFailure;
    private bool _disposed;

    public RpcConnectionHolder(RpcConnectionDefinition definition, IServiceProvider services)
    {
        _definition = definition;
        _services = services;
    }

    public RpcConnectionDefinition Definition => _definition;

    /// <summary>The open connection, or null before the first successful open and after disposal.</summary>
    public RpcConnection? Current => Volatile.Read(ref _connection);

    /// <summary>Why the last attempt to open failed, while no connection is open.</summary>
    public Exception? LastFailure => _lastFailure;

    public async ValueTask<RpcConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _connection) is { } open) return open;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is null)
            {
                var options = _services.GetRequiredService<IOptionsMonitor<RpcConnectionOptions>>().Get(_definition.OptionsName);
                try
                {
                    var connection = _definition.ExternalConnection is { } external
                        ? await RpcConnection.CreateAsync(external(_services), options, cancellationToken).ConfigureAwait(false)
                        : await RpcConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
                    _lastFailure = null;
                    Volatile.Write(ref _connection, connection);
                }
                catch (Exception e)
                {
                    _lastFailure = e;
                    throw;
                }
            }

            return _connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// For DI factories, which cannot await: blocks until connected the first time (bounded by the connection
    /// timeout), and is free afterwards. Under a generic host the hosted service has connected before any request runs.
    /// </summary>
    public RpcConnection Get()
    {
        if (Volatile.Read(ref _connection) is { } open) return open;
        return Task.Run(() => GetAsync(CancellationToken.None).AsTask()).GetAwaiter().GetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            _disposed = true;
            var connection = _connection;
            Volatile.Write(ref _connection, null);
            if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>For containers disposed synchronously; closing the connection is asynchronous underneath.</summary>
    public void Dispose() => Task.Run(() => DisposeAsync().AsTask()).GetAwaiter().GetResult();
}
