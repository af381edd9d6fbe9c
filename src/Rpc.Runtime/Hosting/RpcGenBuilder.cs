using System;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RabbitMQ.Client;

namespace RpcGen.Hosting;

/// <summary>
/// Registers RpcGen clients, servers and subscribers on one connection of a service collection, the default one or a named one;
/// returned by <c>AddRpcGen</c>.
/// </summary>
public sealed class RpcGenBuilder
{
    internal RpcGenBuilder(IServiceCollection services, RpcConnectionDefinition connection)
    {
        Services = services;
        Connection = connection;
    }

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// The connection's name, which is also the service key of its <see cref="RpcConnection"/> and its clients;
    /// <see langword="null"/> for the default connection, registered without a key.
    /// </summary>
    public string? Name => Connection.Name;

    internal RpcConnectionDefinition Connection { get; }

    /// <summary>
    /// Registers <typeparamref name="TService"/> as a singleton: the generated client on this builder's connection.
    /// On the default connection inject the interface; on a named one inject it with <c>[FromKeyedServices("name")]</c>
    /// or resolve it with <c>GetRequiredKeyedService&lt;TService&gt;("name")</c>.
    /// </summary>
    /// <typeparam name="TService">An interface marked <see cref="RpcServiceAttribute"/>.</typeparam>
    /// <exception cref="InvalidOperationException">
    /// <typeparamref name="TService"/> is an <see cref="RpcEventsAttribute"/> interface (register it with <see cref="AddRpcPublisher{TEvents}"/>),
    /// or no client was generated for it.
    /// </exception>
    public RpcGenBuilder AddRpcClient<TService>() where TService : class
    {
        if (RpcServiceRegistry.Get<TService>().Descriptor is RpcEventsDescriptor)
        {
            throw new InvalidOperationException(
                $"{typeof(TService).FullName} is an [RpcEvents] interface: register its publisher with AddRpcPublisher<{typeof(TService).Name}>().");
        }

        if (Name is not { } name)
        {
            Services.TryAddSingleton<TService>(static provider => provider.GetRequiredService<RpcConnection>().CreateClient<TService>());
        }
        else
        {
            Services.TryAddKeyedSingleton<TService>(name, static (provider, key) =>
                provider.GetRequiredKeyedService<RpcConnection>(key).CreateClient<TService>());
        }

        return this;
    }

    /// <summary>
    /// Registers <typeparamref name="TEvents"/> as a singleton: the generated publisher of the <see cref="RpcEventsAttribute"/>
    /// interface on this builder's connection (see <see cref="RpcConnection.CreatePublisher{TEvents}"/>). On a named
    /// connection inject it with <c>[FromKeyedServices("name")]</c>.
    /// </summary>
    /// <typeparam name="TEvents">An interface marked <see cref="RpcEventsAttribute"/>.</typeparam>
    /// <exception cref="InvalidOperationException">
    /// <typeparamref name="TEvents"/> is an <see cref="RpcServiceAttribute"/> interface (register it with <see cref="AddRpcClient{TService}"/>),
    /// or no publisher was generated for it.
    /// </exception>
    public RpcGenBuilder AddRpcPublisher<TEvents>() where TEvents : class
    {
        if (RpcServiceRegistry.Get<TEvents>().Descriptor is not RpcEventsDescriptor)
        {
            throw new InvalidOperationException(
                $"{typeof(TEvents).FullName} is an [RpcService] interface, not [RpcEvents]: register its client with AddRpcClient<{typeof(TEvents).Name}>().");
        }

        if (Name is not { } name)
        {
            Services.TryAddSingleton<TEvents>(static provider => provider.GetRequiredService<RpcConnection>().CreatePublisher<TEvents>());
        }
        else
        {
            Services.TryAddKeyedSingleton<TEvents>(name, static (provider, key) =>
                provider.GetRequiredKeyedService<RpcConnection>(key).CreatePublisher<TEvents>());
        }

        return this;
    }

