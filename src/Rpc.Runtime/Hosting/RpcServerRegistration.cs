using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace RpcGen.Hosting;

/// <summary>
/// One <c>AddRpcServer</c> or <c>AddRpcSubscriber</c> call: which service or events, on which connection, and how to
/// start serving it (a subscriber is a server of its subscription's queue).
/// </summary>
internal sealed class RpcServerRegistration
{
    private readonly Func<RpcConnection, IServiceScopeFactory, CancellationToken, Task<RpcServer>> _start;

    public RpcServerRegistration(RpcConnectionDefinition connection, Type serviceType, Type implementationType,
        Func<RpcConnection, IServiceScopeFactory, CancellationToken, Task<RpcServer>> start, RpcSubscription? subscription = null)
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

    public Task<RpcServer> StartAsync(RpcConnection connection, IServiceScopeFactory scopes, CancellationToken cancellationToken) =>
        _start(connection, scopes, cancellationToken);

    /// <summary>
    /// Serves <typeparamref name="TService"/> with a <typeparamref name="TImplementation"/> resolved from a new DI
    /// scope for each call, disposed when the call has been answered: scoped dependencies (a DbContext) live one call.
    /// </summary>
    public static RpcServerRegistration Create<TService, TImplementation>(RpcConnectionDefinition connection)
        where TService : class
        where TImplementation : class, TService
    {
        return new RpcServerRegistration(connection, typeof(TService), typeof(TImplementation), (rpc, scopes, cancellationToken) =>
            rpc.ServePerCallAsync<TService>(async (dispatcher, call) =>
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
            }, cancellationToken));
    }

    /// <summary>
    /// Subscribes <typeparamref name="THandler"/> to <typeparamref name="TEvents"/>, resolved from a new DI scope for
    /// each event and disposed once it is handled, as servers do per call.
    /// </summary>
    public static RpcServerRegistration CreateSubscriber<TEvents, THandler>(RpcConnectionDefinition connection, RpcSubscription subscription)
        where TEvents : class
        where THandler : class, TEvents
    {
        return new RpcServerRegistration(connection, typeof(TEvents), typeof(THandler), (rpc, scopes, cancellationToken) =>
            rpc.SubscribePerEventAsync<TEvents>(async (dispatcher, call) =>
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
            }, subscription, cancellationToken), subscription);
    }
}
