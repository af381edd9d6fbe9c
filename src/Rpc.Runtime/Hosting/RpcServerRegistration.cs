using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace RpcGen.Hosting;

/// <summary>One <c>AddRpcServer</c> call: which service, on which connection, and how to start serving it.</summary>
internal sealed class RpcServerRegistration
{
    private readonly Func<RpcConnection, IServiceScopeFactory, CancellationToken, Task<RpcServer>> _start;

    public RpcServerRegistration(RpcConnectionDefinition connection, Type serviceType, Type implementationType,
        Func<RpcConnection, IServiceScopeFactory, CancellationToken, Task<RpcServer>> start)
    {
        Connection = connection;
        ServiceType = serviceType;
        ImplementationType = implementationType;
        _start = start;
    }

    public RpcConnectionDefinition Connection { get; }

    public Type ServiceType { get; }

    public Type ImplementationType { get; }

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
}