    /// <summary>
    /// Serves <typeparamref name="TService"/> on this builder's connection while the host runs. Each call gets a new DI
    /// scope, from which a <typeparamref name="TImplementation"/> is resolved (registered scoped unless already
    /// registered), and the scope is disposed once the call is answered, so scoped dependencies such as a DbContext work per call.
    /// </summary>
    /// <typeparam name="TService">An interface marked <see cref="RpcServiceAttribute"/>.</typeparam>
    /// <typeparam name="TImplementation">The class that implements it.</typeparam>
    /// <param name="configure">
    /// Sets this service's own server options, on a copy of the connection's <see cref="RpcConnectionOptions.Server"/>
    /// after the configuration section <c>RpcGen:Servers:{ServiceName}</c> (e.g. <c>RpcGen:Servers:Orders:Prefetch</c>) is applied.
    /// </param>
    /// <exception cref="InvalidOperationException"><typeparamref name="TService"/> is already served on this connection.</exception>
    public RpcGenBuilder AddRpcServer<TService, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>(
        Action<RpcServerOptions>? configure = null)
        where TService : class
        where TImplementation : class, TService
    {
        foreach (var descriptor in Services)
        {
            if (descriptor.ServiceType == typeof(RpcServerRegistration)
                && descriptor.ImplementationInstance is RpcServerRegistration { Subscription: null } existing
                && existing.Connection == Connection
                && existing.ServiceType == typeof(TService))
            {
                throw new InvalidOperationException(
                    $"{typeof(TService).Name} is already served by {existing.ImplementationType.Name} on {Connection.Describe()}; call AddRpcServer " +
                    "once per service and connection (run more instances of the process to serve it more widely).");
            }
        }

        Services.TryAddScoped<TImplementation>();
        Services.AddSingleton(RpcServerRegistration.Create<TService, TImplementation>(Connection, configure));
        return this;
    }

