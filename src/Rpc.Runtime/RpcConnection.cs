using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.Client;
using RpcGen.Server;
using RpcGen.Transport;

namespace RpcGen;

/// <summary>
/// A connection to RabbitMQ from which clients are created and services are served. Thread-safe; create one per
/// process and share it. Disposing it stops its servers (draining calls in flight) and fails calls still waiting.
/// </summary>
public sealed class RpcConnection : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly ConnectionState _state;
    private readonly ConcurrentDictionary<RpcServer, byte> _servers = new();
    private readonly TaskCompletionSource _disposedCompletion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private RpcConnection(IConnection connection, ConnectionState state, RpcOptions options, RpcInvoker invoker)
    {
        _connection = connection;
        _state = state;
        Options = options;
        Invoker = invoker;
        _connection.ConnectionShutdownAsync += OnConnectionShutdownAsync;
        Diagnostics.ConnectionEvents.Attach(connection, options);
    }

    /// <summary>The options this connection was opened with.</summary>
    public RpcOptions Options { get; }

    /// <summary>The invoker generated clients call through.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RpcInvoker Invoker { get; }

    /// <summary>The node this connection is on now (its host and port); it changes when recovery moves to another node.</summary>
    internal AmqpTcpEndpoint Endpoint => _connection.Endpoint;

    /// <summary>Calls waiting for a reply on this connection.</summary>
    public int PendingCallCount => Invoker.PendingCalls.Count;

    /// <summary>
    /// True while the AMQP connection is open: false after it was lost, until automatic recovery has restored it
    /// with its channels and consumers (calls fail fast with <see cref="RpcConnectionException"/> meanwhile), and after
    /// disposal. For health checks.
    /// </summary>
    public bool IsConnected => Volatile.Read(ref _disposed) == 0 && _connection.IsOpen && !_state.IsDown;

    /// <summary>
    /// True while the broker blocks this connection's publishers (<c>connection.blocked</c>, sent on a memory or disk
    /// alarm). Meanwhile calls and one-way sends fail at once with <see cref="RpcBrokerBlockedException"/> and nothing
    /// is published. For health checks: a blocked connection is degraded, not down.
    /// </summary>
    public bool IsBlocked => _state.BlockedReason is not null;

    /// <summary>The broker's reason while <see cref="IsBlocked"/> (e.g. <c>low on memory</c>), otherwise <see langword="null"/>.</summary>
    public string? BlockedReason => _state.BlockedReason;

    /// <summary>When the current block began, while <see cref="IsBlocked"/>; otherwise <see langword="null"/>.</summary>
    public DateTimeOffset? BlockedSince => _state.BlockedSince;

    /// <summary>Connects to the broker at <paramref name="uri"/> with default options.</summary>
    /// <exception cref="RpcConnectionException">The broker cannot be reached; the message names the URI (password masked).</exception>
    public static Task<RpcConnection> ConnectAsync(Uri uri, CancellationToken cancellationToken = default) =>
        ConnectAsync(new RpcOptions { Uri = uri ?? throw new ArgumentNullException(nameof(uri)) }, cancellationToken);

    /// <summary>Connects to the broker with <paramref name="options"/>.</summary>
    /// <exception cref="RpcConnectionException">The broker cannot be reached; the message names the URI (password masked).</exception>
    public static async Task<RpcConnection> ConnectAsync(RpcOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var connection = await AmqpConnector.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
            var state = new ConnectionState(connection, options);
            var invoker = await RpcInvoker.CreateAsync(connection, state, options, cancellationToken).ConfigureAwait(false);
            return new RpcConnection(connection, state, options, invoker);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Creates a client for <typeparamref name="TService"/>: the generated <c>{Name}Client</c>.</summary>
    /// <exception cref="InvalidOperationException">No client was generated for <typeparamref name="TService"/>.</exception>
    public TService CreateClient<TService>() where TService : class
    {
        ThrowIfDisposed();
        return RpcServiceRegistry.Get<TService>().CreateClient(this);
    }

    /// <summary>
    /// Serves <typeparamref name="TService"/> with <paramref name="implementation"/>: declares the service queue
    /// (durable) and consumes it until the returned server is disposed.
    /// </summary>
    public Task<RpcServer> ServeAsync<TService>(TService implementation, CancellationToken cancellationToken = default) where TService : class
    {
        ArgumentNullException.ThrowIfNull(implementation);
        return ServeAsync<TService>(_ => implementation, cancellationToken);
    }

    /// <summary>
    /// Serves <typeparamref name="TService"/> with an implementation obtained per call from <paramref name="getImplementation"/>.
    /// </summary>
    public async Task<RpcServer> ServeAsync<TService>(Func<RpcContext, TService> getImplementation, CancellationToken cancellationToken = default)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(getImplementation);
        ThrowIfDisposed();
        var registration = RpcServiceRegistry.Get<TService>();
        var dispatcher = registration.CreateDispatcher();
        var server = await RpcServer.StartAsync(_connection, _state, Options, dispatcher.Descriptor,
            call => dispatcher.InvokeAsync(getImplementation(call.Context), call), cancellationToken).ConfigureAwait(false);
        _servers.TryAdd(server, 0);
        return server;
    }

    /// <summary>
    /// Serves <typeparamref name="TService"/>, handing each call to <paramref name="invoke"/> with the dispatcher, so
    /// the caller decides where the implementation comes from and what happens around the call (a DI scope per call).
    /// </summary>
    internal async Task<RpcServer> ServePerCallAsync<TService>(Func<RpcDispatcher<TService>, RpcServerCall, ValueTask> invoke,
        CancellationToken cancellationToken) where TService : class
    {
        ThrowIfDisposed();
        var dispatcher = RpcServiceRegistry.Get<TService>().CreateDispatcher();
        var server = await RpcServer.StartAsync(_connection, _state, Options, dispatcher.Descriptor,
            call => invoke(dispatcher, call), cancellationToken).ConfigureAwait(false);
        _servers.TryAdd(server, 0);
        return server;
    }

    private Task OnConnectionShutdownAsync(object sender, ShutdownEventArgs reason)
    {
        if (reason.Initiator == ShutdownInitiator.Application) return Task.CompletedTask;
        // No reply can arrive on the lost channel, so waiting calls fail now instead of at their timeout.
        Invoker.PendingCalls.FailAll(call => new RpcConnectionException(
            $"RPC {call.Method.Service.Name}.{call.Method.WireName}: the connection to RabbitMQ was lost before a reply came ({reason.ReplyText}).",
            call.Method.Service.Name, call.Method.WireName));
        return Task.CompletedTask;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>
    /// Stops this connection's servers (draining them all at once, each for up to <see cref="RpcOptions.DrainTimeout"/>),
    /// fails calls still waiting, and closes the connection. A second call waits for the first to finish.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _disposedCompletion.Task.ConfigureAwait(false);
            return;
        }

        try
        {
            await DisposeCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _disposedCompletion.TrySetResult();
        }
    }

    private async Task DisposeCoreAsync()
    {
        var servers = new List<Task>();
        foreach (var server in _servers.Keys) servers.Add(server.DisposeAsync().AsTask());
        await Task.WhenAll(servers).ConfigureAwait(false);
        await Invoker.CloseAsync().ConfigureAwait(false);
        _connection.ConnectionShutdownAsync -= OnConnectionShutdownAsync;
        try
        {
            await _connection.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Closing a connection that is already gone has nothing left to do.
        }

        _connection.Dispose();
    }
}
