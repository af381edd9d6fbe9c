using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace RpcGen.Hosting;

/// <summary>
/// One <c>AddRpcServer</c> or <c>AddRpcSubscriber</c> call: which service or events, on which connection, and how to
/// start serving it (a subscriber is a server of its subscription's queue).
/// </summary>
internal sealed class RpcServerRegistration
{
    private readonly Func<RpcConnection, IServiceProvider, CancellationToken, Task<RpcServer>> _start;

    public RpcServerRegistration(RpcConnectionDefinition connection, Type serviceType, Type implementationType,
        Func<RpcConnection, IServiceProvider, CancellationToken, Task<RpcServer>> start, RpcSubscription? subscription = null)
    {
        Subscription = subscription;
        Connection = connection;
        ServiceType = serviceType;
        ImplementationType = implementationType;
        _start = start;
    }

    public RpcConnectionDefinition Connection { get; }

    public Type ServiceType { get; }

    public Type ImplementationType { get; }

    /// <summary>Set for an <c>AddRpcSubscriber</c> registration: where its events come from.</summary>
    public RpcSubscription? Subscription { get; }

    public Task<RpcServer> StartAsync(RpcConnection connection, IServiceProvider services, CancellationToken cancellationToken) =>
        _start(connection, services, cancellationToken);

    /// <summary>
    /// Serves <typeparamref name="TService"/> with a <typeparamref name="TImplementation"/> resolved from a new DI
    /// scope for each call, disposed when the call has been answered: scoped dependencies (a DbContext) live one call.
    /// </summary>
    public static RpcServerRegistration Create<TService, TImplementation>(RpcConnectionDefinition connection, Action<RpcServerOptions>? configure)
        where TService : class
        where TImplementation : class, TService
    {
        return new RpcServerRegistration(connection, typeof(TService), typeof(TImplementation), (rpc, services, cancellationToken) =>
        {
            var scopes = services.GetRequiredService<IServiceScopeFactory>();
            return rpc.ServePerCallAsync<TService>(async (dispatcher, call) =>
            {
                var scope = scopes.CreateAsyncScope();
                try
                {
                    await dispatcher.InvokeAsync(scope.ServiceProvider.GetRequiredService<TImplementation>(), call).ConfigureAwait(false);
                }
                finally
                {
                    await scope.DisposeAsync().ConfigureAwait(false);
                }
            }, ServerOptions<TService>(connection, services, configure), cancellationToken);
        });
    }

    /// <summary>
    /// Subscribes <typeparamref name="THandler"/> to <typeparamref name="TEvents"/>, resolved from a new DI scope for
    /// each event and disposed once it is handled, as servers do per call.
    /// </summary>
    public static RpcServerRegistration CreateSubscriber<TEvents, THandler>(RpcConnectionDefinition connection, RpcSubscription subscription,
        Action<RpcServerOptions>? configure)
        where TEvents : class
        where THandler : class, TEvents
    {
        return new RpcServerRegistration(connection, typeof(TEvents), typeof(THandler), (rpc, services, cancellationToken) =>
        {
            var scopes = services.GetRequiredService<IServiceScopeFactory>();
            return rpc.SubscribePerEventAsync<TEvents>(async (dispatcher, call) =>
            {
                var scope = scopes.CreateAsyncScope();
                try
                {
                    await dispatcher.InvokeAsync(scope.ServiceProvider.GetRequiredService<THandler>(), call).ConfigureAwait(false);
                }
                finally
                {
                    await scope.DisposeAsync().ConfigureAwait(false);
                }
            }, subscription, ServerOptions<TEvents>(connection, services, configure), cancellationToken);
        }, subscription);
    }

    /// <summary>
    /// A server's own options: the connection's defaults, then the section <c>Servers:{ServiceName}</c> of the
    /// connection's configuration, then the registration's code.
    /// </summary>
    private static Action<RpcServerOptions> ServerOptions<TService>(RpcConnectionDefinition connection, IServiceProvider services,
        Action<RpcServerOptions>? configure) where TService : class
    {
        var configuration = services.GetService<IConfiguration>();
        return options =>
        {
            if (configuration is not null)
            {
                var service = RpcServiceRegistry.Get<TService>().Descriptor.Name;
                RpcOptionsBinder.BindServer(configuration.GetSection(connection.SectionPath), service, options);
            }

            configure?.Invoke(options);
        };
    }
}