    /// <summary>
    /// Subscribes to the events of <typeparamref name="TEvents"/> on this builder's connection while the host runs: the
    /// subscription's exchange, queue and bindings are declared when the host starts, and it stops (draining events in
    /// flight; an exclusive queue is deleted) when the host stops. Each event gets a new DI scope, from which a
    /// <typeparamref name="THandler"/> is resolved (registered scoped unless already registered), disposed once the event
    /// is handled. A handler that throws gets the event again, up to <see cref="RpcServerOptions.RetryLimit"/> retries, then
    /// it is dead-lettered, as with <see cref="RpcConnection.SubscribeAsync{TEvents}(TEvents, RpcSubscription, System.Threading.CancellationToken)"/>.
    /// </summary>
    /// <typeparam name="TEvents">An interface marked <see cref="RpcEventsAttribute"/>.</typeparam>
    /// <typeparam name="THandler">The class that handles its events.</typeparam>
    /// <param name="configure">
    /// Sets the subscription: <see cref="RpcSubscription.Queue"/> names the group (a durable queue its members share;
    /// empty, the default, is an exclusive queue of this process), <see cref="RpcSubscription.Bindings"/> the routing keys
    /// or topic patterns.
    /// </param>
    /// <param name="configureServer">
    /// Sets this subscription's own server options (retries, drain, interceptors), as <paramref name="configure"/> of
    /// <see cref="AddRpcServer{TService, TImplementation}"/> does; the configuration section is <c>RpcGen:Servers:{EventsName}</c>.
    /// </param>
    /// <exception cref="InvalidOperationException"><typeparamref name="TEvents"/> is already subscribed with the same queue on this connection.</exception>
    public RpcGenBuilder AddRpcSubscriber<TEvents, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        Action<RpcSubscription>? configure = null, Action<RpcServerOptions>? configureServer = null)
        where TEvents : class
        where THandler : class, TEvents
    {
        var subscription = new RpcSubscription();
        configure?.Invoke(subscription);
        foreach (var descriptor in Services)
        {
            if (descriptor.ServiceType == typeof(RpcServerRegistration)
                && descriptor.ImplementationInstance is RpcServerRegistration { Subscription: { } existing } registration
                && registration.Connection == Connection
                && registration.ServiceType == typeof(TEvents)
                && string.Equals(existing.Queue, subscription.Queue, StringComparison.Ordinal))
            {
                var queue = subscription.Queue.Length == 0 ? "an exclusive queue" : $"queue '{subscription.Queue}'";
                throw new InvalidOperationException(
                    $"{typeof(TEvents).Name} is already subscribed by {registration.ImplementationType.Name} with {queue} on {Connection.Describe()}; " +
                    "subscribe once per queue and connection (a named queue's group grows by running more instances of the process).");
            }
        }

        Services.TryAddScoped<THandler>();
        Services.AddSingleton(RpcServerRegistration.CreateSubscriber<TEvents, THandler>(Connection, subscription, configureServer));
        return this;
    }

    /// <summary>
    /// Reads the broker address from the connection string <c>ConnectionStrings:{name}</c>, as Aspire apps configure
    /// it (an <c>amqp://</c> or <c>amqps://</c> URI). It wins over the section's <c>Uri</c>; code set through
    /// <c>AddRpcGen(configure)</c> still wins over both. A missing connection string is an error when the connection opens.
    /// </summary>
    /// <param name="name">The connection string's name, e.g. <c>messaging</c>.</param>
    public RpcGenBuilder UseConnectionString(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Connection.ConnectionStringName = name;
        return this;
    }

    /// <summary>
    /// Runs RpcGen on a connection the app already has instead of opening its own. RpcGen then owns only its channels
    /// on it; the connection's settings (address, credentials, recovery, name) and its disposal stay the app's. See
    /// <see cref="RpcConnection.CreateAsync(IConnection, RpcConnectionOptions?, System.Threading.CancellationToken)"/>.
    /// </summary>
    /// <param name="connection">Returns the connection, called once, when RpcGen first connects.</param>
    public RpcGenBuilder UseConnection(Func<IServiceProvider, IConnection> connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Connection.ExternalConnection = connection;
        return this;
    }

    /// <summary>
    /// Runs RpcGen on the <see cref="IConnection"/> registered in the container, such as the one Aspire's
    /// <c>builder.AddRabbitMQClient("messaging")</c> registers (or, with <paramref name="serviceKey"/>, the keyed one
    /// <c>AddKeyedRabbitMQClient</c> registers). Call <see cref="UseConnectionString"/> with the same name too if RpcGen
    /// should send <c>user_id</c> and report the broker's address.
    /// </summary>
    /// <param name="serviceKey">The connection's service key; <see langword="null"/> for the one registered without a key.</param>
    public RpcGenBuilder UseConnectionFromServices(object? serviceKey = null) =>
        UseConnection(serviceKey is null
            ? static provider => provider.GetRequiredService<IConnection>()
            : provider => provider.GetRequiredKeyedService<IConnection>(serviceKey));

    /// <summary>Sets how this connection's health check is registered (tags, grace period, or not at all).</summary>
    public RpcGenBuilder ConfigureHealthCheck(Action<RpcHealthCheckOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(Connection.HealthCheck);
        return this;
    }

    /// <summary>
    /// Adds <typeparamref name="TInterceptor"/> (a singleton, resolved from the container) to
    /// <see cref="RpcClientOptions.Interceptors"/>: it runs around every call the container's connection makes.
    /// </summary>
    public RpcGenBuilder AddRpcClientInterceptor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInterceptor>()
        where TInterceptor : class, IRpcClientInterceptor
    {
        Services.TryAddSingleton<TInterceptor>();
        Services.AddSingleton<Microsoft.Extensions.Options.IConfigureOptions<RpcConnectionOptions>>(static provider =>
            new Microsoft.Extensions.Options.ConfigureOptions<RpcConnectionOptions>(options => options.Client.Interceptors.Add(provider.GetRequiredService<TInterceptor>())));
        return this;
    }

    /// <summary>
    /// Adds <typeparamref name="TInterceptor"/> (a singleton, resolved from the container) to
    /// <see cref="RpcServerOptions.Interceptors"/>: it runs around every request the container's servers handle.
    /// </summary>
    public RpcGenBuilder AddRpcServerInterceptor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInterceptor>()
        where TInterceptor : class, IRpcServerInterceptor
    {
        Services.TryAddSingleton<TInterceptor>();
        Services.AddSingleton<Microsoft.Extensions.Options.IConfigureOptions<RpcConnectionOptions>>(static provider =>
            new Microsoft.Extensions.Options.ConfigureOptions<RpcConnectionOptions>(options => options.Server.Interceptors.Add(provider.GetRequiredService<TInterceptor>())));
        return this;
    }
}
