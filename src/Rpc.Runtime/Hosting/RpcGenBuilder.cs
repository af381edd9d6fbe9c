using System;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RabbitMQ.Client;

namespace RpcGen.Hosting;

/// <summary>
/// Registers RpcGen clients and servers on one connection of a service collection, the default one or a named one;
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
    public RpcGenBuilder AddRpcClient<TService>() where TService : class
    {
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
    /// Serves <typeparamref name="TService"/> on this builder's connection while the host runs. Each call gets a new DI
    /// scope, from which a <typeparamref name="TImplementation"/> is resolved (registered scoped unless already
    /// registered), and the scope is disposed once the call is answered, so scoped dependencies such as a DbContext work per call.
    /// </summary>
    /// <typeparam name="TService">An interface marked <see cref="RpcServiceAttribute"/>.</typeparam>
    /// <typeparam name="TImplementation">The class that implements it.</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="TService"/> is already served on this connection.</exception>
    public RpcGenBuilder AddRpcServer<TService, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>()
        where TService : class
        where TImplementation : class, TService
    {
        foreach (var descriptor in Services)
        {
            if (descriptor.ServiceType == typeof(RpcServerRegistration)
                && descriptor.ImplementationInstance is RpcServerRegistration existing
                && existing.Connection == Connection
                && existing.ServiceType == typeof(TService))
            {
                throw new InvalidOperationException(
                    $"{typeof(TService).Name} is already served by {existing.ImplementationType.Name} on {Connection.Describe()}; call AddRpcServer " +
                    "once per service and connection (run more instances of the process to serve it more widely).");
            }
        }

        Services.TryAddScoped<TImplementation>();
        Services.AddSingleton(RpcServerRegistration.Create<TService, TImplementation>(Connection));
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
    /// <see cref="RpcConnection.CreateAsync(IConnection, RpcOptions?, System.Threading.CancellationToken)"/>.
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
    /// <see cref="RpcOptions.ClientInterceptors"/>: it runs around every call the container's connection makes.
    /// </summary>
    public RpcGenBuilder AddRpcClientInterceptor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInterceptor>()
        where TInterceptor : class, IRpcClientInterceptor
    {
        Services.TryAddSingleton<TInterceptor>();
        Services.AddSingleton<Microsoft.Extensions.Options.IConfigureOptions<RpcOptions>>(static provider =>
            new Microsoft.Extensions.Options.ConfigureOptions<RpcOptions>(options => options.ClientInterceptors.Add(provider.GetRequiredService<TInterceptor>())));
        return this;
    }

    /// <summary>
    /// Adds <typeparamref name="TInterceptor"/> (a singleton, resolved from the container) to
    /// <see cref="RpcOptions.ServerInterceptors"/>: it runs around every request the container's servers handle.
    /// </summary>
    public RpcGenBuilder AddRpcServerInterceptor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInterceptor>()
        where TInterceptor : class, IRpcServerInterceptor
    {
        Services.TryAddSingleton<TInterceptor>();
        Services.AddSingleton<Microsoft.Extensions.Options.IConfigureOptions<RpcOptions>>(static provider =>
            new Microsoft.Extensions.Options.ConfigureOptions<RpcOptions>(options => options.ServerInterceptors.Add(provider.GetRequiredService<TInterceptor>())));
        return this;
    }
}
