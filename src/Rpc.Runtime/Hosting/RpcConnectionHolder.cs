using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Options;

namespace RpcGen.Hosting;

/// <summary>
/// The container's one <see cref="RpcConnection"/>: opened once, on first use (the hosted service asks first when the
/// host starts), closed when the container is disposed. A failed attempt is not cached: the next use tries again.
/// </summary>
internal sealed class RpcConnectionHolder : IAsyncDisposable, IDisposable
{
    private readonly IOptions<RpcOptions> _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private RpcConnection? _connection;
    private bool _disposed;

    public RpcConnectionHolder(IOptions<RpcOptions> options)
    {
        _options = options;
    }

    public async ValueTask<RpcConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _connection) is { } open) return open;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is null)
            {
                var connection = await RpcConnection.ConnectAsync(_options.Value, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _connection, connection);
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
            if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>For containers disposed synchronously; closing the connection is asynchronous underneath.</summary>
    public void Dispose() => Task.Run(() => DisposeAsync().AsTask()).GetAwaiter().GetResult();
}
