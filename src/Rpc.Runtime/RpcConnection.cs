using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.ComponentModel;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
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
    private readonly bool _ownsConnection;
    private readonly ConcurrentDictionary<RpcServer, byte> _servers = new();
    private readonly Diagnostics.ConnectionEvents _events;
    private readonly TaskCompletionSource _disposedCompletion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private RpcConnection(IConnection connection, bool ownsConnection, ConnectionState state, RpcSettings options, RpcInvoker invoker)
    {
        _connection = connection;
        _ownsConnection = ownsConnection;
        _state = state;
        Settings = options;
        Invoker = invoker;
        _connection.ConnectionShutdownAsync += OnConnectionShutdownAsync;
        _events = Diagnostics.ConnectionEvents.Attach(connection, options);
        Health = new Health.ConnectionHealth(connection);
    }

    /// <summary>
    /// What a generated client is built from when it captures instead of publishing (<see cref="RpcMessageCapture"/>): it
    /// reads <see cref="Invoker"/> alone. Nothing else of this instance may be used; it is never handed to the app.
    /// </summary>
    private RpcConnection(RpcInvoker capturing)
    {
        Invoker = capturing;
        Settings = capturing.Options;
        _connection = null!;
        _state = null!;
        _events = null!;
        Health = null!;
    }

    internal static RpcConnection Capturing(RpcInvoker invoker) => new(invoker);

    /// <summary>
    /// Publishes a captured message (<see cref="RpcMessageCapture"/>, say read back from an outbox) as the client would
    /// have: its queue or exchange declared first as RpcGen declares it, one persistent, mandatory publish on the send
    /// channel with the message's own id, type, headers and body; completes when the broker has confirmed it, and fails
    /// within <see cref="RpcClientOptions.DefaultTimeout"/> when no confirm comes. A second publish of the same message
    /// is a duplicate with the same message id.
    /// </summary>
    /// <exception cref="RpcConnectionException">Not connected, or the connection was lost before the confirm.</exception>
    /// <exception cref="RpcBrokerBlockedException">The broker blocks this connection's publishers (a memory or disk alarm).</exception>
    /// <exception cref="RpcTimeoutException">No confirm came in time; the broker may still have the message.</exception>
    /// <exception cref="RpcException">
    /// The broker refused it (a nack, a return for work, a refused declaration), or no generated code for
    /// <see cref="RpcOutgoingMessage.Service"/> is loaded in this process (status <see cref="RpcStatusCode.Unimplemented"/>).
    /// </exception>
    public Task PublishAsync(RpcOutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfDisposed();
        return Invoker.Work.PublishCapturedAsync(message, _state, cancellationToken);
    }

    /// <summary>When the connection was lost and whether it was closed, for the health check (blocked: <see cref="BlockedReason"/>).</summary>
    internal Health.ConnectionHealth Health { get; }

    /// <summary>The servers started on this connection.</summary>
    internal ICollection<RpcServer> Servers => _servers.Keys;

    /// <summary>The AMQP connection underneath (opened by RpcGen, or the app's own).</summary>
    internal IConnection Connection => _connection;

    /// <summary>The options this connection was opened with, copied and checked when it opened.</summary>
    internal RpcSettings Settings { get; }

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
        ConnectAsync(new RpcConnectionOptions { Uri = uri ?? throw new ArgumentNullException(nameof(uri)) }, cancellationToken);

    /// <summary>
    /// Connects to the broker with <paramref name="options"/>, which are copied and checked first: changing them
    /// afterwards does not change this connection.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names its class and property.</exception>
    /// <exception cref="RpcConnectionException">The broker cannot be reached; the message names the URI (password masked).</exception>
    public static async Task<RpcConnection> ConnectAsync(RpcConnectionOptions options, CancellationToken cancellationToken = default)
    {
        var settings = RpcSettings.For(options);
        return await ConnectAsync(settings, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<RpcConnection> ConnectAsync(RpcSettings options, CancellationToken cancellationToken)
    {
        var lostQueues = new LostQueueDetector(options);
        var connection = await AmqpConnector.ConnectAsync(options, cancellationToken, lostQueues.Filter).ConfigureAwait(false);
        try
        {
            lostQueues.Attach(connection);
            var state = new ConnectionState(connection, options) { LostQueues = lostQueues };
            // The user the connection authenticated as: the first node's (Validate made sure the others agree).
            var invoker = await RpcInvoker.CreateAsync(connection, state, options, AmqpConnector.UserNameOf(options.NodeUris[0]), cancellationToken)
                .ConfigureAwait(false);
            return new RpcConnection(connection, ownsConnection: true, state, options, invoker);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs RpcGen on a connection the app already has (say the <see cref="IConnection"/> Aspire's
    /// <c>AddRabbitMQClient</c> registers). RpcGen opens its own channels on it and closes them when disposed; the
    /// connection stays the app's: RpcGen does not change its settings (automatic recovery must be on, as it is by
    /// default, for RpcGen's consumers to come back after a loss) and neither closes nor disposes it.
    /// </summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="options">
    /// RpcGen's settings, copied and checked first. <see cref="RpcConnectionOptions.Uri"/>, <see cref="RpcConnectionOptions.Uris"/> and <see cref="RpcConnectionOptions.ConnectionName"/>
    /// open nothing here: if <see cref="RpcConnectionOptions.Uri"/> (or <see cref="RpcConnectionOptions.Uris"/>) was set, its user name is sent as <c>user_id</c> (it must be the user the
    /// connection authenticated as, or the broker closes the channel); if not, requests carry no <c>user_id</c>, since
    /// RabbitMQ.Client does not tell which user a connection authenticated as, and the Uri is set to the connection's endpoint.
    /// </param>
    /// <param name="cancellationToken">Cancels opening the channels.</param>
    /// <exception cref="InvalidOperationException">The connection is not open.</exception>
    /// <exception cref="ArgumentException">An option is out of range; the message names its class and property.</exception>
    public static async Task<RpcConnection> CreateAsync(IConnection connection, RpcConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var settings = RpcSettings.For(options ?? new RpcConnectionOptions());
        if (!connection.IsOpen)
        {
            throw new InvalidOperationException($"RpcGen needs an open connection; '{connection.ClientProvidedName}' is closed ({connection.CloseReason?.ReplyText}).");
        }

        var hasAddress = settings.HasUri || settings.Uris.Count > 0;
        string? userId = hasAddress ? AmqpConnector.UserNameOf(settings.NodeUris[0]) : null;
        if (!hasAddress) settings = settings.WithEndpoint(connection.Endpoint);
        var state = new ConnectionState(connection, settings);
        var invoker = await RpcInvoker.CreateAsync(connection, state, settings, userId, cancellationToken).ConfigureAwait(false);
        return new RpcConnection(connection, ownsConnection: false, state, settings, invoker);
    }

    /// <summary>Creates a client for <typeparamref name="TService"/>: the generated <c>{Name}Client</c>.</summary>
    /// <exception cref="InvalidOperationException">No client was generated for <typeparamref name="TService"/>.</exception>
    public TService CreateClient<TService>() where TService : class
    {
        ThrowIfDisposed();
        var registration = RpcServiceRegistry.Get<TService>();
        if (registration.Descriptor is RpcEventsDescriptor)
        {
            throw new InvalidOperationException($"{typeof(TService).FullName} is an [RpcEvents] interface: publish its events with CreatePublisher<{typeof(TService).Name}>().");
        }

        return registration.CreateClient(this);
    }

    /// <summary>
    /// Creates a publisher for the <see cref="RpcEventsAttribute"/> interface <typeparamref name="TEvents"/>: the
    /// generated <c>{Name}Publisher</c>. Each call publishes one event, persistent, to the interface's exchange
    /// (declared durable before the first one) and completes when the broker has confirmed it.
    /// </summary>
    /// <exception cref="InvalidOperationException">No publisher was generated for <typeparamref name="TEvents"/>, or it is an [RpcService].</exception>
    public TEvents CreatePublisher<TEvents>() where TEvents : class
    {
        ThrowIfDisposed();
        return EventsRegistration<TEvents>().CreateClient(this);
    }

    /// <summary>
    /// Subscribes <paramref name="handler"/> to the events of <typeparamref name="TEvents"/>: declares the exchange and
    /// the subscription's queue, binds it, and consumes it until the returned subscriber is disposed. A handler that
    /// throws gets the event again (up to <see cref="RpcServerOptions.RetryLimit"/> retries), then it is dead-lettered.
    /// The subscription runs with the connection's <see cref="RpcConnectionOptions.Server"/> options.
    /// </summary>
    /// <exception cref="InvalidOperationException">No dispatcher was generated for <typeparamref name="TEvents"/>, or it is an [RpcService].</exception>
    /// <exception cref="RpcException">The broker refused the exchange, queue or bindings (e.g. an exchange of another type exists).</exception>
    public async Task<RpcSubscriber> SubscribeAsync<TEvents>(TEvents handler, RpcSubscription subscription, CancellationToken cancellationToken = default)
        where TEvents : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(subscription);
        ThrowIfDisposed();
        return await SubscribeAsync(handler, subscription, configure: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Subscribes <paramref name="handler"/> to the events of <typeparamref name="TEvents"/>, as
    /// <see cref="SubscribeAsync{TEvents}(TEvents, RpcSubscription, CancellationToken)"/> does, with server options of its
    /// own: <paramref name="configure"/> gets a copy of the connection's <see cref="RpcConnectionOptions.Server"/>
    /// (retries, drain, body limits, interceptors) to change for this subscription alone.
    /// </summary>
    /// <exception cref="ArgumentException">A server option is out of range; the message names it and the events interface.</exception>
    /// <exception cref="InvalidOperationException">No dispatcher was generated for <typeparamref name="TEvents"/>, or it is an [RpcService].</exception>
    /// <exception cref="RpcException">The broker refused the exchange, queue or bindings (e.g. an exchange of another type exists).</exception>
    public async Task<RpcSubscriber> SubscribeAsync<TEvents>(TEvents handler, RpcSubscription subscription, Action<RpcServerOptions>? configure,
        CancellationToken cancellationToken = default) where TEvents : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(subscription);
        ThrowIfDisposed();
        var server = await SubscribePerEventAsync<TEvents>((dispatcher, call) => dispatcher.InvokeAsync(handler, call), subscription, configure,
            cancellationToken).ConfigureAwait(false);
        return new RpcSubscriber(server, stopped => _servers.TryRemove(stopped, out _));
    }

    /// <summary>
    /// Subscribes to <typeparamref name="TEvents"/>, handing each event to <paramref name="invoke"/> with the
    /// dispatcher, so the caller decides where the handler comes from (a DI scope per event).
    /// </summary>
    internal async Task<RpcServer> SubscribePerEventAsync<TEvents>(Func<RpcDispatcher<TEvents>, RpcServerCall, ValueTask> invoke,
        RpcSubscription subscription, Action<RpcServerOptions>? configure, CancellationToken cancellationToken) where TEvents : class
    {
        ThrowIfDisposed();
        var dispatcher = EventsRegistration<TEvents>().CreateDispatcher();
        var settings = Settings.ForServer(dispatcher.Descriptor.Name, configure);
        var handle = Diagnostics.EventTelemetry.Counted(dispatcher.Descriptor.Name, call => invoke(dispatcher, call));
        var server = await RpcServer.StartAsync(_connection, _state, settings, dispatcher.Descriptor, handle, cancellationToken, subscription)
            .ConfigureAwait(false);
        _servers.TryAdd(server, 0);
        return server;
    }

    private static RpcServiceRegistry.Registration<TEvents> EventsRegistration<TEvents>() where TEvents : class
    {
        var registration = RpcServiceRegistry.Get<TEvents>();
        if (registration.Descriptor is not RpcEventsDescriptor)
        {
            throw new InvalidOperationException($"{typeof(TEvents).FullName} is an [RpcService] interface, not [RpcEvents]: call it with CreateClient and serve it with ServeAsync.");
        }

        return registration;
    }

    /// <summary>
    /// Serves <typeparamref name="TService"/> with <paramref name="implementation"/>: declares the service queue
    /// (durable) and consumes it until the returned server is disposed. It runs with the connection's
    /// <see cref="RpcConnectionOptions.Server"/> options.
    /// </summary>
    public Task<RpcServer> ServeAsync<TService>(TService implementation, CancellationToken cancellationToken = default) where TService : class =>
        ServeAsync(implementation, configure: null, cancellationToken);

    /// <summary>
    /// Serves <typeparamref name="TService"/> with <paramref name="implementation"/>, with server options of its own:
    /// <paramref name="configure"/> gets a copy of the connection's <see cref="RpcConnectionOptions.Server"/> to change
    /// for this service alone (say its <see cref="RpcServerOptions.Prefetch"/> or retries).
    /// </summary>
    /// <exception cref="ArgumentException">A server option is out of range; the message names it and the service.</exception>
    public Task<RpcServer> ServeAsync<TService>(TService implementation, Action<RpcServerOptions>? configure, CancellationToken cancellationToken = default)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(implementation);
        return ServeAsync<TService>(_ => implementation, configure, cancellationToken);
    }

    /// <summary>
    /// Serves <typeparamref name="TService"/> with an implementation obtained per call from <paramref name="getImplementation"/>.
    /// </summary>
    public Task<RpcServer> ServeAsync<TService>(Func<RpcContext, TService> getImplementation, CancellationToken cancellationToken = default)
        where TService : class =>
        ServeAsync(getImplementation, configure: null, cancellationToken);

    /// <summary>
    /// Serves <typeparamref name="TService"/> with an implementation obtained per call from <paramref name="getImplementation"/>,
    /// with server options of its own (<paramref name="configure"/> changes a copy of the connection's <see cref="RpcConnectionOptions.Server"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A server option is out of range; the message names it and the service.</exception>
    public async Task<RpcServer> ServeAsync<TService>(Func<RpcContext, TService> getImplementation, Action<RpcServerOptions>? configure,
        CancellationToken cancellationToken = default) where TService : class
    {
        ArgumentNullException.ThrowIfNull(getImplementation);
        ThrowIfDisposed();
        var registration = RpcServiceRegistry.Get<TService>();
        if (registration.Descriptor is RpcEventsDescriptor)
        {
            throw new InvalidOperationException($"{typeof(TService).FullName} is an [RpcEvents] interface: receive its events with SubscribeAsync.");
        }

        var dispatcher = registration.CreateDispatcher();
        var settings = Settings.ForServer(dispatcher.Descriptor.Name, configure);
        var server = await RpcServer.StartAsync(_connection, _state, settings, dispatcher.Descriptor,
            call => dispatcher.InvokeAsync(getImplementation(call.Context), call), cancellationToken).ConfigureAwait(false);
        _servers.TryAdd(server, 0);
        return server;
    }

    /// <summary>
    /// Serves <typeparamref name="TService"/>, handing each call to <paramref name="invoke"/> with the dispatcher, so
    /// the caller decides where the implementation comes from and what happens around the call (a DI scope per call).
    /// </summary>
    internal async Task<RpcServer> ServePerCallAsync<TService>(Func<RpcDispatcher<TService>, RpcServerCall, ValueTask> invoke,
        Action<RpcServerOptions>? configure, CancellationToken cancellationToken) where TService : class
    {
        ThrowIfDisposed();
        var dispatcher = RpcServiceRegistry.Get<TService>().CreateDispatcher();
        var settings = Settings.ForServer(dispatcher.Descriptor.Name, configure);
        var server = await RpcServer.StartAsync(_connection, _state, settings, dispatcher.Descriptor,
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
    /// Stops this connection's servers (draining them all at once, each for up to its <see cref="RpcServerOptions.DrainTimeout"/>),
    /// fails calls still waiting, closes RpcGen's channels, and closes the connection if RpcGen opened it (not one passed
    /// to <see cref="CreateAsync(IConnection, RpcConnectionOptions?, CancellationToken)"/>). A second call waits for the first to finish.
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
        _events.Dispose();
        Health.Dispose();
        // The app's connection is the app's to close: RpcGen has closed its channels on it, which is all it opened.
        if (!_ownsConnection) return;
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
